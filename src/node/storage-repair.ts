/**
 * Undoing and setting aside storage: what a failed `init` created is removed again, and a damaged
 * (derived) views folder is moved out of the way so a fresh one can be built from the feeds.
 */
import fs from '#fs'
import path from '#path'
import { ShoalError } from '../errors.js'
import { storageFault, storagePaths } from './storage.js'

/** The paths `init` may create that did not exist before it ran. */
export interface Created { paths: string[] }

export async function snapshotCreated (root: string): Promise<Created> {
  const p = storagePaths(root)
  const missing: string[] = []
  // The storage folder and any missing parents (mkdir -p makes them): the outermost comes first.
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    const st = await statOrNull(dir)
    if (st !== null) {
      if (!st.isDirectory()) throw ShoalError.STORAGE_ERROR(`${dir} is not a folder, so it cannot hold the storage folder ${root}`)
      break
    }
    missing.unshift(dir)
    if (path.dirname(dir) === dir) break
  }
  for (const c of [p.identity, p.state, p.cores, p.views]) if (!(await pathExists(c))) missing.push(c)
  return { paths: missing }
}

async function statOrNull (p: string): Promise<{ isDirectory: () => boolean } | null> {
  try {
    return await fs.stat(p) // follows links: a link to a folder is a folder here
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null // ENOTDIR: a parent is a file, found further up
    throw storageFault(`cannot read ${p}`, err)
  }
}

/** Removes what a failed `init` created (children before the root). */
export async function removeCreated (created: Created): Promise<void> {
  for (const p of [...created.paths].reverse()) await fs.rm(p, { recursive: true, force: true })
}

/**
 * Moves a damaged views folder (or a file in its place) to `<path>.damaged`, replacing an older
 * one there, so damaged copies never pile up.
 */
export async function quarantineFolder (dir: string): Promise<void> {
  const aside = `${dir}.damaged`
  try {
    await fs.rm(aside, { recursive: true, force: true })
    if (await pathExists(dir)) await fs.rename(dir, aside)
  } catch (err) {
    throw storageFault(`cannot move the damaged ${path.basename(dir)} folder aside`, err)
  }
}

/** Whether anything (a file, folder or link) is at `p`. */
export async function pathExists (p: string): Promise<boolean> {
  try {
    await fs.lstat(p)
    return true
  } catch {
    return false // absent (or unreachable, which opening it then reports)
  }
}
