import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { TEXT_LIMITS } from '../src/api/protocol.js'
import { CAPS } from '../src/feeds/schema.js'
import { createLocalDht } from './helpers/swarm.js'
import { call, createApiNode, request, tryUpgrade } from './helpers/api.js'

function listeningAddresses (port: number): string[] {
  const out: string[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== '0A') continue // 0A = LISTEN
      const [addr, p] = cols[1].split(':')
      if (parseInt(p, 16) === port) out.push(addr)
    }
  }
  return out
}

test('api – token: missing or wrong → 401 on calls and WebSocket upgrades', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const host = `127.0.0.1:${api.port}`
  const post = (headers: Record<string, string>) => request(api.port, { method: 'POST', path: '/api/call', headers: { Host: host, 'Content-Type': 'application/json', ...headers }, body: '{"method":"state"}' })
  t.is((await post({})).status, 401, 'no token')
  t.is((await post({ Authorization: 'Bearer nope' })).status, 401, 'wrong token')
  t.is((await post({ Authorization: `Bearer ${api.token}x` })).status, 401, 'token with a suffix')
  t.is(JSON.parse((await post({})).body).error.code, 'UNAUTHORIZED')
  const ok = await post({ Authorization: `Bearer ${api.token}` })
  t.is(ok.status, 200)
  t.is(JSON.parse(ok.body).result.name, 'alice')
  t.absent(ok.headers['access-control-allow-origin'], 'no CORS header')

  t.is((await tryUpgrade(api.port, { protocols: ['shoal'] })).status, 401, 'upgrade without token')
  t.is((await tryUpgrade(api.port, { protocols: ['shoal', 'shoal.wrong'] })).status, 401, 'upgrade with a wrong token')
  const good = await tryUpgrade(api.port, { protocols: ['shoal', `shoal.${api.token}`], origin: `http://127.0.0.1:${api.port}` })
  t.is(good.status, 101, 'upgrade with the token and our origin')
  good.ws?.close()
  t.absent(api.url.includes('?'), 'the token is not in a query string')
  t.ok(api.url.includes('#token='), 'the token is in the fragment')
})

test('api – Host and Origin: foreign ones → 403, before any upgrade', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const auth = { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }
  for (const host of [`evil.test:${api.port}`, `localhost6:${api.port}`, `127.0.0.2:${api.port}`, '127.0.0.1', `127.0.0.1:${api.port + 1}`]) {
    const r = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: host, ...auth }, body: '{"method":"state"}' })
    t.is(r.status, 403, `Host ${host} → 403`)
    t.is((await request(api.port, { path: '/', headers: { Host: host } })).status, 403, `Host ${host} → 403 for the page too`)
    t.is((await tryUpgrade(api.port, { host, protocols: ['shoal', `shoal.${api.token}`] })).status, 403, `Host ${host} → 403 on upgrade`)
  }
  for (const origin of ['http://evil.test', 'null', `http://127.0.0.1:${api.port + 1}`, `https://127.0.0.1:${api.port}`, `http://localhost.evil.test:${api.port}`]) {
    const r = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: `127.0.0.1:${api.port}`, Origin: origin, ...auth }, body: '{"method":"state"}' })
    t.is(r.status, 403, `Origin ${origin} → 403`)
    t.absent(r.headers['access-control-allow-origin'])
    t.is((await tryUpgrade(api.port, { origin, protocols: ['shoal', `shoal.${api.token}`] })).status, 403, `Origin ${origin} → 403 on upgrade`)
  }
  const ours = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: `localhost:${api.port}`, Origin: `http://localhost:${api.port}`, ...auth }, body: '{"method":"state"}' })
  t.is(ours.status, 200, 'localhost:PORT with its own origin is fine')
})

test('api – listens on loopback only; bad input gets coded errors and the node keeps working', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const addrs = listeningAddresses(api.port)
  t.ok(addrs.length > 0, 'listening socket found')
  t.ok(addrs.every((a) => a === '0100007F'), `bound to 127.0.0.1 only (${addrs.join(', ')})`)

  t.is((await call(api, 'post', {})).error.code, 'BAD_REQUEST', 'missing text')
  t.is((await call(api, 'post', { text: 42 })).error.code, 'BAD_REQUEST', 'text of the wrong type')
  t.is((await call(api, 'post', { text: 'x'.repeat(9000) })).error.code, 'MESSAGE_TOO_LARGE')
  t.is((await call(api, 'thread', { id: 'not-a-ref' })).error.code, 'INVALID_ID')
  t.is((await call(api, 'follow', { id: 'yyy' })).error.code, 'INVALID_ID')
  t.is((await call(api, 'nope')).error.code, 'UNKNOWN_METHOD')
  t.is((await call(api, 'timeline', { limit: 'ten' })).error.code, 'BAD_REQUEST')
  t.is((await call(api, 'init', { name: 'again' })).error.code, 'IDENTITY_EXISTS')
  const garbage = await request(api.port, { method: 'POST', path: '/api/call', headers: { Host: `127.0.0.1:${api.port}`, Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' }, body: '{not json' })
  t.is(garbage.status, 400)
  const posted = await call(api, 'post', { text: 'still alive' })
  t.ok(posted.result.id, 'a good call after the bad ones works')
  t.is((await call(api, 'timeline')).result.items[0].text, 'still alive')
})

test('api – first run: init over the API returns the phrase once; WebSocket requests and live events', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet)
  t.is((await call(api, 'state')).result.hasIdentity, false)
  t.is((await call(api, 'timeline')).error.code, 'NO_IDENTITY')
  const { ws } = await tryUpgrade(api.port, { protocols: ['shoal', `shoal.${api.token}`] })
  t.ok(ws)
  const messages: any[] = []
  const waiters: Array<() => void> = []
  ws!.on('message', (d) => { messages.push(JSON.parse(String(d))); for (const w of waiters.splice(0)) w() })
  const until = async (pred: (m: any) => boolean): Promise<any> => {
    for (;;) {
      const hit = messages.find(pred)
      if (hit) return hit
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  ws!.send(JSON.stringify({ type: 'request', id: 1, method: 'init', params: { name: 'carol' } }))
  const init = await until((m) => m.type === 'response' && m.id === 1)
  t.is(init.result.phrase.split(' ').length, 24)
  const state = await until((m) => m.type === 'event' && m.event === 'state')
  t.is(state.data.name, 'carol')
  ws!.send(JSON.stringify({ type: 'request', id: 2, method: 'post', params: { text: 'over the socket' } }))
  t.ok((await until((m) => m.id === 2)).result.id)
  await until((m) => m.type === 'event' && m.event === 'changed')
  t.pass('changed event after a post')
  ws!.send('not json')
  t.is((await until((m) => m.id === -1)).error.code, 'BAD_REQUEST')
  ws!.send(JSON.stringify({ type: 'request', id: 3, method: 'timeline', params: {} }))
  t.is((await until((m) => m.id === 3)).result.items[0].text, 'over the socket')
  ws!.close()
})

test('api – a launch code is traded for the token once', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const launch = api.launchUrl()
  t.absent(launch.includes(api.token), 'the launch URL does not hold the token')
  const code = launch.split('#launch=')[1]
  const trade = (c: string, origin?: string) => request(api.port, { method: 'POST', path: '/api/launch', headers: { Host: `127.0.0.1:${api.port}`, 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) }, body: JSON.stringify({ code: c }) })
  t.is((await trade(code, 'http://evil.test')).status, 403, 'not from a foreign origin')
  const first = await trade(code)
  t.is(first.status, 200)
  t.is(JSON.parse(first.body).token, api.token)
  t.is((await trade(code)).status, 401, 'single use')
  t.is((await trade('guess')).status, 401)
})

test('api – the UI\'s byte limits are the node\'s record caps', (t) => {
  t.alike(TEXT_LIMITS, { text: CAPS.text, contentWarning: CAPS.contentWarning, name: CAPS.name, bio: CAPS.bio })
})

test('api – launch pages: owner-only, refused in a symlinked or foreign folder, deleted once traded', async (t) => {
  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { name: 'alice' })
  const dir = await t.tmp()
  const loose = path.join(dir, 'loose')
  fs.mkdirSync(loose, { mode: 0o755 })
  fs.chmodSync(loose, 0o755)
  const page = await api.launchPage(loose)
  t.is(fs.statSync(loose).mode & 0o777, 0o700, 'a group/world-readable folder is tightened to 0700')
  t.is(fs.statSync(page.file).mode & 0o777, 0o600, 'the page is 0600')
  t.ok(page.url.startsWith('file://') && !page.url.includes('#'), 'its address holds no code')
  const code = /#launch=([A-Za-z0-9_-]+)/.exec(fs.readFileSync(page.file, 'utf8'))?.[1] ?? ''
  const trade = (c: string) => request(api.port, { method: 'POST', path: '/api/launch', headers: { Host: `127.0.0.1:${api.port}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ code: c }) })
  const launched = new Promise<string>((resolve) => api.once('launched', resolve))
  t.is((await trade(code)).status, 200)
  t.is(await launched, page.id, 'launched names the page that was traded')
  t.absent(fs.existsSync(page.file), 'deleted before the token was answered')
  t.is((await trade(code)).status, 401, 'single use')

  const elsewhere = path.join(dir, 'elsewhere')
  fs.mkdirSync(elsewhere)
  fs.symlinkSync(elsewhere, path.join(dir, 'link'))
  await t.exception(api.launchPage(path.join(dir, 'link')), /STORAGE_ERROR/, 'a symlinked folder is refused')
  if (process.getuid?.() === 0) {
    const foreign = path.join(dir, 'foreign')
    fs.mkdirSync(foreign, { mode: 0o700 })
    fs.chownSync(foreign, 65534, 65534)
    await t.exception(api.launchPage(foreign), /STORAGE_ERROR/, 'a folder of another user is refused')
  }
})
