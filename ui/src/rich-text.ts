/**
 * Splits a post's text into plain runs, links and mentions. Only http and https URLs become
 * links; a mention is `@` and a 52-character identity id (what the node indexes as a mention).
 */
export type Segment =
  | { kind: 'text', text: string }
  | { kind: 'link', text: string, href: string }
  | { kind: 'mention', text: string, id: string }

// The mention pattern is the node's (MENTION in src/node/shoal.ts), so what shows as a mention is what was indexed as one.
const TOKEN = /(https?:\/\/[^\s<>"]+)|@([ybndrfg8ejkmcpqxot1uwisza345h769]{52})\b/g
/** Punctuation that usually ends a sentence rather than a URL. */
const TRAILING = /[.,;:!?)\]}'"»”’]+$/

export function segments (text: string): Segment[] {
  const out: Segment[] = []
  let at = 0
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index ?? 0
    let raw = m[0]
    if (m[1] !== undefined) {
      const trail = TRAILING.exec(raw)
      if (trail !== null) raw = raw.slice(0, raw.length - trail[0].length)
      const href = safeHref(raw)
      if (href === null) continue
      if (start > at) out.push({ kind: 'text', text: text.slice(at, start) })
      out.push({ kind: 'link', text: raw, href })
      at = start + raw.length
    } else {
      if (start > at) out.push({ kind: 'text', text: text.slice(at, start) })
      out.push({ kind: 'mention', text: raw, id: m[2] })
      at = start + raw.length
    }
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at) })
  return out
}

/** The URL when it parses as http(s), else null (never javascript:, data: and the like). */
export function safeHref (raw: string): string | null {
  try {
    const u = new URL(raw)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null
  } catch {
    return null // not a URL after all: stays plain text
  }
}
