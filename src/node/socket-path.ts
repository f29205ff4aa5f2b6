/**
 * Where a storage folder is and where the socket of the node serving it listens: the part of the
 * storage layout the thin CLI client needs (the rest of the layout is in storage.ts, which
 * re-exports these). Built-ins go through package.json `imports`, so this loads on Bare too, and
 * the SHA-256 is passed in, so the thin client need not load sodium.
 */
import fs from '#fs'
import os from '#os'
import path from '#path'
import process from '#process'
import b4a from 'b4a'

/** Longest unix socket path we bind (Linux allows 107 bytes, macOS 103). */
export const MAX_SOCKET_PATH = 100

/** SHA-256 of some bytes (32 bytes out). */
export type Sha256 = (data: Uint8Array) => Uint8Array

/**
 * The socket of the node serving `root`: `<root>/shoal.sock` when that fits in a unix socket
 * address, else `<runtime>/shoal-<uid>/<first 16 bytes of SHA-256(root), hex>.sock` where runtime
 * is $XDG_RUNTIME_DIR or the temp folder (the same storage path always gives the same socket).
 */
export function socketPath (root: string, sha256: Sha256, env: NodeJS.ProcessEnv = process.env): string {
  const inside = path.join(root, 'shoal.sock')
  if (fitsSocketPath(inside)) return inside
  const hash = b4a.toString(sha256(b4a.from(path.resolve(root))).subarray(0, 16), 'hex')
  const runtime = env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? env.XDG_RUNTIME_DIR : os.tmpdir()
  return path.join(runtime, `shoal-${uid()}`, `${hash}.sock`)
}

/** Whether a socket path fits a unix socket address. */
export function fitsSocketPath (socket: string): boolean {
  return b4a.byteLength(socket) <= MAX_SOCKET_PATH
}

/** `--storage DIR`, else `SHOAL_STORAGE`, else `~/.shoal`. */
export function resolveStorage (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.SHOAL_STORAGE || path.join(os.homedir(), '.shoal'))
}

/**
 * `root` (absolute) with the symbolic links of its existing part resolved: a storage folder that
 * is a link, or sits under one, opens like any folder, and a node served through one path is
 * found through any other (the socket of a long path is named after the path).
 */
export async function realStorage (root: string): Promise<string> {
  try {
    return await fs.realpath(root)
  } catch {
    // Not there yet (init makes it) or not reachable: resolve what exists above it.
    const parent = path.dirname(root)
    return parent === root ? root : path.join(await realStorage(parent), path.basename(root))
  }
}

/** This process's user id, -1 where there is none (Windows). */
export function uid (): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1
}
