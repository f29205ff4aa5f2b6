/**
 * The `shoal` command line, as a thin client: it parses the arguments and, when a node is serving
 * this storage, sends the command over its socket and prints the answer, having loaded nothing
 * but the argument table and the socket client. Only without a serving node does it import the
 * node's stack (local.ts) and open the storage itself.
 */
import { ShoalError } from '../errors.js'
import { callServer } from '../node/ipc-client.js'
import { resolveStorage, socketPath } from '../node/socket-path.js'
import { COMMANDS, helpText, parse, usageLine, type Parsed } from './args.js'
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
  let p: Parsed | null = null
  try {
    p = parse(argv)
    if (p.help) {
      const text = p.command === 'help' ? helpText() : `${usageLine(p.command)}\n  ${COMMANDS[p.command].summary}`
      print(io, p, { json: { usage: text }, text })
      return 0
    }
    if (!LOCAL_ONLY.has(p.command)) {
      // The serving node checks the arguments (precheck) before it runs anything.
      const reply = await callServer(socketPath(resolveStorage(p.storage, io.env), io.env), argv)
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
