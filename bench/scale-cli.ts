/**
 * Scale mode, CLI rows: one-shot `shoal whoami` / `shoal feed` wall times (a fresh process each),
 * and the thin client through a running `shoal serve` against `node -e 0`.
 */
import { execFile, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from './stats.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/shoal.js')

function runOnce (args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env } }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')}: ${stderr || err.message}`))
      else resolve(performance.now() - start)
    })
  })
}

/** Median wall time (ms) of `runs` fresh `shoal ARGS` processes on `storage`. */
export async function cliWall (storage: string, args: string[], runs: number, env: NodeJS.ProcessEnv = {}): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < runs; i++) out.push(await runOnce([BIN, ...args], { SHOAL_STORAGE: storage, SHOAL_BOOTSTRAP: 'none', ...env }))
  return out
}

/** Wall times of `node -e 0`, the floor of any CLI call. */
export async function nodeFloor (runs: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < runs; i++) out.push(await runOnce(['-e', '0'], {}))
  return out
}

export interface ThinClient { nodeMs: number[], whoamiMs: number[], feedMs: number[], ratio: number }

/**
 * Starts a private DHT (`shoal dht`, loopback only) and `shoal serve` on `storage`, then times
 * CLI calls that go through its socket against `node -e 0`, interleaved.
 */
export async function thinClient (storage: string, runs: number): Promise<ThinClient> {
  const dht = spawn(process.execPath, [BIN, 'dht', '--json', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let serve: ReturnType<typeof spawn> | null = null
  try {
    const bootstrap = JSON.parse(await firstLine(dht)).bootstrap as string
    const env = { SHOAL_STORAGE: storage, SHOAL_BOOTSTRAP: bootstrap }
    serve = spawn(process.execPath, [BIN, 'serve', '--json', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    await firstLine(serve)
    const nodeMs: number[] = []
    const whoamiMs: number[] = []
    const feedMs: number[] = []
    for (let i = 0; i < runs; i++) {
      nodeMs.push(await runOnce(['-e', '0'], {}))
      whoamiMs.push(await runOnce([BIN, 'whoami', '--json'], env))
      feedMs.push(await runOnce([BIN, 'feed', '--json'], env))
    }
    return { nodeMs, whoamiMs, feedMs, ratio: median(whoamiMs) / median(nodeMs) }
  } finally {
    if (serve !== null) await stop(serve)
    await stop(dht)
  }
}

function firstLine (child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const onData = (d: Buffer): void => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      child.stdout?.off('data', onData)
      resolve(buf.slice(0, nl))
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before its ready line`)))
  })
}

function stop (child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGINT')
  })
}
