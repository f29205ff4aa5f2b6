/**
 * Embedding a Shoal node, as a Bare (or Node) app would: open a storage folder (made with a new
 * identity the first time), post, follow someone, sync with peers over a DHT, read the timeline.
 * examples/bare/main.ts is the command-line face of this; tests call `runExample` directly.
 */
import { parseBootstrap, type Bootstrap } from '../../src/node/network.js'
import { Shoal } from '../../src/node/shoal.js'
import { hasIdentity } from '../../src/node/storage.js'
import { ShoalError } from '../../src/errors.js'
import { parseIdentity, refToString } from '../../src/ids.js'
import type { Item } from '../../src/views/types.js'
import type HyperDHT from 'hyperdht'

export interface ExampleOptions {
  /** The storage folder; made (owner-only) with a new identity when it holds none. */
  storage: string
  /** Where to find peers: "host:port,..." of a private DHT, "none" (LAN only) or "public". */
  bootstrap?: string
  /** Or an existing DHT node (tests: testnet.createNode()); wins over `bootstrap`. */
  dht?: HyperDHT
  /** Profile name set on first run. */
  name?: string
  /** Text to post. */
  post?: string
  /** Identities (z-base32) to follow before syncing. */
  follow?: string[]
  /** Milliseconds the sync may take (default 30 000). */
  timeout?: number
}

export interface ExampleResult {
  id: string
  posted: string | null
  synced: { peers: number, blocks: number }
  timeline: Array<Pick<Item, 'id' | 'author' | 'authorName' | 'text'>>
}

/** Runs one embed session and closes the node; the bootstrap must be chosen explicitly (USAGE otherwise). */
export async function runExample (opts: ExampleOptions): Promise<ExampleResult> {
  const bootstrap = opts.dht === undefined ? chooseBootstrap(opts.bootstrap) : undefined
  const shoal = await openOrInit(opts.storage, opts.name)
  try {
    const me = await shoal.whoami()
    const posted = opts.post === undefined ? null : await shoal.post({ text: opts.post })
    for (const who of opts.follow ?? []) await shoal.follow(parseIdentity(who))
    await shoal.joinNetwork(opts.dht !== undefined ? { dht: opts.dht } : { bootstrap })
    const res = await shoal.sync({ timeout: opts.timeout ?? 30_000 })
    const page = await shoal.timeline({ limit: 20 })
    return {
      id: me.id,
      posted: posted === null ? null : refToString(posted),
      synced: { peers: res.peers, blocks: res.blocks },
      timeline: page.items.map(({ id, author, authorName, text }) => ({ id, author, authorName, text }))
    }
  } finally {
    await shoal.close()
  }
}

async function openOrInit (storage: string, name: string | undefined): Promise<Shoal> {
  if (await hasIdentity(storage)) {
    const shoal = new Shoal(storage)
    await shoal.ready()
    return shoal
  }
  const { shoal } = await Shoal.init(storage, { name, device: 'bare example' })
  return shoal
}

/** An example never falls back to the public DHT by accident: "public" has to be asked for. */
function chooseBootstrap (value: string | undefined): Bootstrap {
  if (value === undefined || value.trim() === '') {
    throw ShoalError.USAGE('choose a DHT: --bootstrap host:port[,...] (a private DHT, e.g. `shoal dht`), "none" (LAN only) or "public"')
  }
  return value.trim() === 'public' ? { kind: 'public' } : parseBootstrap(value)
}
