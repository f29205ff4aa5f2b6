/**
 * Child process of `npm run bench`'s unreachable-follows phase: runs the phase
 * (unreachable-follows.ts) in a fresh process, as a user's node runs, so the measured node does not
 * share its heap and its collector with the bench's own data (the source feeds and every earlier
 * phase's results). Its folders go under `dir`, which the parent removes.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { childMain } from './child.js'
import { unreachableFollows, type UnreachableFollowsRun } from './unreachable-follows.js'

export interface FollowsInput { dir: string, unreachable: number, rounds: number, cliRounds: number, timeoutMs: number }

function log (msg: string): void {
  process.stderr.write(`[follows child ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

childMain<FollowsInput, UnreachableFollowsRun>(async ({ dir, unreachable, rounds, cliRounds, timeoutMs }) => {
  let n = 0
  const makeDir = async (label: string): Promise<string> => {
    const d = path.join(dir, `${++n}-${label}`)
    await fs.mkdir(d)
    return d
  }
  return await unreachableFollows({ unreachable, rounds, cliRounds, timeoutMs, makeDir, log })
})
