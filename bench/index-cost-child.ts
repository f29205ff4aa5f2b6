/**
 * Child process of `npm run bench`'s index-cost phase: runs the phase (index-cost.ts) in a fresh
 * process, so what the publish phase left in the bench's heap does not weigh on one shape's rounds
 * more than another's. Its folders go under `dir`, which the parent removes.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { childMain } from './child.js'
import { indexCost, type IndexCost } from './index-cost.js'

export interface IndexCostInput { dir: string, records: number, rounds: number }

function log (msg: string): void {
  process.stderr.write(`[index cost child ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

childMain<IndexCostInput, IndexCost>(async ({ dir, records, rounds }) => {
  let n = 0
  const makeDir = async (label: string): Promise<string> => {
    const d = path.join(dir, `${++n}-${label}`)
    await fs.mkdir(d)
    return d
  }
  return await indexCost(makeDir, { records, rounds, log })
})
