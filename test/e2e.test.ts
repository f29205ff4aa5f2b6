import test from 'brittle'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { call, createApiNode } from './helpers/api.js'
import { CHROMIUM, browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
import { createLocalDht } from './helpers/swarm.js'

const skip = browserSkip()
if (skip !== null) console.log(`# skipping browser tests: ${skip}`)
const browserTest = skip === null ? test : test.skip

browserTest('e2e – A posts in A\'s window, it appears live in B\'s; B replies from the thread; A sees the reply', async (t) => {
  t.timeout(180_000)
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })
  await call(a.api, 'follow', { id: b.app.shoal!.id })

  const browser = await launchBrowser(t)
  const pageA = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  const pageB = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  await pageA.goto(a.api.url)
  await pageB.goto(b.api.url)
  await pageA.getByTestId('timeline').waitFor()
  await pageB.getByTestId('timeline').waitFor()
  t.absent(pageA.url().includes('token='), 'the token left the address bar')

  // B follows A from the People view, by pasting A's id.
  await pageB.getByTestId('nav-people').click()
  await pageB.getByTestId('follow-input').fill(a.app.shoal!.id)
  await pageB.getByTestId('follow-submit').click()
  await pageB.getByText('alice').or(pageB.getByText(a.app.shoal!.id.slice(0, 8))).first().waitFor()
  await pageB.getByTestId('nav-home').click()

  const text = `hello from alice's window ${Date.now()}`
  await pageA.getByTestId('compose-text').fill(text)
  await pageA.getByTestId('compose-submit').click()
  await pageA.getByTestId('timeline').getByText(text).waitFor()
  t.pass('the post shows in A\'s timeline')

  const loads: string[] = []
  pageB.on('framenavigated', (f) => { if (f === pageB.mainFrame()) loads.push(f.url()) })
  const inB = pageB.getByTestId('post').filter({ hasText: text })
  await inB.waitFor({ timeout: 60_000 })
  t.is(loads.length, 0, 'it appeared in B\'s timeline without a reload')
  await pageA.screenshot({ path: outputPath('timeline-a.png') })
  await pageB.screenshot({ path: outputPath('timeline-b.png') })

  await inB.getByTestId('open-thread').click()
  const threadB = pageB.getByTestId('thread-view')
  await threadB.waitFor()
  await threadB.getByTestId('reply-button').first().click()
  const reply = `a reply from bob ${Date.now()}`
  await threadB.getByTestId('reply-text').fill(reply)
  await threadB.getByTestId('reply-submit').click()
  await threadB.getByText(reply).waitFor()
  t.pass('the reply shows in B\'s thread view')

  const inA = pageA.getByTestId('post').filter({ hasText: text }).first()
  await inA.getByTestId('open-thread').click()
  await pageA.getByTestId('thread-view').getByText(reply).waitFor({ timeout: 60_000 })
  t.pass('B\'s reply shows in A\'s thread view')
  await pageA.screenshot({ path: outputPath('thread-a.png') })
})

browserTest('e2e – a hostile page on another local origin cannot change anything', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const port = a.api.port
  const hostile = `<!doctype html><html><body>
<form id="f" method="POST" action="http://127.0.0.1:${port}/api/call" enctype="text/plain" target="sink">
<input name='{"method":"post","params":{"text":"pwned by form","x":"' value='"}}'></form>
<iframe name="sink"></iframe>
<script>
window.results = {}
async function run () {
  try {
    const r = await fetch('http://127.0.0.1:${port}/api/call', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer guess' }, body: JSON.stringify({ method: 'post', params: { text: 'pwned by fetch' } }) })
    window.results.fetch = 'status ' + r.status
  } catch (e) { window.results.fetch = 'blocked: ' + e.message }
  try {
    const r = await fetch('http://127.0.0.1:${port}/api/call', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ method: 'post', params: { text: 'pwned by no-cors' } }) })
    window.results.nocors = 'opaque ' + r.type
  } catch (e) { window.results.nocors = 'blocked: ' + e.message }
  window.results.ws = await new Promise((resolve) => {
    try {
      const ws = new WebSocket('ws://127.0.0.1:${port}/api/ws', ['shoal', 'shoal.guess'])
      ws.onopen = () => { ws.send(JSON.stringify({ type: 'request', id: 1, method: 'post', params: { text: 'pwned by ws' } })); resolve('open') }
      ws.onerror = () => resolve('refused')
    } catch (e) { resolve('threw ' + e.message) }
  })
  document.getElementById('f').submit()
  window.results.form = 'submitted'
}
run().then(() => { window.done = true })
</script></body></html>`
  const server = http.createServer((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }).end(hostile) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())), { order: 0 })
  const evilPort = (server.address() as { port: number }).port

  const before = (await call(a.api, 'timeline')).result.items.length
  const browser = await launchBrowser(t)
  const page = await (await browser.newContext()).newPage()
  await page.goto(`http://127.0.0.1:${evilPort}/`)
  await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, null, { timeout: 30_000 })
  await page.waitForLoadState('load')
  const results = await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results)
  t.comment(JSON.stringify(results))
  t.not(results.ws, 'open', 'the WebSocket upgrade was refused')
  t.absent(String(results.fetch).startsWith('status 200'), 'fetch got no answer it could read')
  const after = (await call(a.api, 'timeline')).result
  t.is(after.items.length, before, 'no post was written')
  t.absent(after.items.some((i: { text: string }) => i.text.startsWith('pwned')), 'nothing from the hostile page')
})

/** Every file under `dir` whose bytes contain `needle` (the browser profile after it closed). */
function filesContaining (dir: string, needle: string): string[] {
  const hits: string[] = []
  const want = Buffer.from(needle)
  const want16 = Buffer.from(needle, 'utf16le') // DOM storage keeps strings as UTF-16
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile()) {
        const data = fs.readFileSync(full)
        if (data.includes(want) || data.includes(want16)) hits.push(path.relative(dir, full))
      }
    }
  }
  walk(dir)
  return hits
}

browserTest('e2e – desktop launch page in real Chromium: the token reaches the page and nothing written to disk', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const dir = await t.tmp()
  const profile = path.join(dir, 'profile')
  const page = await a.api.launchPage(path.join(dir, 'launch'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  let closed = false
  t.teardown(async () => { if (!closed) await context.close() }, { order: 0 })
  const tab = context.pages()[0] ?? await context.newPage()
  await tab.goto(page.url)
  await tab.getByTestId('timeline').waitFor()
  t.pass('the launch page led to the UI and the code was traded')
  t.absent(fs.existsSync(page.file), 'the launch page was deleted')
  t.absent(tab.url().includes('launch='), 'the code left the address bar')
  const stored = await tab.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length, cookie: document.cookie }))
  t.alike(stored, { session: 0, local: 0, cookie: '' }, 'no token in session storage, local storage or cookies')
  const text = `launched window posts ${Date.now()}`
  await tab.getByTestId('compose-text').fill(text)
  await tab.getByTestId('compose-submit').click()
  await tab.getByTestId('timeline').getByText(text).waitFor()
  t.pass('the window is authorised')
  await context.close()
  closed = true
  t.alike(filesContaining(profile, a.api.token), [], 'the token is in no file of the browser profile')
})

browserTest('e2e – the composer counts bytes and cannot send an oversize post', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const browser = await launchBrowser(t)
  const tab = await (await browser.newContext()).newPage()
  await tab.goto(a.api.url)
  await tab.getByTestId('timeline').waitFor()
  await tab.getByTestId('compose-text').fill('x'.repeat(300_000))
  await tab.getByTestId('compose-bytes').waitFor()
  t.ok((await tab.getByTestId('compose-bytes').textContent())?.includes('too long'), 'the counter says it is too long')
  t.ok(await tab.getByTestId('compose-submit').isDisabled(), 'Post is disabled')
  await tab.getByTestId('compose-text').press('Control+Enter')
  await tab.getByTestId('compose-text').fill('é'.repeat(4097)) // 8194 bytes in 4097 characters
  t.ok(await tab.getByTestId('compose-submit').isDisabled(), 'bytes are counted, not characters')
  await tab.getByTestId('compose-text').fill('é'.repeat(4096))
  t.absent(await tab.getByTestId('compose-submit').isDisabled(), 'exactly the cap can be posted')
  await tab.getByTestId('compose-submit').click()
  await tab.getByTestId('post').first().waitFor()
  const items = (await call(a.api, 'timeline')).result.items
  t.is(items.length, 1, 'only the post within the cap was written')
  t.is(items[0].text.length, 4096)
})

browserTest('e2e – after a node restart, pasting the newly printed address into the open tab re-authorises it', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const storage = await t.tmp()
  const first = await createApiNode(t, testnet, { name: 'alice', storage })
  const port = first.api.port
  const browser = await launchBrowser(t)
  const tab = await (await browser.newContext()).newPage()
  await tab.goto(first.api.url)
  await tab.getByTestId('timeline').waitFor()
  const oldToken = first.api.token
  await first.api.close()
  await first.app.close()
  await tab.getByTestId('disconnected').waitFor()
  t.pass('the tab noticed the node went away')

  const second = await createApiNode(t, testnet, { storage, port })
  t.not(second.api.token, oldToken, 'a new token after the restart')
  await tab.getByTestId('unauthorized').waitFor({ timeout: 30_000 })
  t.pass('the old token is refused')
  await tab.evaluate(() => { (window as unknown as { marker: number }).marker = 1 })
  await tab.evaluate((url) => { location.href = url }, second.api.url) // as if pasted into the address bar
  await tab.getByTestId('unauthorized').waitFor({ state: 'detached' })
  const text = `after the restart ${Date.now()}`
  await tab.getByTestId('compose-text').fill(text)
  await tab.getByTestId('compose-submit').click()
  await tab.getByTestId('timeline').getByText(text).waitFor()
  t.pass('the same tab works with the new address')
  t.is(await tab.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'without a reload')
  t.absent(tab.url().includes('token='), 'the new token left the address bar too')
})
