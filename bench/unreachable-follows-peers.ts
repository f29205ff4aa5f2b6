/**
 * Child process of the unreachable-follows phase (layout 'peer-process', see
 * unreachable-follows.ts): runs the local HyperDHT testnet and the two online peers, as another
 * machine would, and answers the parent's calls over IPC ({id, cmd, args} → {id, ok, value |
 * error}): `start` (the testnet's bootstrap and the peers' feed keys), `prepare` (makes a measured
 * node's storage folder; the parent opens it only after), `flush`, `post` and `close` (then exits).
 * argv[2]: the peers' two storage folders, as JSON.
 */
import b4a from 'b4a'
import { localPeers, type Peers } from './unreachable-follows.js'

const dirs = JSON.parse(process.argv[2]) as string[]
let peers: Peers | null = null

async function handle (cmd: string, args: any): Promise<unknown> {
  if (cmd === 'start') {
    let n = 0
    peers = await localPeers(async () => dirs[n++])
    return { bootstrap: peers.bootstrap(), feedKeys: [0, 1].map((i) => b4a.toString(peers!.feedKey(i), 'hex')) }
  }
  if (peers === null) throw new Error(`${cmd} before start`)
  if (cmd === 'prepare') return await peers.prepare(args.dir, args.i, args.unreachable)
  if (cmd === 'flush') return await peers.flush()
  if (cmd === 'post') return await peers.post(args.i, args.text)
  if (cmd === 'close') return await peers.close()
  throw new Error(`unknown call ${cmd}`)
}

process.on('message', (m: { id: number, cmd: string, args: unknown }) => {
  handle(m.cmd, m.args).then(
    (value) => process.send?.({ id: m.id, ok: true, value: value ?? null }, () => { if (m.cmd === 'close') process.exit(0) }),
    (err: Error) => process.send?.({ id: m.id, ok: false, error: err.stack ?? String(err) })
  )
})
process.on('disconnect', () => process.exit(1)) // the parent went away
