/** Temp folders for one bench run: all under one root in os.tmpdir(), removed together. */
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export class TmpDirs {
  private root: string | null = null
  private count = 0

  /** A new empty folder named after `label`. */
  async make (label: string): Promise<string> {
    if (this.root === null) this.root = await fs.mkdtemp(path.join(os.tmpdir(), 'shoal-bench-'))
    const dir = path.join(this.root, `${++this.count}-${label}`)
    await fs.mkdir(dir)
    return dir
  }

  /** Bytes on disk under `dir` (files only). */
  async size (dir: string): Promise<number> {
    let total = 0
    for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath, entry.name))).size
    }
    return total
  }

  async removeAll (): Promise<void> {
    if (this.root === null) return
    await fs.rm(this.root, { recursive: true, force: true })
    this.root = null
  }

  /** For exit paths where nothing async runs any more (a signal, an emptied event loop). */
  removeAllSync (): void {
    if (this.root === null) return
    fsSync.rmSync(this.root, { recursive: true, force: true })
    this.root = null
  }
}
