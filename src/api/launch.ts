/**
 * Single-use launch codes: how a window Shoal opens gets the token without the token, or anything
 * that can be traded for it, ever appearing where another local user can read it.
 *
 * `shoal desktop` writes a launch page into an owner-only folder (0700, checked to be ours and not
 * a symlink; the page itself 0600, created exclusively) and starts the browser on its `file://`
 * address. Only that path is on the browser's command line (readable by every user in /proc);
 * the code is inside the page, which only the owner's processes can open. The page moves itself
 * to `http://127.0.0.1:PORT/#launch=CODE`, and the UI trades the code for the token once. The page
 * is deleted as soon as the code is traded, expires (two minutes) or the server closes.
 */
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'

/** How long a launch code (and its page) lives unused, ms. */
export const LAUNCH_TTL = 120_000

interface Entry { expires: number, file: string | null, timer: ReturnType<typeof setTimeout> }

/** A launch page on disk, for a browser to open. */
export interface LaunchPage {
  /** The page's `file://` address: all the browser's command line may hold. */
  url: string
  file: string
  /** Names this launch in the `redeemed` callback. */
  id: string
}

/** The server's live launch codes; `onRedeemed(id)` runs when one is traded. */
export class LaunchCodes {
  private readonly entries = new Map<string, Entry & { id: string }>()

  constructor (private readonly onRedeemed: (id: string) => void = () => {}) {}

  /** A code valid for LAUNCH_TTL ms, for tests and callers that keep it private themselves. */
  issue (file: string | null = null): { code: string, id: string } {
    const code = crypto.randomBytes(32).toString('base64url')
    const id = crypto.randomBytes(8).toString('hex')
    const timer = setTimeout(() => { this.drop(code).catch(safetyCatch) }, LAUNCH_TTL)
    timer.unref()
    this.entries.set(code, { expires: Date.now() + LAUNCH_TTL, file, timer, id })
    return { code, id }
  }

  /**
   * Writes a launch page for `origin` (`http://127.0.0.1:PORT`) into `dir` (made or tightened to
   * 0700; STORAGE_ERROR when it is a symlink, not a folder, or not ours).
   */
  async writePage (dir: string, origin: string): Promise<LaunchPage> {
    await ownerOnlyDir(dir)
    const file = path.join(dir, `launch-${crypto.randomBytes(12).toString('hex')}.html`)
    const { code, id } = this.issue(file)
    const target = `${origin}/#launch=${code}`
    const html = '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">' +
      `<meta http-equiv="refresh" content="0;url=${target}"><title>Shoal</title>` +
      `<script>location.replace(${JSON.stringify(target)})</script>`
    try {
      await fs.writeFile(file, html, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      this.drop(code).catch(safetyCatch)
      throw ShoalError.STORAGE_ERROR(`cannot write the launch page ${file}`, err)
    }
    return { url: pathToFileURL(file).href, file, id }
  }

  /** Trades a code once (its page is deleted first); false for an unknown, used or expired code. */
  async redeem (code: string): Promise<boolean> {
    const entry = this.entries.get(code)
    if (entry === undefined) return false
    await this.drop(code)
    if (entry.expires < Date.now()) return false
    this.onRedeemed(entry.id)
    return true
  }

  /** Forgets every code and deletes every launch page still on disk. */
  clear (): void {
    for (const code of [...this.entries.keys()]) this.drop(code).catch(safetyCatch)
  }

  /** Forgets `code` at once; resolves when its page is gone from disk. */
  private async drop (code: string): Promise<void> {
    const entry = this.entries.get(code)
    if (entry === undefined) return
    this.entries.delete(code)
    clearTimeout(entry.timer)
    if (entry.file === null) return
    try {
      await fs.rm(entry.file, { force: true })
    } catch {
      // an undeletable page in an owner-only folder holds a code that is already void
    }
  }
}

/** Makes `dir` an owner-only folder of this user, or fails; never follows a symlink at `dir`. */
export async function ownerOnlyDir (dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
    const st = await fs.lstat(dir)
    if (!st.isDirectory()) throw new Error('not a folder (or a symlink)')
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`owned by uid ${st.uid}`)
    if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700)
  } catch (err) {
    throw ShoalError.STORAGE_ERROR(`unsafe launch folder ${dir}: ${(err as Error).message}`, err)
  }
}
