import test from 'brittle'
import crypto from 'node:crypto'
import type WebSocket from 'ws'
import type { ApiServer } from '../src/api/server.js'
import { MAX_CONNECTIONS, MAX_IN_FLIGHT } from '../src/api/server.js'
import net from 'node:net'
import { call, createApiNode, request, tryUpgrade } from './helpers/api.js'
import { frame, rawExchange, statuses, upgradeRequest } from './helpers/raw-http.js'
import { createLocalDht } from './helpers/swarm.js'
import { Rng } from './helpers/rng.js'

const METHODS = ['state', 'init', 'timeline', 'thread', 'mentions', 'profile', 'setProfile', 'following', 'post', 'react', 'edit', 'delete', 'follow', 'unfollow', 'block', 'unblock', 'status', 'followers', 'blocked', 'posts', 'reactors', 'notifications', 'markNotificationsSeen', 'dmList', 'dmRead', 'dmSend', 'dmReact', 'dmDelete', 'dmSafety', 'dmRequests', 'dmAccept', 'dmDecline']
const PARAMS = ['text', 'id', 'limit', 'before', 'author', 'name', 'bio', 'emoji', 'remove', 'reply', 'cw']

/** A WebSocket client that collects answers by id. */
function wsClient (ws: WebSocket): { send: (msg: unknown) => void, sendRaw: (s: string) => void, answer: (id: number) => Promise<any>, closed: Promise<number>, responses: any[] } {
  const answers = new Map<number, any[]>()
  const waiters = new Map<number, Array<(m: any) => void>>()
  const responses: any[] = []
  ws.on('message', (d) => {
    const m = JSON.parse(String(d))
    if (m.type !== 'response') return
    responses.push(m)
    const w = waiters.get(m.id)?.shift()
    if (w !== undefined) w(m)
    else answers.set(m.id, [...(answers.get(m.id) ?? []), m])
  })
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  return {
    send: (msg) => ws.send(JSON.stringify(msg)),
    sendRaw: (s) => ws.send(s),
    answer: (id) => {
      const queued = answers.get(id)?.shift()
      if (queued !== undefined) return Promise.resolve(queued)
      return new Promise((resolve) => waiters.set(id, [...(waiters.get(id) ?? []), resolve]))
    },
    closed,
    responses
  }
}

async function openWs (t: { teardown: (fn: () => unknown) => void }, api: ApiServer): Promise<WebSocket> {
  const { ws } = await tryUpgrade(api.port, { protocols: ['shoal', `shoal.${api.token}`] })
  if (ws === null) throw new Error('upgrade refused')
  t.teardown(() => ws.terminate())
  return ws
}

const host = (api: ApiServer): string => `127.0.0.1:${api.port}`

test('api fuzz – malformed percent-escapes in a path (no token needed) → 400, node stays up', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  for (const path of ['/%E0%A4%A', '/%', '/%zz', '/assets/%C0', '/%00.js', '/a%2', '/%ED%A0%80']) {
    const r = await rawExchange(api.port, `GET ${path} HTTP/1.1\r\nHost: ${host(api)}\r\nConnection: close\r\n\r\n`, { keepOpen: true })
    t.alike(statuses(r), [400], `GET ${path} → 400`)
  }
  t.is((await call(api, 'state')).result.name, 'alice', 'still answering')
})

test('api fuzz – request targets the URL parser refuses → 400 on requests and upgrades', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  for (const target of ['//[', 'http://[/', '//x:99999/', '*', 'http://127.0.0.1:1/api/call', '//', '//127.0.0.1/api/ws']) {
    const r = await rawExchange(api.port, `GET ${target} HTTP/1.1\r\nHost: ${host(api)}\r\nConnection: close\r\n\r\n`, { keepOpen: true })
    t.alike(statuses(r), [400], `GET ${target} → 400`)
    const u = await rawExchange(api.port, upgradeRequest(api.port, api.token, target), { keepOpen: true })
    t.alike(statuses(u), [400], `upgrade to ${target} → 400`)
  }
  t.is((await call(api, 'state')).result.name, 'alice', 'still answering')
})

test('api fuzz – oversize WebSocket messages: coded error (or 1009 close), never a crash', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const c = wsClient(await openWs(t, api))
  c.send({ type: 'request', id: 1, method: 'post', params: { text: 'x'.repeat(300_000) } })
  t.is((await c.answer(-1)).error.code, 'REQUEST_TOO_LARGE', 'a 300,000-character post')
  c.send({ type: 'request', id: 2, method: 'post', params: { text: 'x'.repeat(9000) } })
  t.is((await c.answer(2)).error.code, 'MESSAGE_TOO_LARGE', 'a post over the 8 KiB text cap, under the request cap')
  c.send({ type: 'request', id: 3, method: 'state' })
  t.is((await c.answer(3)).result.name, 'alice', 'the same socket still works')
  c.sendRaw('y'.repeat(2 * 1024 * 1024))
  t.is(await c.closed, 1009, 'over 1 MiB the socket is closed as too big')
  const http = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: host(api), Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ method: 'post', params: { text: 'x'.repeat(300_000) } }) })
  t.is(http.status, 413)
  t.is(JSON.parse(http.body).error.code, 'REQUEST_TOO_LARGE')
  t.is((await call(api, 'state')).result.name, 'alice', 'still answering')
})

test('api fuzz – deep JSON nesting → BAD_REQUEST, not INTERNAL', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  const bodies = [
    `{"method":${deep(100_000)}}`,
    `{"method":"post","params":{"text":${deep(50_000)}}}`,
    `{"method":"timeline","params":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`
  ]
  for (const body of bodies) {
    const r = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: host(api), Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body })
    t.is(r.status, 400)
    t.is(JSON.parse(r.body).error.code, 'BAD_REQUEST', 'over HTTP')
  }
  const c = wsClient(await openWs(t, api))
  for (const body of bodies) {
    c.sendRaw(body)
    t.is((await c.answer(-1)).error.code, 'BAD_REQUEST', 'over the WebSocket')
  }
  t.is((await call(api, 'thread', { id: { a: { b: { c: 1 } } } })).error.code, 'BAD_REQUEST', 'shallow nesting in a param is still a BAD_REQUEST')
})

test('api fuzz – requests in flight per connection are bounded (HTTP pipelining and WebSocket)', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const body = JSON.stringify({ method: 'timeline', params: {} })
  const one = `POST /api/call HTTP/1.1\r\nHost: ${host(api)}\r\nAuthorization: Bearer ${api.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  const raw = await rawExchange(api.port, one.repeat(30_000), { keepOpen: true })
  const s = statuses(raw)
  t.ok(s.includes(429), `429 once over ${MAX_IN_FLIGHT} in flight (${s.length} answers)`)
  t.ok(s.filter((x) => x === 200).length <= s.length - 1, 'the rest were not run')
  t.ok(raw.includes('TOO_MANY_REQUESTS'), 'a coded error')

  const c = wsClient(await openWs(t, api))
  const n = 1000
  for (let i = 1; i <= n; i++) c.send({ type: 'request', id: i, method: 'timeline', params: {} })
  let busy = 0
  let ok = 0
  for (let i = 1; i <= n; i++) {
    const a = await c.answer(i)
    if (a.error?.code === 'TOO_MANY_REQUESTS') busy++
    else if (a.result !== undefined) ok++
  }
  t.ok(busy > 0 && ok >= MAX_IN_FLIGHT, `every request answered: ${ok} ran, ${busy} refused as too many`)
  c.send({ type: 'request', id: n + 1, method: 'state' })
  t.is((await c.answer(n + 1)).result.name, 'alice', 'the socket works once the burst is answered')
})

test('api fuzz – open connections are bounded: extra ones are dropped, the UI keeps working after', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const sockets: net.Socket[] = []
  t.teardown(() => { for (const s of sockets) s.destroy() })
  let dropped = 0
  let droppedAll: () => void = () => {}
  const extra = 10
  const allDropped = new Promise<void>((resolve) => { droppedAll = resolve })
  const connected = []
  for (let i = 0; i < MAX_CONNECTIONS + extra; i++) {
    const s = net.connect(api.port, '127.0.0.1')
    sockets.push(s)
    s.on('error', () => {}) // a dropped connection may reset
    s.on('close', () => { if (++dropped === extra) droppedAll() })
    connected.push(new Promise((resolve) => s.once('connect', resolve)))
  }
  await Promise.all(connected)
  await allDropped
  t.is(dropped, extra, `${extra} connections over ${MAX_CONNECTIONS} were dropped`)
  t.is(api.connections, MAX_CONNECTIONS, 'the server holds exactly the cap')
  for (const s of sockets) s.destroy()
  sockets.length = 0
  while (api.connections > 0) await new Promise((resolve) => setImmediate(resolve)) // the server sees the closes
  t.is((await call(api, 'state')).result.name, 'alice', 'a normal call works once they are gone')
})


test('api fuzz – 10,000+ random request lines, headers, paths, bodies and WebSocket frames; then a normal request works', async (t) => {
  t.timeout(600_000)
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const seed = Number(process.env.FUZZ_SEED ?? crypto.randomInt(2 ** 31))
  t.comment(`seed ${seed} (FUZZ_SEED=${seed} repeats this run)`)
  const rng = new Rng(seed)
  const rnd = (): number => rng.next()
  const myPost: string = (await call(api, 'post', { text: 'a post to react to, edit and delete' })).result.id
  const stranger = (await createApiNode(t, testnet, { name: 'bob' })).app.shoal!.id
  const ids = [api.app.shoal!.id, stranger, myPost, myPost.slice(0, -1), myPost + 'y', stranger.toUpperCase()]
  const escaped: unknown[] = []
  api.on('request-error', (err) => escaped.push(err))
  const int = (n: number): number => Math.floor(rnd() * n)
  const pick = <T> (xs: readonly T[]): T => xs[int(xs.length)]
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)))
  const ascii = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('')
  const unicode = (n: number): string => Array.from({ length: n }, () => pick(['é', '€', '😀', '\u0000', '\ud800', '\u202e', '%', '[', '/', '..', '\\', '?', '#', 'a'])).join('')

  const weird = [
    '/%E0%A4%A', '/%', '/%zz', '/assets/%C0', '//[', 'http://[/', '//x:99999/', '*', '/api/call', '/api/ws', '/api/launch', '/api/',
    '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%00', '/?q=%', '/index.html?%', '/assets/', '/a%2Fb', '//', '/ /', 'HTTP/1.1', ''
  ]
  const target = (): string => {
    switch (int(5)) {
      case 0: return pick(weird)
      case 1: return pick(weird) + pick(weird)
      case 2: return '/' + ascii(int(64))
      case 3: return '/' + [...Buffer.from(unicode(int(16)))].map((b) => '%' + b.toString(16).padStart(2, '0').slice(0, rnd() < 0.2 ? 1 : 2)).join('')
      default: return '/' + 'a/'.repeat(int(2000))
    }
  }
  const value = (depth = 0): unknown => {
    switch (int(depth > 2 ? 6 : 9)) {
      case 0: return ascii(int(40))
      case 1: return unicode(int(20))
      case 2: return pick([0, -1, 1.5, 2 ** 53, -(2 ** 60), 1e308, 51, 1000, 9007199254740991])
      case 3: return pick([true, false, null])
      case 4: return rnd() < 0.6 ? pick(ids) : pick(['', 'x'.repeat(9000), 'y'.repeat(70), '🙂', 'é'.repeat(4097)])
      case 5: return crypto.randomBytes(int(50)).toString('base64')
      case 6: return Array.from({ length: int(4) }, () => value(depth + 1))
      case 7: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(PARAMS), value(depth + 1)]))
      default: return { toString: value(depth + 1) }
    }
  }
  const callBody = (): string => {
    switch (int(6)) {
      case 0: return ascii(int(100))
      case 1: return '['.repeat(int(20_000)) + ']'.repeat(int(20_000))
      case 2: return JSON.stringify(value())
      default: return JSON.stringify({ method: rnd() < 0.9 ? pick(METHODS) : value(), params: rnd() < 0.9 ? Object.fromEntries(PARAMS.filter(() => rnd() < 0.4).map((k) => [k, value()])) : value() })
    }
  }
  const headerLines = (body: string): string[] => {
    const h: string[] = []
    const hostValue = pick([host(api), host(api), `localhost:${api.port}`, 'evil.test', '', '[', '127.0.0.1:99999', ascii(20)])
    if (rnd() < 0.95) h.push(`Host: ${hostValue}`)
    if (rnd() < 0.3) h.push(`Origin: ${pick([`http://${host(api)}`, 'null', 'http://evil.test', '', ascii(10), 'http://[', '%'])}`)
    if (rnd() < 0.7) h.push(`Authorization: ${pick([`Bearer ${api.token}`, `Bearer ${api.token}`, 'Bearer', 'Bearer ' + ascii(43), ascii(30), `Basic ${api.token}`])}`)
    if (rnd() < 0.7) h.push(`Content-Type: ${pick(['application/json', 'application/json; charset=utf-8', 'text/plain', ascii(10)])}`)
    if (rnd() < 0.3) h.push(`Cookie: ${pick(['a=%', 'token=' + api.token, ascii(50), '=;=;=', 'a=' + '%E0%A4%A'])}`)
    if (rnd() < 0.2) h.push(`Sec-WebSocket-Protocol: ${pick(['shoal', 'shoal, shoal.' + api.token, ',,,', ascii(30), 'shoal.' + unicode(3)])}`)
    if (rnd() < 0.1) h.push(`Upgrade: ${pick(['websocket', 'h2c', ascii(5)])}`, 'Connection: Upgrade')
    if (rnd() < 0.2) h.push(`${ascii(int(20) + 1).replace(/[:\s]/g, 'x')}: ${ascii(int(100))}`)
    if (rnd() < 0.05) h.push(`X-Big: ${'b'.repeat(int(20_000))}`)
    const len = Buffer.byteLength(body)
    switch (int(6)) {
      case 0: break
      case 1: h.push(`Content-Length: ${pick([-1, 'abc', 10 ** 12, len + 10, 0])}`); break
      case 2: h.push('Transfer-Encoding: chunked'); break
      default: h.push(`Content-Length: ${len}`)
    }
    return h
  }
  const httpInput = (): string | Buffer => {
    if (rnd() < 0.05) return bytes(int(300))
    const body = callBody()
    const method = pick(['GET', 'POST', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'CONNECT', ascii(6).replace(/\s/g, '_')])
    const version = pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', ''])
    const headers = headerLines(body)
    const chunked = headers.includes('Transfer-Encoding: chunked')
    const payload = chunked ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n${pick(['0\r\n\r\n', 'zz\r\n', ''])}` : body
    const line = `${method} ${target()} ${version}`
    const text = `${line}\r\n${headers.join('\r\n')}\r\n\r\n${method === 'GET' && rnd() < 0.7 ? '' : payload}`
    return rnd() < 0.3 ? text.repeat(1 + int(4)) : text // some pipelined
  }
  const randomFrames = (): Buffer => {
    const frames: Buffer[] = []
    for (let i = 0, n = 1 + int(4); i < n; i++) {
      const payload = rnd() < 0.5 ? Buffer.from(callBody()) : bytes(int(200))
      frames.push(frame(pick([0, 1, 1, 1, 2, 3, 8, 9, 10, 15]), payload, {
        fin: rnd() < 0.8,
        mask: rnd() < 0.85,
        rsv: rnd() < 0.1 ? 1 + int(7) : 0,
        lengthOverride: rnd() < 0.1 ? pick([0n, 125n, 126n, 65535n, 2n ** 63n - 1n, 300_000n, BigInt(payload.length + 5)]) : undefined
      }))
    }
    return Buffer.concat(frames)
  }

  let sent = 0
  const counts = { http: 0, upgrade: 0, ws: 0 }
  const statusesSeen = new Map<number, number>()
  const internal: string[] = []
  const note = (raw: string): void => {
    for (const s of statuses(raw)) statusesSeen.set(s, (statusesSeen.get(s) ?? 0) + 1)
    if (raw.includes('"INTERNAL"')) internal.push(raw.slice(0, 300))
  }

  // Raw HTTP: request lines, headers, paths, bodies (20 connections at a time).
  const HTTP_INPUTS = 5000
  const UPGRADE_INPUTS = 1500
  const WS_MESSAGES = 4000
  const queue = Array.from({ length: HTTP_INPUTS }, httpInput)
  await Promise.all(Array.from({ length: 20 }, async () => {
    for (let input = queue.pop(); input !== undefined; input = queue.pop()) {
      note(await rawExchange(api.port, input))
      counts.http++
    }
  }))
  sent += counts.http

  // Raw WebSocket frames after a good handshake: bad opcodes, unmasked, reserved bits, lying lengths.
  const frameQueue = Array.from({ length: UPGRADE_INPUTS }, randomFrames)
  await Promise.all(Array.from({ length: 10 }, async () => {
    for (let frames = frameQueue.pop(); frames !== undefined; frames = frameQueue.pop()) {
      const raw = await rawExchange(api.port, Buffer.concat([Buffer.from(upgradeRequest(api.port, api.token)), frames]))
      if (raw.includes('"INTERNAL"')) internal.push(raw.slice(0, 300))
      counts.upgrade++
    }
  }))
  sent += counts.upgrade

  // Well-formed HTTP calls with random methods and params, answered in full.
  const CALLS = 600
  for (let i = 0; i < CALLS; i++) {
    const r = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: host(api), Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body: callBody() })
    statusesSeen.set(r.status, (statusesSeen.get(r.status) ?? 0) + 1)
    if (r.body.includes('"INTERNAL"')) internal.push(r.body.slice(0, 300))
  }
  sent += CALLS

  // Well-framed WebSocket messages with random JSON: every method with random params.
  const c = wsClient(await openWs(t, api))
  let id = 0
  for (let batch = 0; batch < WS_MESSAGES / 16; batch++) {
    const ids: number[] = []
    for (let i = 0; i < 16; i++) {
      id++
      if (rnd() < 0.1) {
        // Maybe not a request at all. Its answer carries -1 or whatever "id" the junk held, so it
        // is not awaited by id: the requests after it are, and every answer is checked below.
        c.sendRaw(callBody())
      } else {
        c.send({ type: 'request', id, method: rnd() < 0.95 ? pick(METHODS) : value(), params: Object.fromEntries(PARAMS.filter(() => rnd() < 0.4).map((k) => [k, value()])) })
        ids.push(id)
      }
      counts.ws++
    }
    for (const i of ids) {
      const a = await c.answer(i)
      if (a.error?.code === 'INTERNAL') internal.push(JSON.stringify(a).slice(0, 300))
    }
  }
  sent += counts.ws
  for (const a of c.responses) if (a.error?.code === 'INTERNAL') internal.push(JSON.stringify(a).slice(0, 300))

  t.comment(`inputs: ${JSON.stringify(counts)}; HTTP statuses: ${JSON.stringify(Object.fromEntries(statusesSeen))}`)
  t.ok(sent >= 10_000, `${sent} inputs thrown at the server`)
  t.alike(internal, [], 'no input was answered with INTERNAL')
  t.absent(statusesSeen.has(500), 'no 500')
  t.is(escaped.length, 0, `no throw escaped a handler${escaped.length > 0 ? ': ' + String(escaped[0]) : ''}`)
  const after = await call(api, 'post', { text: 'still here after the fuzz' })
  t.ok(after.result?.id, 'a normal call works afterwards')
  const ws = wsClient(await openWs(t, api))
  ws.send({ type: 'request', id: 1, method: 'timeline', params: { limit: 1 } })
  t.is((await ws.answer(1)).result.items[0].text, 'still here after the fuzz', 'and a normal WebSocket call')
})
