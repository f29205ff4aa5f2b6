import { execFile, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/shoal.js')

export interface CliResult { code: number, stdout: string, stderr: string, json: any }

/** Runs `shoal ARGS` as a subprocess with its own storage and no DHT. */
export function shoal (storage: string | null, args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<CliResult> {
  return new Promise((resolve) => {
    const fullEnv: NodeJS.ProcessEnv = { ...process.env, SHOAL_BOOTSTRAP: 'none', ...env }
    if (storage !== null) fullEnv.SHOAL_STORAGE = storage
    else delete fullEnv.SHOAL_STORAGE
    const cmd = prefix.length > 0 ? prefix[0] : process.execPath
    const cmdArgs = prefix.length > 0 ? [...prefix.slice(1), process.execPath, BIN, ...args] : [BIN, ...args]
    execFile(cmd, cmdArgs, { env: fullEnv }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      let json: any = null
      try { json = JSON.parse(stdout) } catch { json = null } // not every invocation asks for --json
      resolve({ code, stdout, stderr, json })
    })
  })
}

export interface LongRunning {
  /** The first line the command printed on stdout (its ready line). */
  ready: Promise<string>
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  stop (signal?: NodeJS.Signals): Promise<number | null>
  stderr (): string
}

/** Starts a long-running `shoal ARGS` (serve, dht); killed at teardown if still running. */
export function spawnShoal (t: { teardown (fn: () => unknown, opts?: { order?: number }): void }, storage: string | null, args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): LongRunning {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, SHOAL_BOOTSTRAP: 'none', ...env }
  if (storage !== null) fullEnv.SHOAL_STORAGE = storage
  const cmd = prefix.length > 0 ? prefix[0] : process.execPath
  const cmdArgs = prefix.length > 0 ? [...prefix.slice(1), process.execPath, BIN, ...args] : [BIN, ...args]
  const child = spawn(cmd, cmdArgs, { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let resolveReady: (line: string) => void = () => {}
  let rejectReady: (e: Error) => void = () => {}
  const ready = new Promise<string>((resolve, reject) => { resolveReady = resolve; rejectReady = reject })
  ready.catch(() => {}) // observed by the caller; this only avoids an unhandled rejection
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    out += d
    const nl = out.indexOf('\n')
    if (nl !== -1) resolveReady(out.slice(0, nl))
  })
  child.stderr.on('data', (d: string) => { err += d })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    rejectReady(new Error(`exited (${code}) before it was ready: ${err}`))
    resolve(code)
  }))
  const stop = async (signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exited
  }
  t.teardown(() => stop('SIGKILL'), { order: -1 })
  return { ready, exited, stop, stderr: () => err }
}

/** A private loopback DHT run by `shoal dht` for this test (stopped at teardown), and its bootstrap. */
export async function cliDht (t: Parameters<typeof spawnShoal>[0]): Promise<{ dht: LongRunning, bootstrap: string }> {
  const dht = spawnShoal(t, null, ['dht', '--json'])
  return { dht, bootstrap: JSON.parse(await dht.ready).bootstrap as string }
}
