/**
 * Child process of `npm run bench`'s unreachable-follows phase: runs the phase
 * (unreachable-follows.ts) in a fresh process, as a user's node runs, so the measured node does not
 * share its heap and its collector with the bench's own data (the source feeds and every earlier
 * phase's results). Its folders go under `dir`, which the parent removes.
 */
import { childLog, childMain } from './child.js'
import { TmpDirs } from './tmp-dirs.js'
import { unreachableFollows, type UnreachableFollowsRun } from './unreachable-follows.js'

export interface FollowsInput { dir: string, unreachable: number, rounds: number, cliRounds: number, timeoutMs: number }

childMain<FollowsInput, UnreachableFollowsRun>(async ({ dir, unreachable, rounds, cliRounds, timeoutMs }) => {
  const tmp = new TmpDirs(dir)
  return await unreachableFollows({ unreachable, rounds, cliRounds, timeoutMs, makeDir: (label) => tmp.make(label), log: childLog('follows child') })
})
