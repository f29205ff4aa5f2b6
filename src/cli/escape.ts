/**
 * Terminal-safe text. Peer data (names, posts, reactions) must not drive the reader's terminal:
 * C0 and C1 control characters, DEL, bidi embeddings, overrides, isolates and marks, and the
 * Unicode line and paragraph separators are shown as visible escapes (`\x1b`, `\u202e`). `--json`
 * output is not escaped: JSON keeps every character exact.
 */

// C0 but \t and \n, DEL, C1, LRM/RLM/ALM, LS/PS, LRE..RLO, LRI..PDI.
const UNSAFE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

function visible (ch: string): string {
  const n = ch.charCodeAt(0)
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
}

/** Multi-line text (a post body, a whole rendering): keeps newlines and tabs, escapes the rest. */
export function escapeText (s: string): string {
  return s.replace(UNSAFE_TEXT, visible)
}

/** A one-line field (a name, a content warning, an emoji): newlines and tabs are escaped too. */
export function escapeLine (s: string): string {
  return s.replace(UNSAFE_LINE, visible)
}
