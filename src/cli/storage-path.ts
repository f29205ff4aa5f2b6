/**
 * The storage folder the CLI works on: `--storage`, `$SHOAL_STORAGE` or `~/.shoal` (resolveStorage)
 * with the symbolic links of its existing part resolved. So a storage folder that is a link (or
 * sits under one) opens like any folder, and a node served through one path is found through any
 * other: the socket of a long path is named after the path, which must be the same every time.
 */
import fs from 'node:fs'
import path from 'node:path'
import { resolveStorage } from '../node/socket-path.js'

/** The absolute, link-free storage folder for `--storage` (else the environment's). */
export function cliStorage (flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return realPrefix(resolveStorage(flag, env))
}

function realPrefix (p: string): string {
  try {
    return fs.realpathSync(p)
  } catch {
    // Not there yet (init makes it) or not reachable: resolve what exists above it.
    const parent = path.dirname(p)
    return parent === p ? p : path.join(realPrefix(parent), path.basename(p))
  }
}
