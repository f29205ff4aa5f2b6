/**
 * The on-disk layout of a storage folder, in one place, its permissions, and the identity seed file.
 *
 *   <storage>/identity   the 32-byte identity seed, hex, mode 0600 (owner only)
 *   <storage>/state/     RocksDB of primary node state (tracked feeds, my device feed and its length)
 *   <storage>/cores/     the Corestore: this device's feed (and its key pair) and every replicated feed
 *   <storage>/views/     RocksDB of derived views; local only, never served to peers, rebuildable
 *   <storage>/shoal.sock the local socket of a running `shoal serve` (owner only); when that path
 *                        is too long for a unix socket, a short one under $XDG_RUNTIME_DIR or the
 *                        temp folder instead (see socketPath)
 *
 * Everything in the folder is owner-only: folders 0700, files 0600, checked and fixed on every open.
 */
import fs from '#fs'
import path from '#path'
import process from '#process'
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { SEED_BYTES } from '../feeds/identity.js'
import sodium from 'sodium-universal'
import { MAX_SOCKET_PATH, fitsSocketPath, socketPath, uid } from './socket-path.js'

export { fitsSocketPath, resolveStorage } from './socket-path.js'

export interface StoragePaths { root: string, identity: string, state: string, cores: string, views: string, socket: string }

export function storagePaths (root: string, env: NodeJS.ProcessEnv = process.env): StoragePaths {
  return {
    root,
    identity: path.join(root, 'identity'),
    state: path.join(root, 'state'),
    cores: path.join(root, 'cores'),
    views: path.join(root, 'views'),
    socket: socketPath(root, sha256, env)
  }
}

/** Fails at once (STORAGE_ERROR) when a socket path would not fit a unix socket address. */
export function checkSocketPath (socket: string): void {
  if (!fitsSocketPath(socket)) {
    throw ShoalError.STORAGE_ERROR(`the socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes; set XDG_RUNTIME_DIR (or TMPDIR) to a short folder`)
  }
}

/** Creates (0700) or checks the owner-only folder that holds a socket outside the storage folder. */
export async function secureSocketDir (socket: string): Promise<void> {
  const dir = path.dirname(socket)
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw ShoalError.STORAGE_ERROR(`${dir} is not a folder (a file is in its place or on its path)`, err)
    throw storageFault(`cannot create ${dir}`, err)
  }
  const st = await fs.lstat(dir)
  if (!st.isDirectory()) throw ShoalError.STORAGE_INSECURE(`${dir} is not a folder`)
  if (st.uid !== uid()) throw ShoalError.STORAGE_INSECURE(`${dir} belongs to another user (uid ${st.uid}); remove it or set XDG_RUNTIME_DIR`)
  if ((st.mode & 0o022) !== 0) throw ShoalError.STORAGE_INSECURE(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}); run "chmod 700 ${dir}"`)
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700)
}

/**
 * Makes every file this process creates from now on owner-only, whatever the umask was (RocksDB
 * and Corestore create files with the process umask). Process-wide; a no-op where the umask cannot
 * be set (worker threads, Bare), where secureStorage's fix-up pass and the 0700 folder still apply.
 */
export function ownerOnlyUmask (): void {
  if (!hasUmask()) return // Bare has no umask
  try {
    process.umask(process.umask() | 0o077)
  } catch {
    // Worker threads cannot change the umask; secureStorage still fixes the modes on open.
  }
}

/** Whether this runtime has a process umask (Node's main thread); Bare has none. */
export function hasUmask (): boolean {
  return typeof process.umask === 'function'
}

/**
 * Creates the storage folder owner-only, or checks and fixes an existing one: every folder under
 * it 0700 and every file 0600. Refuses (STORAGE_INSECURE) a folder that another user owns or could
 * have written to (group- or world-writable), or anything inside that another user owns. With
 * `fix: false` it changes nothing (no folder made, no mode fixed); resolves false when it would have.
 */
export async function secureStorage (root: string, opts: { fix?: boolean } = {}): Promise<boolean> {
  ownerOnlyUmask()
  const fix = opts.fix !== false
  let st
  try {
    st = await fs.lstat(root)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storageFault(`cannot read ${root}`, err)
    if (!fix) return false
    await mkdirOwnerOnly(root)
    return true
  }
  if (!st.isDirectory()) throw ShoalError.STORAGE_ERROR(`${root} is not a folder`)
  if (uid() !== -1 && st.uid !== uid()) throw ShoalError.STORAGE_INSECURE(`${root} belongs to another user (uid ${st.uid}); use a folder of your own`)
  if ((st.mode & 0o022) !== 0) {
    throw ShoalError.STORAGE_INSECURE(`${root} is writable by other users (mode ${(st.mode & 0o777).toString(8)}), so its contents cannot be trusted; ` +
      `check them, then run "chmod 700 ${root}" (or use a new folder)`)
  }
  const wrong: string[] = []
  await fixModes(root, st.mode, fix ? null : wrong)
  return wrong.length === 0
}

async function mkdirOwnerOnly (dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
    await fs.chmod(dir, 0o700) // mkdir's mode is filtered by the umask of whoever ran before us
  } catch (err) {
    throw storageFault(`cannot create ${dir}`, err)
  }
}

/** Makes `p` and everything under it owner-only; with `wrong`, lists what is not instead of changing it. */
async function fixModes (p: string, mode: number, wrong: string[] | null): Promise<void> {
  const dir = (mode & 0o170000) === 0o040000
  const want = dir ? 0o700 : 0o600
  if ((mode & 0o777) !== want && wrong !== null) wrong.push(p)
  else if ((mode & 0o777) !== want) {
    try {
      await fs.chmod(p, want)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // removed meanwhile (a running browser's cache)
      throw storageFault(`cannot make ${p} owner-only`, err)
    }
  }
  if (!dir) return
  let entries
  try {
    entries = await fs.readdir(p)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw storageFault(`cannot read ${p}`, err)
  }
  // Siblings are checked side by side (one file-system round trip per level, not per file); the
  // first refusal or failure is what the open reports.
  await Promise.all(entries.map(async (name) => {
    const child = path.join(p, name)
    let st
    try {
      st = await fs.lstat(child)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // removed meanwhile (a RocksDB LOG rotation)
      throw storageFault(`cannot read ${child}`, err)
    }
    if (uid() !== -1 && st.uid !== uid()) throw ShoalError.STORAGE_INSECURE(`${child} belongs to another user (uid ${st.uid}); someone else wrote into this storage folder`)
    // Links are neither followed nor changed (the desktop browser profile keeps its Singleton*
    // links there); sockets are the serving node's, 0600 already (ipc.ts).
    if (st.isSymbolicLink() || st.isSocket()) return
    await fixModes(child, st.mode, wrong)
  }))
}

/**
 * Removes RocksDB's rotated info logs (`LOG.old.*`) in a database folder: RocksDB keeps one per
 * open, and rocksdb-native does not expose the info-log options.
 */
export async function pruneRocksLogs (dir: string): Promise<void> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return // no database there yet
  }
  for (const n of names) if (n.startsWith('LOG.old.')) await fs.rm(path.join(dir, n), { force: true })
}

/**
 * A coded error for a database that does not open: STORAGE_LOCKED when another process holds its
 * LOCK file; NO_SPACE when the disk holding `root` is full (a database made or opened on a full
 * disk fails with what looks like damage: a CURRENT or MANIFEST it could not finish writing);
 * STORAGE_DAMAGED (with `damaged`, what to do about it) when its files are corrupt or missing;
 * else as storageFault.
 */
export async function openFault (root: string, msg: string, err: unknown, damaged?: string): Promise<ShoalError> {
  if (err instanceof ShoalError) return err
  const detail = String((err as Error)?.message ?? err)
  // Not /lock/: RocksDB's corruption messages say "block checksum mismatch".
  if (/While lock file|\bLOCK\b.*(temporarily unavailable|already held)|lock hold by current process|could not be locked/i.test(detail)) {
    return ShoalError.STORAGE_LOCKED(`${root} is in use by another Shoal process`, err)
  }
  if (isNoSpace(err) || await lowOnSpace(root)) return ShoalError.NO_SPACE(`${msg}: no space left on the device; free some space and try again`, err)
  if (damaged !== undefined && isDamage(err)) return ShoalError.STORAGE_DAMAGED(`${msg}: it is damaged (${detail}). ${damaged}`, err)
  return storageFault(msg, err)
}

/**
 * True for a database whose files are corrupt, truncated or missing (RocksDB's Corruption and
 * missing-file errors, a file where its folder should be), as opposed to a lock, a full disk or
 * a permission problem.
 */
export function isDamage (err: unknown): boolean {
  const detail = String((err as Error)?.message ?? err)
  return /corrupt|malformed|checksum|does not exist \(create_if_missing is false\)|not a directory|is a directory|CURRENT file|MANIFEST|No such file or directory|truncated|magic number|bad (magic|table)|while decoding|existing log file/i.test(detail)
}

/** A coded error for a failed file operation: NO_SPACE when the disk (or quota) is full. */
export function storageFault (msg: string, err: unknown): ShoalError {
  if (err instanceof ShoalError) return err
  if (isNoSpace(err)) return ShoalError.NO_SPACE(`${msg}: no space left on the device; free some space and try again`, err)
  const detail = err instanceof Error ? err.message : String(err)
  if (/EROFS|read-only file system/i.test(detail)) {
    return ShoalError.STORAGE_ERROR(`${msg}: the storage folder is on a read-only file system (${detail}); Shoal writes to it on every run: remount it read-write or use another --storage`, err)
  }
  return ShoalError.STORAGE_ERROR(`${msg}: ${detail}`, err)
}

/** Below this much free space, a failed write is reported as NO_SPACE (RocksDB's own error often hides ENOSPC). */
const LOW_SPACE = 1024 * 1024

/**
 * Like storageFault, but also asks the file system: RocksDB reports a write that failed for lack
 * of space as "Batch was not applied", so a failure with (almost) no free space left is NO_SPACE.
 */
export async function writeFault (root: string, msg: string, err: unknown): Promise<ShoalError> {
  if (err instanceof ShoalError) return err
  if (!isNoSpace(err) && await lowOnSpace(root)) return ShoalError.NO_SPACE(`${msg}: no space left on the device; free some space and try again`, err)
  return storageFault(msg, err)
}

/** Whether the file system holding `root` has (almost) no space left for an unprivileged writer. */
export async function lowOnSpace (root: string): Promise<boolean> {
  // A folder not made yet (or removed after a failed init) is on the file system of its nearest parent.
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    try {
      const st = await fs.statfs(dir)
      return st.bavail * st.bsize < LOW_SPACE
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(dir) === dir) return false // cannot tell: let the write itself report what is wrong
    }
  }
}

/** True for ENOSPC/EDQUOT, from Node's fs or from RocksDB ("No space left on device"). */
export function isNoSpace (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return true
  return /no space left|ENOSPC|quota exceeded/i.test(String(e.message))
}

async function exists (p: string): Promise<boolean> {
  try {
    await fs.lstat(p)
    return true
  } catch {
    return false // absent (or unreachable, which opening it then reports)
  }
}

export async function hasIdentity (root: string): Promise<boolean> {
  try {
    await fs.access(storagePaths(root).identity)
    return true
  } catch {
    return false // absent (or unreadable, which readSeed then reports)
  }
}

export async function readSeed (root: string): Promise<Uint8Array> {
  let text: string
  try {
    text = await fs.readFile(storagePaths(root).identity, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const p = storagePaths(root)
      if (await exists(p.cores) || await exists(p.state)) {
        // Still NO_IDENTITY (the app then offers init and restore), but not "run init": a new identity cannot open these feeds.
        throw ShoalError.NO_IDENTITY(`the identity file ${p.identity} is missing, but ${root} holds a node's feeds and state: ` +
          'put the file back from a backup, or restore it from the recovery phrase with "shoal init --restore PHRASE"')
      }
      throw ShoalError.NO_IDENTITY(`no identity in ${root}; run "shoal init" first`)
    }
    throw storageFault(`cannot read the identity in ${root}`, err)
  }
  const seed = b4a.from(text.trim(), 'hex')
  if (seed.byteLength !== SEED_BYTES) throw ShoalError.STORAGE_ERROR(`identity file in ${root} is corrupt`)
  return seed
}

/** Writes the seed exclusively: fails with IDENTITY_EXISTS rather than replace one. */
export async function writeSeed (root: string, seed: Uint8Array): Promise<void> {
  await secureStorage(root)
  const file = storagePaths(root).identity
  let fh
  try {
    fh = await fs.open(file, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw ShoalError.IDENTITY_EXISTS(`${root} already has an identity`)
    throw storageFault(`cannot write the identity in ${root}`, err)
  }
  try {
    await writeAll(fh, b4a.from(b4a.toString(seed, 'hex') + '\n'))
    await fh.sync()
  } catch (err) {
    await fh.close()
    await fs.rm(file, { force: true }) // a partly written seed must not pass for an identity
    throw storageFault(`cannot write the identity in ${root}`, err)
  }
  await fh.close()
}

/** Writes all of `data` at the start of a fresh file (bare-fs's FileHandle has no writeFile). */
async function writeAll (fh: { write (b: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> }, data: Uint8Array): Promise<void> {
  let done = 0
  while (done < data.byteLength) {
    const { bytesWritten } = await fh.write(data, done, data.byteLength - done, done)
    if (bytesWritten <= 0) throw ShoalError.STORAGE_ERROR('a write made no progress')
    done += bytesWritten
  }
}

/** SHA-256 by sodium (the thin CLI client computes the same with node:crypto). */
function sha256 (data: Uint8Array): Uint8Array {
  const out = b4a.alloc(32)
  sodium.crypto_hash_sha256(out, data)
  return out
}
