const encoder = new TextEncoder()

/** The UTF-8 size of `text` in bytes: what the node's caps count (not characters). */
export function utf8Length (text: string): number {
  return encoder.encode(text).byteLength
}

/** "used / limit bytes" under a text field; turns red and is announced once over the limit. */
export function ByteCounter ({ used, limit, testId }: { used: number, limit: number, testId?: string }) {
  const over = used > limit
  if (!over && used < limit * 0.8) return null
  return (
    <span className={over ? 'byte-counter over' : 'byte-counter'} data-testid={testId} role={over ? 'alert' : undefined}>
      {used.toLocaleString()} / {limit.toLocaleString()} bytes{over ? ' — too long to post' : ''}
    </span>
  )
}
