import test from 'brittle'
import http from 'node:http'
import { call, createApiNode } from './helpers/api.js'
import { browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
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
