const encoder = new TextEncoder()

/** The UTF-8 size of `text` in bytes: what the node's caps count (not characters). */
export function utf8Length (text: string): number {
  return encoder.encode(text).byteLength
}

/** "used / limit bytes" under a text field, always shown; turns red and is announced once over the limit. */
export function ByteCounter ({ used, limit, testId }: { used: number, limit: number, testId?: string }) {
  const over = used > limit
  return (
    <span className={over ? 'byte-counter over' : 'byte-counter'} data-testid={testId} role={over ? 'alert' : undefined}
      title='Counted in bytes, as the network counts them: some letters and emoji take 2–4 bytes'>
      {used.toLocaleString()} / {limit.toLocaleString()} bytes{over ? ' — too long, shorten it' : ''}
    </span>
  )
}
