import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/shoal.js')

export interface CliResult { code: number, stdout: string, stderr: string, json: any }

/** Runs `shoal ARGS` as a subprocess with its own storage and no DHT. */
export function shoal (storage: string | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const fullEnv: NodeJS.ProcessEnv = { ...process.env, SHOAL_BOOTSTRAP: 'none', ...env }
    if (storage !== null) fullEnv.SHOAL_STORAGE = storage
    else delete fullEnv.SHOAL_STORAGE
    execFile(process.execPath, [BIN, ...args], { env: fullEnv }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      let json: any = null
      try { json = JSON.parse(stdout) } catch { json = null } // not every invocation asks for --json
      resolve({ code, stdout, stderr, json })
    })
  })
}
