/** Temp folders for one bench run: all under one root in os.tmpdir(), removed together. */
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export class TmpDirs {
  private count = 0

  /** `root`: an existing folder to make them in (a child process's share of its parent's), else a new one in os.tmpdir(). */
  constructor (private root: string | null = null) {}

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

/**
 * Runs a bench entry point: its temp folders go on Ctrl-C, on failure (exit status 1) and if the
 * event loop empties before it finished (something never settled).
 */
export function runBench (name: string, tmp: TmpDirs, main: () => Promise<void>): void {
  let finished = false
  process.on('beforeExit', () => {
    if (finished) return
    console.error(`${name}: the event loop emptied before the run finished (something never settled)`)
    tmp.removeAllSync()
    process.exitCode = 1
  })
  process.once('SIGINT', () => {
    tmp.removeAllSync()
    process.exit(130)
  })
  main().then(() => { finished = true }, (err) => {
    finished = true
    console.error(err)
    tmp.removeAllSync()
    process.exitCode = 1
  })
}
