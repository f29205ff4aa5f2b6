/**
 * Child process of `npm run bench`'s index-cost phase: runs the phase (index-cost.ts) in a fresh
 * process, so what the publish phase left in the bench's heap does not weigh on one shape's rounds
 * more than another's. Its folders go under `dir`, which the parent removes.
 */
import { childLog, childMain } from './child.js'
import { indexCost, type IndexCost } from './index-cost.js'
import { TmpDirs } from './tmp-dirs.js'

export interface IndexCostInput { dir: string, records: number, rounds: number }

childMain<IndexCostInput, IndexCost>(async ({ dir, records, rounds }) => {
  const tmp = new TmpDirs(dir)
  return await indexCost((label) => tmp.make(label), { records, rounds, log: childLog('index cost child') })
})
