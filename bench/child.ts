/** Runs one bench phase in a fresh node process and returns what it reports over IPC. */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface ChildRun<T> { result: T, wallMs: number }

/** Forks `dist/bench/<name>.js` with `input` as JSON in argv[2]; resolves with its one message. */
export function runChild<T> (name: string, input: unknown): Promise<ChildRun<T>> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url))
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
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
  })
}

/** The child side: reads its input, runs `fn`, sends the result (or the error) and exits. */
export function childMain<I, T> (fn: (input: I) => Promise<T>): void {
  const input = JSON.parse(process.argv[2]) as I
  fn(input).then(
    (value) => process.send?.({ ok: true, value }, () => process.exit(0)),
    (err: Error) => process.send?.({ ok: false, error: err.stack ?? String(err) }, () => process.exit(1))
  )
}
