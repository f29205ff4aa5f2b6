/**
 * The long-running commands: `shoal serve` (the node on the network plus its local socket) and
 * `shoal dht` (a small private DHT). Both run until SIGINT or SIGTERM and then close cleanly.
 */
import createTestnet from 'hyperdht/testnet.js'
import { ShoalError } from '../errors.js'
import { feedToString, identityToString } from '../ids.js'
import type { PeerSession } from '../swarm/peer-session.js'
import { IpcServer, type IpcReply } from '../node/ipc.js'
import { parseBootstrap, type Bootstrap } from '../node/network.js'
import type { JoinOptions, Shoal } from '../node/shoal.js'
import { intFlag, parse, type Parsed } from './args.js'
import { commands, type Result } from './commands.js'

export function joinOptions (p: Parsed, env: NodeJS.ProcessEnv): JoinOptions {
  const flag = typeof p.flags.bootstrap === 'string' ? p.flags.bootstrap : undefined
  const bootstrap: Bootstrap = parseBootstrap(flag ?? env.SHOAL_BOOTSTRAP)
  return { bootstrap, hops: intFlag(p.flags.hops, 'hops') }
}

/** Runs a CLI command against an open node (used by the socket of a serving node). */
export function ipcHandler (shoal: Shoal): (argv: string[]) => Promise<IpcReply> {
  return async (argv) => {
    const p = parse(argv)
    if (p.command === 'serve') throw ShoalError.STORAGE_LOCKED('a node is already serving this storage')
    const command = commands[p.command]
    if (command === undefined) throw ShoalError.USAGE(`"${p.command}" cannot run through a serving node`)
    const r = await command(shoal, p)
    return { ok: true, json: r.json, text: r.text }
  }
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

export async function serve (shoal: Shoal, p: Parsed, env: NodeJS.ProcessEnv, ready: (r: Result) => void): Promise<void> {
  const ipc = new IpcServer(shoal.paths.socket, ipcHandler(shoal))
  await ipc.ready()
  try {
    const opts = joinOptions(p, env)
    const replicator = await shoal.joinNetwork(opts)
    const t0 = Date.now()
    const log = (msg: string): void => { if (env.SHOAL_DEBUG) process.stderr.write(`[${Date.now() - t0} ms] ${msg}\n`) }
    replicator.on('connection', () => log('connection'))
    replicator.on('peer', (s: PeerSession) => log(`peer ${s.remoteIdentity ? identityToString(s.remoteIdentity) : '?'} connected`))
    replicator.on('peer-close', (s: PeerSession) => log(`peer ${s.remoteIdentity ? identityToString(s.remoteIdentity) : '?'} left`))
    await replicator.flush()
    const net = opts.bootstrap?.kind === 'none' ? 'LAN only (multicast DNS)' : opts.bootstrap?.kind === 'private' ? 'private DHT' : 'public DHT'
    ready({
      json: { id: shoal.id, feed: feedToString(shoal.feedKey), socket: shoal.paths.socket },
      text: `serving ${shoal.id} on the ${net}; other shoal commands on this storage now go through it. Ctrl-C stops.`
    })
    await untilSignal()
  } finally {
    await ipc.close()
  }
}

export async function dht (p: Parsed, ready: (r: Result) => void): Promise<void> {
  const host = typeof p.flags.host === 'string' ? p.flags.host : '127.0.0.1'
  if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(host) || host === '0.0.0.0') throw ShoalError.USAGE('--host must be the IPv4 address peers will reach (default 127.0.0.1)')
  const port = intFlag(p.flags.port, 'port') ?? 0
  let testnet
  try {
    testnet = await createTestnet(3, { host, port })
  } catch (err) {
    throw ShoalError.NETWORK_ERROR(`cannot start a DHT on ${host}:${port}`, err)
  }
  try {
    const b = testnet.bootstrap[0]
    const address = `${b.host}:${b.port}`
    ready({ json: { bootstrap: address }, text: `private DHT running; use SHOAL_BOOTSTRAP=${address} (Ctrl-C stops)` })
    await untilSignal()
  } finally {
    await testnet.destroy()
  }
}

