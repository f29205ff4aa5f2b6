/**
 * Where a storage folder is and where the socket of the node serving it listens: the part of the
 * storage layout the thin CLI client needs, with no dependency beyond Node built-ins (the rest of
 * the layout is in storage.ts, which re-exports these).
 */
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'

/** Longest unix socket path we bind (Linux allows 107 bytes, macOS 103). */
export const MAX_SOCKET_PATH = 100

/**
 * The socket of the node serving `root`: `<root>/shoal.sock` when that fits in a unix socket
 * address, else `<runtime>/shoal-<uid>/<hash of root>.sock` where runtime is $XDG_RUNTIME_DIR or
 * the temp folder (the same storage path always gives the same socket).
 */
export function socketPath (root: string, env: NodeJS.ProcessEnv = process.env): string {
  const inside = path.join(root, 'shoal.sock')
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside
  const hash = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 32)
  const runtime = env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? env.XDG_RUNTIME_DIR : os.tmpdir()
  return path.join(runtime, `shoal-${uid()}`, `${hash}.sock`)
}

/** Whether a socket path fits a unix socket address. */
export function fitsSocketPath (socket: string): boolean {
  return Buffer.byteLength(socket) <= MAX_SOCKET_PATH
}

/** `--storage DIR`, else `SHOAL_STORAGE`, else `~/.shoal`. */
export function resolveStorage (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.SHOAL_STORAGE || path.join(os.homedir(), '.shoal'))
}

/** This process's user id, -1 where there is none (Windows). */
export function uid (): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1
}
