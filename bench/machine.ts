/** The machine and tree a run happened on, read at run time (nproc, free -g, node, git). */
import { execFileSync } from 'node:child_process'
import os from 'node:os'

export interface Machine {
  date: string
  nproc: number
  memTotalGiB: number
  free: string
  node: string
  platform: string
  cpu: string
  /** Git commit of the tree measured, and whether src/ had uncommitted changes. */
  revision: string
  /** 1, 5 and 15 minute load averages when read: other work on the machine skews latencies. */
  load: number[]
}

function tryExec (cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null // not installed here: fall back to what node:os reports
  }
}

export function readMachine (): Machine {
  const nproc = Number(tryExec('nproc', []) ?? os.availableParallelism())
  const free = tryExec('free', ['-g']) ?? `total ${Math.round(os.totalmem() / 2 ** 30)} GiB (free(1) unavailable)`
  return {
    date: new Date().toISOString(),
    nproc,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    free,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    revision: readRevision(),
    load: readLoad()
  }
}

function readRevision (): string {
  const head = tryExec('git', ['rev-parse', '--short', 'HEAD'])
  if (head === null) return 'unknown'
  const dirty = tryExec('git', ['status', '--porcelain', '--', 'src'])
  return dirty ? `${head} + uncommitted src changes` : head
}

export function readLoad (): number[] {
  return os.loadavg().map((n) => Math.round(n * 100) / 100)
}

/** The header every bench run prints: what it ran on. */
export function printMachine (machine: Machine): void {
  console.log(`date     ${machine.date}`)
  console.log(`machine  nproc=${machine.nproc}  ${machine.cpu}  ${machine.platform}`)
  console.log(`node     ${machine.node}`)
  console.log(`tree     ${machine.revision}`)
  console.log(`load     ${machine.load.join(' ')} (1/5/15 min)`)
  console.log(machine.free)
  console.log()
}
