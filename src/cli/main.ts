/**
 * The `shoal` command line, as a thin client: it parses the arguments (args.ts checks every flag
 * against the table) and, when a node is serving this storage, sends the command over its socket
 * and prints the answer, having loaded nothing but the argument table, help and the socket client.
 * Only without a serving node does it import the node's stack (local.ts) and open the storage.
 * `--json` prints exactly one JSON document on stdout; failures exit non-zero and print
 * `error: CODE: message` on stderr (and `{"error":{code,message}}` with --json).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import { ShoalError } from '../errors.js'
import { callServer } from '../node/ipc-client.js'
import { realStorage, resolveStorage, socketPath } from '../node/socket-path.js'
import { parse, type Parsed } from './args.js'
import { commandHelp, helpText } from './help.js'
import { fail, print, type Io } from './output.js'

export type { Io } from './output.js'

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env
}

/** Commands that never go through a serving node. */
const LOCAL_ONLY = new Set(['dht', 'serve', 'desktop'])

/** Runs one command; resolves to the process exit status. */
export async function run (argv: string[], io: Io = defaultIo): Promise<number> {
  // A reader that stops early (`shoal help | head -1`) is no error: the rest is not wanted.
  if (io === defaultIo) process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err })
  let p: Parsed | null = null
  try {
    p = parse(argv)
    if (p.command === 'version') {
      const version = packageVersion()
      print(io, p, { json: { version }, text: `shoal ${version}` })
      return 0
    }
    if (p.help) {
      const topic = p.command === 'help' ? p.positionals[0] : p.command
      const text = topic === undefined ? helpText() : commandHelp(topic)
      print(io, p, { json: { usage: text }, text })
      return 0
    }
    if (!LOCAL_ONLY.has(p.command)) {
      // The serving node checks the arguments (precheck) before it runs anything.
      const reply = await callServer(socketPath(await realStorage(resolveStorage(p.storage, io.env)), sha256, io.env), argv)
      if (reply !== null) {
        if (!reply.ok) throw new ShoalError(reply.error.code, reply.error.message)
        print(io, p, { json: reply.json, text: reply.text })
        return 0
      }
    }
    const { runLocal } = await import('./local.js')
    return await runLocal(p, io)
  } catch (err) {
    return fail(io, p?.json ?? argv.includes('--json'), err)
  }
}

/** The same SHA-256 as the node's (storage.ts), without loading sodium. */
function sha256 (data: Uint8Array): Uint8Array {
  return crypto.createHash('sha256').update(data).digest()
}

function packageVersion (): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}
