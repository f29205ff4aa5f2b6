/**
 * The `shoal` command line. `--json` prints exactly one JSON document on stdout; failures exit
 * non-zero and print `error: CODE: message` on stderr (and `{"error":{code,message}}` with --json).
 */
import { ShoalError, USAGE_CODES } from '../errors.js'
import { Shoal } from '../node/shoal.js'
import { resolveStorage } from '../node/storage.js'
import fs from 'node:fs'
import { parse, type Parsed } from './args.js'
import { commandHelp, helpText } from './help.js'
import { commands, initResult, precheck, type Result } from './commands.js'
import { escapeText } from './escape.js'
import { dht, joinOptions, serve } from './network-commands.js'
import { desktop } from './desktop.js'
import { callServer } from '../node/ipc.js'
import { storagePaths } from '../node/storage.js'

export interface Io {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: NodeJS.ProcessEnv
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env
}

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
    const parsed = p
    // Every argument is checked before storage or network is touched.
    precheck(p)
    if (p.command === 'serve' || p.command === 'desktop' || p.command === 'sync') joinOptions(p, io.env)
    if (p.command === 'dht') {
      await dht(p, (r) => print(io, parsed, r))
      return 0
    }
    const storage = resolveStorage(p.storage, io.env)
    if (p.command === 'serve') {
      await serve(storage, p, io.env, (r) => print(io, parsed, r))
      return 0
    }
    if (p.command === 'desktop') return await desktop(storage, p, io.env, (r) => print(io, parsed, r))
    const reply = await callServer(storagePaths(storage, io.env).socket, argv)
    if (reply !== null) {
      if (!reply.ok) throw new ShoalError(reply.error.code, reply.error.message)
      print(io, p, { json: reply.json, text: reply.text })
      return 0
    }
    if (p.command === 'init') {
      print(io, p, await init(storage, p))
      return 0
    }
    const shoal = new Shoal(storage)
    // A background failure (the indexer on a full disk) fails the command through the call that
    // waits on it; here it is only reported, never an unhandled 'error' event.
    shoal.on('error', (err: Error) => { if (io.env.SHOAL_DEBUG) io.stderr(`warning: ${ShoalError.from(err).message}\n`) })
    try {
      await shoal.ready()
      if (shoal.health.viewsRebuilt !== null) io.stderr(`warning: the views were damaged (${escapeText(oneLine(shoal.health.viewsRebuilt))}); moved aside and rebuilt from the feeds\n`)
      {
        if (p.command === 'sync' || p.command === 'room join') await shoal.joinNetwork(joinOptions(p, io.env))
        print(io, p, await commands[p.command](shoal, p))
      }
    } finally {
      await shoal.close()
    }
    return 0
  } catch (err) {
    return fail(io, p?.json ?? argv.includes('--json'), err)
  }
}

async function init (storage: string, p: Parsed): Promise<Result> {
  const restore = typeof p.flags.restore === 'string' ? p.flags.restore : undefined
  if (p.flags['new-feed'] === true) {
    if (restore !== undefined || p.flags.name !== undefined) throw ShoalError.USAGE('--new-feed takes no --restore or --name')
    const shoal = new Shoal(storage, { newDeviceFeed: true })
    try {
      await shoal.ready()
      const replaced = shoal.health.replacedFeed
      const r = initResult(shoal, null, true)
      return {
        json: { ...(r.json as object), replaced },
        text: replaced !== null
          ? `Started a new device feed for your identity; the lost feed ${replaced} is tracked so peers that hold it bring its posts back.\n${r.text.split('\n').slice(1).join('\n')}`
          : `Your device feed is intact; nothing was replaced.\n${r.text.split('\n').slice(1).join('\n')}`
      }
    } finally {
      await shoal.close()
    }
  }
  const { shoal, phrase } = await Shoal.init(storage, { name: typeof p.flags.name === 'string' ? p.flags.name : undefined, restore })
  try {
    return initResult(shoal, phrase, restore !== undefined)
  } finally {
    await shoal.close()
  }
}

function packageVersion (): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function oneLine (s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 200)
}

function print (io: Io, p: Parsed, r: Result): void {
  io.stdout(p.json ? JSON.stringify(r.json) + '\n' : escapeText(r.text) + '\n')
}

function fail (io: Io, json: boolean, err: unknown): number {
  const e = ShoalError.from(err)
  io.stderr(`error: ${escapeText(e.message)}\n`)
  if (json) io.stdout(JSON.stringify({ error: { code: e.code, message: e.detail } }) + '\n')
  if (!(err instanceof ShoalError) && io.env.SHOAL_DEBUG) io.stderr(String((err as Error)?.stack) + '\n')
  return USAGE_CODES.has(e.code) ? 2 : 1
}
