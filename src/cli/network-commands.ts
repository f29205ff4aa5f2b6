/**
 * The long-running commands: `shoal serve` (the node on the network plus its local socket) and
 * `shoal dht` (a small private DHT). Both run until SIGINT or SIGTERM and then close cleanly.
 */
import createTestnet from 'hyperdht/testnet.js'
import { ShoalError } from '../errors.js'
import safetyCatch from 'safety-catch'
import { ApiServer } from '../api/server.js'
import { ShoalApp } from '../node/app.js'
import { IpcServer, type IpcReply } from '../node/ipc.js'
import { storagePaths } from '../node/storage.js'
import { parseBootstrap, type Bootstrap } from '../node/network.js'
import type { JoinOptions, Shoal } from '../node/shoal.js'
import { intFlag, parse, type Parsed } from './args.js'
import { commands, dhtHost, initResult, precheck, type Result } from './commands.js'
import { debugLogger, watchNetwork } from './debug-log.js'
import { escapeText } from './escape.js'

export function joinOptions (p: Parsed, env: NodeJS.ProcessEnv): JoinOptions {
  const flag = typeof p.flags.bootstrap === 'string' ? p.flags.bootstrap : undefined
  const bootstrap: Bootstrap = parseBootstrap(flag ?? env.SHOAL_BOOTSTRAP)
  return { bootstrap, hops: intFlag(p.flags.hops, 'hops') }
}

/** Runs a CLI command against the serving node (the socket of `shoal serve` / `shoal desktop`). */
export function ipcHandler (app: ShoalApp): (argv: string[]) => Promise<IpcReply> {
  return async (argv) => {
    const p = parse(argv)
    precheck(p) // the thin client sends arguments unchecked: nothing runs before they are
    if (p.command === 'serve' || p.command === 'desktop') throw ShoalError.STORAGE_LOCKED('a node is already serving this storage')
    if (p.command === 'init') {
      const restore = str(p.flags.restore)
      const { shoal, phrase } = await app.init({ name: str(p.flags.name), restore })
      const r = initResult(shoal, phrase, restore !== undefined)
      return { ok: true, json: r.json, text: r.text }
    }
    const command = commands[p.command]
    if (command === undefined) throw ShoalError.USAGE(`"${p.command}" cannot run through a serving node`)
    const r = await command(app.need(), p)
    return { ok: true, json: r.json, text: r.text }
  }
}

function str (v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function networkLabel (opts: JoinOptions): 'public' | 'private' | 'lan' {
  const kind = opts.bootstrap?.kind ?? 'public'
  return kind === 'none' ? 'lan' : kind
}

/** A running node: app (identity, Shoal, network), local socket and local API. */
export interface Running { app: ShoalApp, api: ApiServer, ipc: IpcServer, close (): Promise<void> }

export async function startNode (storage: string, p: Parsed, env: NodeJS.ProcessEnv): Promise<Running> {
  const join = joinOptions(p, env)
  const app = new ShoalApp(storage, { join })
  // Background failures (the network, an indexer) are reported; the node keeps serving its views.
  app.on('error', (err: Error) => { process.stderr.write(`error: ${escapeText(err.message)}\n`) })
  const ipc = new IpcServer(storagePaths(storage, env).socket, ipcHandler(app))
  const api = new ApiServer(app, { port: intFlag(p.flags.port, 'port'), network: networkLabel(join) })
  api.on('request-error', (err: Error) => { process.stderr.write(`error: an API request failed: ${escapeText(String(err?.message))}\n`) })
  const close = async (): Promise<void> => {
    await api.close()
    await ipc.close()
    await app.close()
  }
  try {
    await ipc.ready()
    await app.ready()
    await api.ready()
  } catch (err) {
    await close()
    throw err
  }
  const health = app.shoal?.health
  if (health?.viewsRebuilt) process.stderr.write('warning: the views were damaged; moved aside and rebuilt from the feeds\n')
  if (health?.rolledBack) process.stderr.write(`warning: my feed has ${health.rolledBack.length} blocks but had ${health.rolledBack.expected}; writing is paused until a peer restores them\n`)
  if (env.SHOAL_DEBUG) {
    const log = debugLogger((line) => process.stderr.write(line))
    let watched = false
    const once = (shoal: Shoal): void => { if (!watched) { watched = true; watchNetwork(shoal, log) } }
    app.on('network', once)
    if (app.shoal?.replicator) once(app.shoal)
    app.networkReady().then(() => log('network flushed'), safetyCatch)
  }
  return { app, api, ipc, close }
}

export function untilSignal (): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

export async function serve (storage: string, p: Parsed, env: NodeJS.ProcessEnv, ready: (r: Result) => void): Promise<void> {
  const node = await startNode(storage, p, env)
  try {
    // Ready as soon as the API listens: network discovery (dials to announced peers that may be
    // long dead) catches up behind it and never holds up the UI.
    const stopped = untilSignal() // listening before we say we are ready: a quick Ctrl-C still closes cleanly
    const id = node.app.shoal?.id ?? null
    ready({
      json: { url: node.api.url, port: node.api.port, id },
      text: [
        `Shoal is running${id ? ` as ${id}` : ' (no identity yet: open the app to create one)'} on the ${networkLabel(joinOptions(p, env))} network.`,
        `Open ${node.api.url}`,
        'Other shoal commands on this storage now go through this node. Ctrl-C stops.'
      ].join('\n')
    })
    await stopped
  } finally {
    await node.close()
  }
}

export async function dht (p: Parsed, ready: (r: Result) => void): Promise<void> {
  const host = dhtHost(p)
  const port = intFlag(p.flags.port, 'port') ?? 0
  let testnet
  try {
    testnet = await createTestnet(3, { host, port })
  } catch (err) {
    throw ShoalError.NETWORK_ERROR(`cannot start a DHT on ${host}:${port}`, err)
  }
  try {
    const b = testnet.bootstrap[0]
    // The DHT quietly takes another port when the one asked for is busy: a fixed address is the point of --port.
    if (port !== 0 && b.port !== port) throw ShoalError.NETWORK_ERROR(`cannot start a DHT on ${host}:${port}: the port is in use`)
    const address = `${b.host}:${b.port}`
    const stopped = untilSignal()
    ready({ json: { bootstrap: address }, text: `private DHT running; use SHOAL_BOOTSTRAP=${address} (Ctrl-C stops)` })
    await stopped
  } finally {
    await testnet.destroy()
  }
}

