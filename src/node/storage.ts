/**
 * The on-disk layout of a storage folder, in one place, and the identity seed file.
 *
 *   <storage>/identity   the 32-byte identity seed, hex, mode 0600 (owner only)
 *   <storage>/cores/     the Corestore: this device's feed and every replicated feed
 *   <storage>/views/     RocksDB of derived views; local only, never served to peers
 *   <storage>/shoal.sock the local socket of a running `shoal serve` (owner only)
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { SEED_BYTES } from '../feeds/identity.js'

export interface StoragePaths { root: string, identity: string, cores: string, views: string, socket: string }

export function storagePaths (root: string): StoragePaths {
  return {
    root,
    identity: path.join(root, 'identity'),
    cores: path.join(root, 'cores'),
    views: path.join(root, 'views'),
    socket: path.join(root, 'shoal.sock')
  }
}

/** `--storage DIR`, else `SHOAL_STORAGE`, else `~/.shoal`. */
export function resolveStorage (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.SHOAL_STORAGE || path.join(os.homedir(), '.shoal'))
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ShoalError.NO_IDENTITY(`no identity in ${root}; run "shoal init" first`)
    throw ShoalError.STORAGE_ERROR(`cannot read the identity in ${root}`, err)
  }
  const seed = b4a.from(text.trim(), 'hex')
  if (seed.byteLength !== SEED_BYTES) throw ShoalError.STORAGE_ERROR(`identity file in ${root} is corrupt`)
  return seed
}

/** Writes the seed exclusively: fails with IDENTITY_EXISTS rather than replace one. */
export async function writeSeed (root: string, seed: Uint8Array): Promise<void> {
  await fs.mkdir(root, { recursive: true, mode: 0o700 })
  let fh
  try {
    fh = await fs.open(storagePaths(root).identity, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw ShoalError.IDENTITY_EXISTS(`${root} already has an identity`)
    throw ShoalError.STORAGE_ERROR(`cannot write the identity in ${root}`, err)
  }
  try {
    await fh.writeFile(b4a.toString(seed, 'hex') + '\n')
    await fh.sync()
  } finally {
    await fh.close()
  }
}
