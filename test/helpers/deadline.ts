/** How long the state is read for before the error says it had no answer (ms). */
const STATE_MS = 5000

/**
 * Resolves as `work` does, or rejects after `ms` with an Error naming what was awaited and, from
 * `state()`, where things stood. A wait that never ends otherwise runs into the runner's 180 s
 * timeout and dies with no word of what it waited for.
 */
export async function deadline<T> (work: Promise<T>, ms: number, what: string, state: () => string | Promise<string> = () => ''): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      // The state is read within STATE_MS: a read that hangs must not hang the deadline too.
      let stateTimer: ReturnType<typeof setTimeout> | undefined
      const unread = new Promise<string>((resolve) => { stateTimer = setTimeout(() => resolve('(state unread: no answer)'), STATE_MS) })
      Promise.race([Promise.resolve().then(state), unread]).finally(() => clearTimeout(stateTimer)).then(
        (s) => reject(new Error(`still waiting after ${ms} ms for ${what}${s === '' ? '' : `: ${s}`}`)),
        (err) => reject(new Error(`still waiting after ${ms} ms for ${what} (state unreadable: ${String(err)})`))
      )
    }, ms)
  })
  late.catch(() => {}) // `work` may settle while state() is read: the race has ended, nobody awaits this
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}
