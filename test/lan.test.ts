import test from 'brittle'
import type { Test } from 'brittle'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import z32 from 'z32'
import dgram from 'dgram'
import net from 'net'
import { spawn, spawnSync, type ChildProcess } from 'child_process'
import { fileURLToPath } from 'url'
import * as dnsPacket from 'dns-packet'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import { LanDiscovery, encodeAnnouncement, parseAnnouncements, DEFAULT_SERVICE, type LanAnnouncement, type LanConnectionInfo } from '../src/swarm/lan.js'
import { identityTopic } from '../src/caps.js'
import { namespaceSkip } from './helpers/netns.js'
import { loopbackMulticast } from './helpers/multicast.js'
import multicastDns from 'multicast-dns'
import { Shoal } from '../src/node/shoal.js'

const hex = (buf: Uint8Array): string => b4a.toString(buf, 'hex')
// Each run gets its own mDNS ports, so parallel runs on one machine never see each other.
const MDNS_BASE = 20000 + (process.pid % 20000)

function announcement (overrides: Partial<LanAnnouncement> = {}): LanAnnouncement {
  return { instance: '0123456789abcdef', publicKey: crypto.keyPair().publicKey, port: 4242, addresses: ['10.77.0.1'], ttl: 120, ...overrides }
}

test('lan record – announcement round-trips through the mDNS wire format', (t) => {
  const ann = announcement({ addresses: ['10.77.0.1', '192.168.1.9'] })
  const wire = dnsPacket.encode({ type: 'response', answers: encodeAnnouncement(ann) })
  const parsed = parseAnnouncements(dnsPacket.decode(wire), DEFAULT_SERVICE)
  t.is(parsed.length, 1)
  t.is(parsed[0].instance, ann.instance)
  t.ok(b4a.equals(parsed[0].publicKey, ann.publicKey), 'Noise key survives')
  t.is(parsed[0].port, ann.port)
  t.alike(parsed[0].addresses, ann.addresses)
  t.is(parsed[0].ttl, 120)

  const txt = encodeAnnouncement(ann).find((r) => r.type === 'TXT')
  t.alike((txt?.data as string[]).map((s) => s.split('=')[0]), ['v', 'pk'], 'TXT carries only version and Noise key')
  t.alike(encodeAnnouncement(ann).map((r) => r.type).sort(), ['A', 'A', 'PTR', 'SRV', 'TXT'], 'only PTR, SRV, TXT and A records')
})

test('lan record – garbage, other services and malformed records are ignored', (t) => {
  const good = encodeAnnouncement(announcement())
  const without = (type: string): unknown[] => good.filter((r) => r.type !== type)
  const patch = (type: string, data: unknown): unknown[] => good.map((r) => (r.type === type ? { ...r, data } : r))
  const cases: unknown[] = [
    null, 42, 'response', [], {}, { answers: 'nope' }, { answers: [null, 1, 'x', {}, { name: 5, type: 'SRV' }] },
    { answers: without('TXT') },
    { answers: without('SRV') },
    { answers: patch('TXT', ['v=1', 'pk=zz']) },
    { answers: patch('TXT', ['pk=' + 'ab'.repeat(32)]) },
    { answers: patch('TXT', ['v=0', 'pk=' + 'ab'.repeat(32)]) },
    { answers: patch('TXT', 'not a list') },
    { answers: patch('SRV', { port: 0, target: 'x.local' }) },
    { answers: patch('SRV', { port: 70000, target: 'x.local' }) },
    { answers: patch('SRV', { port: '4242', target: 'x.local' }) },
    { answers: patch('SRV', null) },
    { answers: encodeAnnouncement(announcement(), '_http._tcp.local') },
    { answers: encodeAnnouncement(announcement({ instance: 'bad_name!' })) }
  ]
  for (const packet of cases) t.alike(parseAnnouncements(packet, DEFAULT_SERVICE), [], `ignored: ${JSON.stringify(packet)?.slice(0, 60)}`)

  const badA = parseAnnouncements({ answers: [...without('A'), { name: '0123456789abcdef.local', type: 'A', data: '999.1.1.1' }] })
  t.is(badA.length, 1, 'a bad address drops only the address')
  t.alike(badA[0].addresses, [])

  const future = parseAnnouncements({ answers: patch('TXT', ['v=2', 'pk=' + 'ab'.repeat(32), 'later=field']) })
  t.is(future.length, 1, 'a newer version with added keys still reads')

  // Fuzz the wire: flipped bytes either fail to decode or parse without throwing.
  const wire = dnsPacket.encode({ type: 'response', answers: good })
  let decoded = 0
  for (let i = 0; i < 2000; i++) {
    const copy = b4a.from(wire)
    for (let j = 0; j < 3; j++) copy[Math.floor(Math.random() * copy.length)] = Math.floor(Math.random() * 256)
    let packet: unknown
    try {
      packet = dnsPacket.decode(copy)
    } catch {
      continue // multicast-dns drops undecodable packets the same way
    }
    decoded++
    parseAnnouncements(packet, DEFAULT_SERVICE)
  }
  t.ok(decoded > 0, `${decoded} mutated packets decoded and parsed without throwing`)
})


function waitFor<T extends unknown[] = unknown[]> (emitter: { once: (ev: string, fn: (...args: any[]) => void) => unknown }, ev: string, ms = 15000): Promise<T> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`timed out waiting for ${ev}`)), ms)
    emitter.once(ev, (...args: any[]) => { clearTimeout(guard); resolve(args as T) })
  })
}

async function createLan (t: Test, mdnsPort: number, keyPair = crypto.keyPair()): Promise<LanDiscovery> {
  const lan = new LanDiscovery({ keyPair, host: '127.0.0.1', mdnsPort, interval: 1000, window: 800 })
  t.teardown(() => lan.close())
  await lan.ready()
  return lan
}

function readLine (stream: NoiseSecretStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = ''
    const ondata = (d: Uint8Array): void => {
      buf += b4a.toString(d, 'utf8')
      if (buf.includes('\n')) { stream.off('data', ondata); resolve(buf.slice(0, buf.indexOf('\n'))) }
    }
    stream.on('data', ondata)
  })
}

const loopbackSkip = await loopbackMulticast(MDNS_BASE)
if (loopbackSkip !== null) console.log(`# skipping loopback discovery tests: ${loopbackSkip}`)
const loopbackTest = loopbackSkip === null ? test : test.skip

loopbackTest('lan – two instances on loopback discover each other and connect once', async (t) => {
  t.timeout(30000)
  const a = await createLan(t, MDNS_BASE + 1)
  const b = await createLan(t, MDNS_BASE + 1)
  const ca = waitFor<[NoiseSecretStream, LanConnectionInfo]>(a, 'connection')
  const cb = waitFor<[NoiseSecretStream, LanConnectionInfo]>(b, 'connection')
  const connected = both(ca, cb)
  await Promise.all([a.flush(), b.flush()])
  const [[sa, ia], [sb, ib]] = await connected

  t.ok(b4a.equals(ia.publicKey, b.keyPair.publicKey), 'a sees b by its Noise key')
  t.ok(b4a.equals(ib.publicKey, a.keyPair.publicKey), 'b sees a by its Noise key')
  t.is(ia.initiator, b4a.compare(a.keyPair.publicKey, b.keyPair.publicKey) < 0, 'the smaller key dials')
  t.is(ia.initiator, !ib.initiator)

  const line = readLine(sb)
  sa.write(b4a.from('over noise\n'))
  t.is(await line, 'over noise', 'a line crosses the encrypted stream')

  // More rounds, garbage on the mDNS group and a TCP peer that never handshakes: still one connection.
  const junk = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  junk.on('error', () => {}) // a lost junk packet does not matter
  await new Promise<void>((resolve) => junk.bind(0, '127.0.0.1', () => resolve()))
  junk.setMulticastInterface('127.0.0.1')
  for (const payload of [b4a.from('garbage'), b4a.alloc(12, 0xff), dnsPacket.encode({ type: 'response', answers: encodeAnnouncement(announcement(), '_other._tcp.local') })]) {
    await new Promise<void>((resolve) => junk.send(payload, MDNS_BASE + 1, '224.0.0.251', () => resolve()))
  }
  junk.close()
  const rogue = net.connect(a.address()!.port, '127.0.0.1')
  rogue.on('error', () => {}) // a may drop us at any point
  rogue.write(b4a.from([5, 0, 0, 1, 2, 3, 4, 5])) // a framed handshake message of the wrong size
  const rogueClosed = new Promise((resolve) => rogue.once('close', resolve))
  await Promise.all([a.flush(), b.flush()])
  await rogueClosed
  t.is(a.connections.size, 1, 'a keeps one connection to b')
  t.is(b.connections.size, 1, 'b keeps one connection to a')

  // A dropped connection is dialed again while the peer is still announced.
  const again = both(waitFor<[NoiseSecretStream]>(a, 'connection'), waitFor<[NoiseSecretStream]>(b, 'connection'))
  sb.destroy()
  const [[sa2], [sb2]] = await again
  t.ok(sa2 !== sa && sb2 !== sb, 'reconnected after a drop')
  t.is(a.connections.size, 1)
  t.is(b.connections.size, 1)

  const closed = waitFor(sa2, 'close')
  await b.close()
  await closed
  t.is(a.connections.size, 0, 'a drops the connection when b leaves')
})

loopbackTest('lan – dial is pinned to the announced Noise key', async (t) => {
  t.timeout(30000)
  const port = MDNS_BASE + 2
  let keyPair = crypto.keyPair()
  let announced = crypto.keyPair().publicKey
  while (b4a.compare(keyPair.publicKey, announced) >= 0) { keyPair = crypto.keyPair(); announced = crypto.keyPair().publicKey }
  const a = await createLan(t, port, keyPair)
  let connected = 0
  a.on('connection', () => { connected++ })

  // An impostor answers with someone else's key: a dials (its key is smaller) and must hang up.
  const impostor = net.createServer((socket) => {
    const s = new NoiseSecretStream(false, socket, { keyPair: crypto.keyPair() })
    s.on('error', () => {}) // a hangs up on us, which is the point
    impostor.emit('noise', s)
  })
  t.teardown(() => new Promise<void>((resolve) => impostor.close(() => resolve())))
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', () => resolve()))
  const accepted = waitFor<[NoiseSecretStream]>(impostor, 'noise')
  const ann = announcement({ publicKey: announced, port: (impostor.address() as net.AddressInfo).port, addresses: ['127.0.0.1'] })
  const sender = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', () => resolve()))
  sender.setMulticastInterface('127.0.0.1')
  await new Promise<void>((resolve) => sender.send(dnsPacket.encode({ type: 'response', answers: encodeAnnouncement(ann) }), port, '224.0.0.251', () => resolve()))
  sender.close()

  const [s] = await accepted
  await waitFor(s, 'close')
  await a.flush()
  t.is(connected, 0, 'no connection event for a key mismatch')
  t.is(a.connections.size, 0)
})

loopbackTest('lan – nothing announced links two runs of a node (fresh instance id, Noise key, port)', async (t) => {
  t.timeout(60000)
  const port = MDNS_BASE + 3
  const heard: LanAnnouncement[] = []
  const wake = new Set<() => void>()
  const listener = multicastDns({ port, interface: '127.0.0.1', bind: '0.0.0.0', reuseAddr: true, loopback: true })
  listener.on('warning', () => {}) // malformed packets are not ours to judge here
  listener.on('response', (packet) => {
    for (const ann of parseAnnouncements(packet, DEFAULT_SERVICE)) if (ann.ttl > 0) heard.push(ann)
    for (const w of wake) w()
  })
  t.teardown(() => new Promise<void>((resolve) => listener.destroy(() => resolve())))
  await new Promise<void>((resolve) => listener.once('ready', () => resolve()))
  const next = (count: number): Promise<LanAnnouncement> => new Promise((resolve) => {
    const check = (): void => { if (heard.length > count) { wake.delete(check); resolve(heard[count]) } }
    wake.add(check)
    check()
  })

  const dir = await t.tmp()
  const { shoal: first } = await Shoal.init(dir, { name: 'alice' })
  const storageKey = (await first.store.createKeyPair('shoal/swarm')).publicKey
  const runs: LanAnnouncement[] = []
  for (let run = 0; run < 2; run++) {
    const node = run === 0 ? first : new Shoal(dir)
    try {
      await node.ready()
      const seen = heard.length
      await node.joinNetwork({ bootstrap: { kind: 'none' }, lanOptions: { host: '127.0.0.1', mdnsPort: port, interval: 1000, window: 800 } })
      runs.push(await next(seen))
    } finally {
      await node.close()
    }
  }
  const [one, two] = runs
  t.not(one.instance, two.instance, 'instance id differs between runs')
  t.absent(b4a.equals(one.publicKey, two.publicKey), 'Noise key differs between runs')
  t.absent(b4a.equals(one.publicKey, storageKey) || b4a.equals(two.publicKey, storageKey), 'Noise key is not derived from storage')
  t.not(one.port, two.port, 'TCP port differs between runs (ephemeral)')
  t.alike(one.addresses, two.addresses, 'only the host address is the same (it is the LAN\'s, not the node\'s)')
})

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

interface PeerEvent { event: string, [k: string]: any }

/** Both results, or the first failure once both have settled (so neither rejection goes unhandled). */
async function both<A, B> (a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}

/** Runs `fn` at teardown and, should the test process die first, on exit (synchronously). */
function cleanup (t: Test, fn: () => void, order: number): void {
  let done = false
  const once = (): void => { if (!done) { done = true; fn() } }
  process.once('exit', once)
  t.teardown(() => { process.off('exit', once); once() }, { order })
}

/** A fixture process in a namespace; events are its JSON stdout lines. */
function startPeer (t: Test, ns: string, follows: Uint8Array[]): { events: PeerEvent[], until: (pred: (e: PeerEvent) => boolean, what: string) => Promise<PeerEvent>, child: ChildProcess } {
  const fixture = fileURLToPath(new URL('./fixtures/lan-peer.js', import.meta.url))
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture], {
    env: { ...process.env, SHOAL_LAN_FOLLOWS: follows.map(hex).join(',') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let killed = false
  process.once('exit', () => { if (!killed) child.kill('SIGKILL') })
  t.teardown(async () => {
    killed = true
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const guard = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(guard)
  }, { order: 0 })
  const events: PeerEvent[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  let rest = ''
  child.stderr?.on('data', (d) => { stderr += d })
  child.stdout?.on('data', (d) => {
    rest += d
    const lines = rest.split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      try { events.push(JSON.parse(line)) } catch { events.push({ event: 'noise-on-stdout', line }) }
    }
    for (const w of waiters) w()
  })
  const until = (pred: (e: PeerEvent) => boolean, what: string): Promise<PeerEvent> => new Promise((resolve, reject) => {
    const check = (): void => {
      const hit = events.find(pred)
      if (hit === undefined) return
      cleanup()
      resolve(hit)
    }
    const onexit = (): void => { cleanup(); reject(new Error(`${ns} peer exited before ${what}: ${stderr}`)) }
    const guard = setTimeout(() => { cleanup(); reject(new Error(`timed out in ${ns} waiting for ${what}: ${stderr}`)) }, 30000)
    const cleanup = (): void => { clearTimeout(guard); waiters.delete(check); child.off('exit', onexit) }
    waiters.add(check)
    child.once('exit', onexit)
    check()
  })
  return { events, until, child }
}

const nsSkip = namespaceSkip()
if (nsSkip !== null) console.log(`# skipping namespace test: ${nsSkip}`)
const nsTest = nsSkip === null ? test : test.skip

nsTest('lan – peers in two namespaces discover, connect over Noise and announce no follows', async (t) => {
  t.timeout(90000)
  const id = `${process.pid}`
  const nsA = `shoal-lan-${id}-a`
  const nsB = `shoal-lan-${id}-b`
  const vethA = `slv${id}a`
  const vethB = `slv${id}b`
  cleanup(t, () => {
    for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns])
    spawnSync('ip', ['link', 'del', vethA]) // only there if moving it into the namespace failed
  }, 1)
  // A failure is reported, not thrown (brittle would crash past teardown): peers and namespaces still go.
  try {
    ip('netns', 'add', nsA)
    ip('netns', 'add', nsB)
    ip('link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB)
    ip('link', 'set', vethA, 'netns', nsA)
    ip('link', 'set', vethB, 'netns', nsB)
    for (const [ns, dev, addr] of [[nsA, vethA, '10.77.0.1/24'], [nsB, vethB, '10.77.0.2/24']]) {
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'link', 'set', dev, 'up')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
    }
    await exchange(t, nsA, nsB)
  } catch (err) {
    t.fail((err as Error).message)
  }
})

async function exchange (t: Test, nsA: string, nsB: string): Promise<void> {
  const secret = crypto.keyPair().publicKey // an identity both peers "follow"
  const a = startPeer(t, nsA, [secret])
  const b = startPeer(t, nsB, [secret])
  const [readyA, readyB] = await both(a.until((e) => e.event === 'ready', 'ready'), b.until((e) => e.event === 'ready', 'ready'))
  t.is(readyA.follows, 1, 'peer a holds the secret follow')

  const [connA, connB] = await both(a.until((e) => e.event === 'connection', 'connection'), b.until((e) => e.event === 'connection', 'connection'))
  t.is(connA.remotePublicKey, readyB.publicKey, "a's Noise peer is b")
  t.is(connB.remotePublicKey, readyA.publicKey, "b's Noise peer is a")
  t.is(connA.publicKey, readyB.publicKey)
  t.is(connA.initiator, readyA.publicKey < readyB.publicKey, 'the smaller key dials')
  t.is(connA.initiator, !connB.initiator)
  t.ok(connA.address.startsWith('10.77.0.2:') && connB.address.startsWith('10.77.0.1:'), `addresses ${connA.address} / ${connB.address}`)

  const [msgA, msgB] = await both(a.until((e) => e.event === 'message', 'message'), b.until((e) => e.event === 'message', 'message'))
  t.is(msgA.text, `hello from ${readyB.publicKey}`, 'b → a over Noise')
  t.is(msgB.text, `hello from ${readyA.publicKey}`, 'a → b over Noise')
  t.is(a.events.filter((e) => e.event === 'connection').length, 1, 'a has one connection')
  t.is(b.events.filter((e) => e.event === 'connection').length, 1, 'b has one connection')

  // Everything on the wire in both namespaces: the other side's announcement is there, the follows are not.
  const topic = identityTopic(secret)
  const forbidden = [secret, topic].flatMap((k) => [k, b4a.from(hex(k)), b4a.from(hex(k).toUpperCase()), b4a.from(z32.encode(k))])
  const captured = [...a.events, ...b.events].filter((e) => e.event === 'mdns').map((e) => b4a.from(e.hex, 'hex'))
  t.ok(captured.some((p) => b4a.indexOf(p, b4a.from('pk=' + readyB.publicKey)) !== -1), 'capture holds b\'s announcement')
  t.ok(captured.some((p) => b4a.indexOf(p, b4a.from('pk=' + readyA.publicKey)) !== -1), 'capture holds a\'s announcement')
  t.absent(captured.some((p) => forbidden.some((f) => b4a.indexOf(p, f) !== -1)), `none of ${captured.length} mDNS packets holds the follow key or its topic`)
  const txtKeys = new Set<string>()
  for (const p of captured) {
    const packet = dnsPacket.decode(p)
    for (const r of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (r.type === 'TXT') for (const s of r.data as Uint8Array[]) txtKeys.add(b4a.toString(s).split('=')[0])
    }
  }
  t.alike([...txtKeys].sort(), ['pk', 'v'], 'TXT records carry only v and pk')
}
