/**
 * How the CLI prints: `--json` prints exactly one JSON document on stdout; failures print
 * `error: CODE: message` on stderr (and `{"error":{code,message}}` with --json) and give the exit
 * status. Shared by the thin client (main.ts) and the local path (local.ts).
 */
import { ShoalError, USAGE_CODES } from '../errors.js'
import type { Parsed } from './args.js'
import { escapeText } from './escape.js'

export interface Io {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: NodeJS.ProcessEnv
}

/** What a command prints: the JSON document and the text. */
export interface Printable { json: unknown, text: string }

/** Prints one result as JSON or as escaped text. */
export function print (io: Io, p: Parsed, r: Printable): void {
  io.stdout(p.json ? JSON.stringify(r.json) + '\n' : escapeText(r.text) + '\n')
}

/** Reports a failure; returns the exit status (2 for usage errors, else 1). */
export function fail (io: Io, json: boolean, err: unknown): number {
  const e = ShoalError.from(err)
  io.stderr(`error: ${escapeText(e.message)}\n`)
  if (json) io.stdout(JSON.stringify({ error: { code: e.code, message: e.detail } }) + '\n')
  if (!(err instanceof ShoalError) && io.env.SHOAL_DEBUG) io.stderr(String((err as Error)?.stack) + '\n')
  return USAGE_CODES.has(e.code) ? 2 : 1
}
