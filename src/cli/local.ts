/**
 * The CLI's local path: opens the storage in this process (no node is serving it), or runs the
 * long-lived commands (serve, desktop, dht). Loaded by main.ts only when needed, since it
 * imports the whole node stack. Every argument is checked (precheck) before storage or network
 * is touched.
 */
import { ShoalError } from '../errors.js'
import { Shoal } from '../node/shoal.js'
import { readSeed, resolveStorage } from '../node/storage.js'
import { realStorage } from '../node/socket-path.js'
import { keyPairFromSeed } from '../feeds/identity.js'
import type { IdentityKey } from '../ids.js'
import type { Parsed } from './args.js'
import { commands, initResult, precheck, precheckAs, type Result } from './commands.js'
import { debugLogger, watchNetwork } from './debug-log.js'
import { checkedFirst, refusalOf } from './refusal-check.js'
import { escapeText } from './escape.js'
import { dht, joinOptions, serve } from './network-commands.js'
import { desktop } from './desktop.js'
import { print, type Io } from './output.js'

/** Runs a parsed command without a serving node; resolves to the exit status, throws coded errors. */
export async function runLocal (p: Parsed, io: Io): Promise<number> {
  const parsed = p
  precheck(p)
  if (p.command === 'serve' || p.command === 'desktop' || p.command === 'sync' || p.command === 'room join' || p.command === 'room leave') joinOptions(p, io.env)
  if (p.command === 'dht') {
    await dht(p, (r) => print(io, parsed, r))
    return 0
  }
  const storage = await realStorage(resolveStorage(p.storage, io.env))
  if (p.command === 'serve') {
    await serve(storage, p, io.env, (r) => print(io, parsed, r))
    return 0
  }
  if (p.command === 'desktop') return await desktop(storage, p, io.env, (r) => print(io, parsed, r))
  if (p.command === 'init') {
    print(io, p, await init(storage, p))
    return 0
  }
  const me = await myIdentity(storage)
  if (me !== null) precheckAs(p, me)
  if (me !== null && checkedFirst(p)) {
    const refused = await refusalOf(storage, (ro) => commands[p.command](ro, p))
    if (refused !== null) throw refused // refused by the stored state, which is left as it was
  }
  const shoal = new Shoal(storage)
  // A background failure (the indexer on a full disk) fails the command through the call that
  // waits on it; here it is only reported, never an unhandled 'error' event.
  shoal.on('error', (err: Error) => { if (io.env.SHOAL_DEBUG) io.stderr(`warning: ${ShoalError.from(err).message}\n`) })
  const debug = io.env.SHOAL_DEBUG ? debugLogger(io.stderr) : null
  try {
    await shoal.ready()
    debug?.('storage open')
    if (shoal.health.viewsRebuilt !== null) {
      io.stderr(`warning: the views were damaged (${escapeText(oneLine(shoal.health.viewsRebuilt))}); moved aside and rebuilt from the feeds\n`)
      await shoal.indexed() // every feed on disk, not only mine, before this command answers from them
    }
    if (p.command === 'sync' || p.command === 'room join' || p.command === 'room leave') {
      await shoal.joinNetwork(joinOptions(p, io.env))
      if (debug !== null) { debug('joined the network'); watchNetwork(shoal, debug) }
    }
    print(io, p, await commands[p.command](shoal, p))
    debug?.(`${p.command} done`)
  } finally {
    await shoal.close()
    debug?.('closed')
  }
  return 0
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

/** My identity key from the identity file, read only (no open, no write), or null when there is none or it is unreadable (opening then says why). */
async function myIdentity (storage: string): Promise<IdentityKey | null> {
  try {
    return keyPairFromSeed(await readSeed(storage)).publicKey
  } catch {
    return null // no identity or a damaged one: Shoal's open reports it with its own code
  }
}

function oneLine (s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 200)
}
