/**
 * The `shoal` CLI as a user starts it, in a child process: `node bin/shoal.js ARGS`, with the time
 * its ready line (the first stdout line) arrived. Also the stand-in browser that `shoal desktop`
 * spawns (SHOAL_BROWSER): it records the `--app=` URL (the launch page) and stays open.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/shoal.js')

/** Wall-clock milliseconds with sub-ms precision: comparable with a page's timeOrigin + now(). */
export function epochNow (): number {
  return performance.timeOrigin + performance.now()
}

export interface ShoalProcess {
  child: ChildProcess
  /** When spawn() was called (epoch ms). */
  spawnedAt: number
  /** The ready line, and when it arrived (epoch ms). */
  ready: Promise<{ line: string, at: number }>
  stderr (): string
  /** SIGINT (a clean close), SIGKILL after `graceMs`; resolves with the exit code. */
  stop (graceMs?: number): Promise<number | null>
}

/**
 * Spawns `node bin/shoal.js ARGS`. `env` is layered over a copy of this process's environment
 * with DISPLAY, WAYLAND_DISPLAY and SHOAL_BROWSER removed, so nothing opens unless asked.
 */
export function spawnShoal (args: string[], env: Record<string, string>): ShoalProcess {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env }
  delete fullEnv.DISPLAY
  delete fullEnv.WAYLAND_DISPLAY
  delete fullEnv.SHOAL_BROWSER
  Object.assign(fullEnv, env)
  const spawnedAt = epochNow()
  const child = spawn(process.execPath, [BIN, ...args], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = new Promise<{ line: string, at: number }>((resolve, reject) => {
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (d: string) => {
      const had = out.includes('\n')
      out += d
      const nl = out.indexOf('\n')
      if (!had && nl !== -1) resolve({ line: out.slice(0, nl), at: epochNow() })
    })
    exited.then((code) => reject(new Error(`shoal ${args[0]} exited (${code}) before its ready line: ${err}`)), reject)
  })
  ready.catch(() => {}) // the caller awaits it; this only keeps an early exit from being unhandled
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => { err += d })
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
    const timer = setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL') }, graceMs)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }
  return { child, spawnedAt, ready, stderr: () => err, stop }
}

/**
 * Writes the stand-in browser to `dir` and returns its path and the file it writes. It is a
 * shell script: it saves its argv (one per line) to the file, then waits until it is killed, like
 * a window that stays open (`shoal desktop` stops when its window's process exits).
 */
export function writeFakeBrowser (dir: string): { bin: string, out: string } {
  const bin = path.join(dir, 'fake-browser.sh')
  const out = path.join(dir, 'browser-argv.txt')
  const script = [
    '#!/bin/sh',
    `printf '%s\\n' "$@" > ${JSON.stringify(out + '.tmp')}`,
    `mv ${JSON.stringify(out + '.tmp')} ${JSON.stringify(out)}`,
    'exec sleep 600',
    ''
  ].join('\n')
  fs.writeFileSync(bin, script, { mode: 0o755 })
  return { bin, out }
}

/** Polls for `file` (every `everyMs`); resolves with its text and when it was first seen (epoch ms). */
export async function waitForFile (file: string, timeoutMs: number, everyMs = 2): Promise<{ text: string, at: number }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const text = fs.readFileSync(file, 'utf8')
      return { text, at: epochNow() }
    } catch {
      // not written yet: the stand-in browser renames it into place when it is complete
    }
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
