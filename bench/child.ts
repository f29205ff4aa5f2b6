/**
 * Runs one bench phase in a fresh node process and returns what it reports over IPC. The input
 * goes through a JSON file named in argv (not the JSON itself: 3,000 feed keys passed in argv
 * failed with E2BIG), in an owner-only temp folder removed when the child exits.
 */
import { fork } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ChildRun<T> { result: T, wallMs: number }

/**
 * Forks `dist/bench/<name>.js` with `input` written to a JSON file; resolves with its one message.
 * `extraArgs`: node flags added to this process's own (e.g. `--cpu-prof`).
 */
export function runChild<T> (name: string, input: unknown, extraArgs: string[] = []): Promise<ChildRun<T>> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-bench-input-'))
  const file = path.join(dir, 'input.json')
  fs.writeFileSync(file, JSON.stringify(input), { mode: 0o600 })
  const start = performance.now()
  return new Promise<ChildRun<T>>((resolve, reject) => {
    const child = fork(script, [file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...extraArgs] })
    let result: { ok: true, value: T } | null = null
    child.on('message', (m: { ok: boolean, value?: T, error?: string }) => {
      if (m.ok) result = { ok: true, value: m.value as T }
      else reject(new Error(`${name}: ${m.error}`))
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      const wallMs = performance.now() - start
      if (result !== null) resolve({ result: result.value, wallMs })
      else reject(new Error(`${name} exited with code ${code} without a result`))
    })
  }).finally(() => { fs.rmSync(dir, { recursive: true, force: true }) })
}

/** The child side: reads its input file, runs `fn`, sends the result (or the error) and exits. */
export function childMain<I, T> (fn: (input: I) => Promise<T>): void {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as I
  fn(input).then(
    (value) => process.send?.({ ok: true, value }, () => process.exit(0)),
    (err: Error) => process.send?.({ ok: false, error: err.stack ?? String(err) }, () => process.exit(1))
  )
}

/** A child's log line on stderr: `[name 12.3s] msg`, seconds since the child started. */
export function childLog (name: string): (msg: string) => void {
  return (msg) => process.stderr.write(`[${name} ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}
