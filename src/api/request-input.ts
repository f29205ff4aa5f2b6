/**
 * Total parsers for what a request carries (its target, its path, its body). Each returns a
 * value, null or a marker, or throws a coded ShoalError; nothing else escapes, whatever the input:
 * it is whatever any process, or any web page through an `<img src>`, chose to send to 127.0.0.1.
 */
import type { IncomingMessage } from 'node:http'
import { ShoalError } from '../errors.js'

/** The deepest JSON nesting any method needs is 2 (`{ params: { … } }`); far below V8's limits. */
export const MAX_JSON_DEPTH = 16

/**
 * The path of an origin-form request target (`/a/b?q`), still percent-encoded; null for any
 * other form (`*`, `http://host/…`), for a leading `//` (`//[`, `//x:99999/`: URL parsers read
 * a host there, and no path of ours has an empty first segment) or anything the URL parser
 * refuses. The target is appended to a fixed origin, so nothing in it is read as a host or port.
 */
export function targetPath (target: string | undefined): string | null {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return null
  try {
    return new URL('http://127.0.0.1' + target).pathname
  } catch {
    return null // not a valid path: the caller answers 400
  }
}

/** Percent-decodes a path; null for malformed escapes (`/%`, `/%zz`, `/%E0%A4%A`, `/%C0`) or a NUL. */
export function decodePath (pathname: string): string | null {
  let out: string
  try {
    out = decodeURIComponent(pathname)
  } catch {
    return null // malformed percent-encoding or not UTF-8: the caller answers 400
  }
  return out.includes('\0') ? null : out
}

/** How deeply `v` nests arrays and objects (0 for a scalar), counted without recursion, stopping past `max`. */
export function jsonDepth (v: unknown, max = MAX_JSON_DEPTH): number {
  let deepest = 0
  const stack: Array<{ v: unknown, d: number }> = [{ v, d: 0 }]
  while (stack.length > 0) {
    const { v: cur, d } = stack.pop() as { v: unknown, d: number }
    if (cur === null || typeof cur !== 'object') continue
    const depth = d + 1
    if (depth > deepest) deepest = depth
    if (deepest > max) return deepest
    for (const child of Object.values(cur)) stack.push({ v: child, d: depth })
  }
  return deepest
}

/**
 * Parses a request body (HTTP or one WebSocket message) into a JSON object; coded errors for
 * anything else: BAD_REQUEST for non-JSON, non-objects and nesting deeper than MAX_JSON_DEPTH.
 */
export function parseJsonObject (text: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', 'body is not JSON', { cause: err })
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw ShoalError.BAD_REQUEST('body must be a JSON object')
  if (jsonDepth(v) > MAX_JSON_DEPTH) throw ShoalError.BAD_REQUEST(`JSON nested deeper than ${MAX_JSON_DEPTH}`)
  return v as Record<string, unknown>
}

/** An optional boolean param (false when absent or null); BAD_REQUEST for any other type ("yes", 1). */
export function bool (p: Record<string, unknown>, name: string): boolean {
  const v = p[name]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw ShoalError.BAD_REQUEST(`${name} must be true or false`)
  return v
}

/** A short, safe description of any value for an error message (never serializes it whole). */
export function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? v.slice(0, 64) + '…' : v)
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : String(v)
}

/** readText's answers for a body over the limit, and for a client that left mid-body. */
export const TOO_LARGE = Symbol('too large')
export const ABORTED = Symbol('aborted')

/** The body as UTF-8 text; TOO_LARGE past `max` bytes (stops reading there), ABORTED when the client left. */
export async function readText (req: IncomingMessage, max: number): Promise<string | typeof TOO_LARGE | typeof ABORTED> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) return TOO_LARGE
  let size = 0
  const chunks: Buffer[] = []
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > max) return TOO_LARGE
      chunks.push(chunk as Buffer)
    }
  } catch {
    return ABORTED // the connection closed mid-body: there is no one to answer
  }
  return Buffer.concat(chunks).toString('utf8')
}
