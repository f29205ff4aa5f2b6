import crypto from 'node:crypto'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Shoal } from '../../src/node/shoal.js'

/** Every file and folder under `root` with its mode and (for files) a sha256 of its bytes, sorted by path. */
export function snapshotTree (root: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!fs.existsSync(root)) return out
  const walk = (p: string): void => {
    const st = fs.lstatSync(p)
    const rel = path.relative(root, p) || '.'
    if (st.isDirectory()) {
      out[rel] = `dir ${(st.mode & 0o777).toString(8)}`
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n))
    } else if (st.isFile()) {
      out[rel] = `file ${(st.mode & 0o777).toString(8)} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`
    } else {
      out[rel] = `other ${(st.mode & 0o777).toString(8)}`
    }
  }
  walk(root)
  return out
}

/** Paths under `root` (relative) whose mode is not owner-only (0700 folders, 0600 files). */
export function notOwnerOnly (root: string): string[] {
  const bad: string[] = []
  for (const [rel, desc] of Object.entries(snapshotTree(root))) {
    const [kind, mode] = desc.split(' ')
    if ((kind === 'dir' && mode !== '700') || (kind === 'file' && mode !== '600')) bad.push(`${rel} ${mode}`)
  }
  return bad
}

/** Folders and files (relative paths) under `root` matching a test. */
export function findFiles (root: string, test: (name: string) => boolean): string[] {
  return Object.keys(snapshotTree(root)).filter((rel) => test(path.basename(rel)))
}

/**
 * A fresh `size` tmpfs (e.g. '24m', owner-only) mounted in the test's temporary folder and
 * unmounted at teardown, or null (with a comment saying why) when this process cannot mount.
 */
export async function tmpfsMount (t: { tmp: () => Promise<string>, comment: (m: string) => void, teardown: (fn: () => void, o?: { order?: number }) => void }, size: string): Promise<string | null> {
  const mnt = path.join(await t.tmp(), 'mnt')
  fs.mkdirSync(mnt)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mnt], { stdio: 'pipe' })
  } catch (err) {
    t.comment(`skipped: cannot mount a tmpfs here (${String((err as Error).message).split('\n')[0]}); needs root`)
    return null
  }
  t.teardown(() => { execFileSync('umount', ['-l', mnt]) }, { order: 2 })
  return mnt
}

/** Appends to `file` until the disk holding it is full (ENOSPC): in 1 MiB, then 4 KiB, then 1-byte writes. */
export function fillDisk (file: string): void {
  for (const size of [1024 * 1024, 4096, 1]) {
    const fd = fs.openSync(file, 'a')
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(size))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
    } finally {
      fs.closeSync(fd)
    }
  }
}

/**
 * A node on a 24 MiB tmpfs of its own (in folder `folder`, named `name` when given), closed at
 * teardown before the unmount; `fill` is the file fillDisk fills the disk with. Null when no tmpfs
 * can be mounted (not root: tmpfsMount says why).
 */
export async function nodeOnSmallDisk (t: Parameters<typeof tmpfsMount>[0], opts: { name?: string, folder?: string } = {}): Promise<{ mnt: string, fill: string, dir: string, shoal: Shoal } | null> {
  const mnt = await tmpfsMount(t, '24m')
  if (mnt === null) return null
  const dir = path.join(mnt, opts.folder ?? 'store')
  const { shoal } = await Shoal.init(dir, opts.name === undefined ? {} : { name: opts.name })
  t.teardown(() => shoal.close(), { order: 1 })
  return { mnt, fill: path.join(mnt, 'fill'), dir, shoal }
}
