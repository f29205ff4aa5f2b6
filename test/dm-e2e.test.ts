import test from 'brittle'
import { call, createApiNode } from './helpers/api.js'
import { browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
import { createLocalDht } from './helpers/swarm.js'

const skip = browserSkip()
if (skip !== null) console.log(`# skipping browser tests: ${skip}`)
const browserTest = skip === null ? test : test.skip

/** Alice and Bob on a local testnet, API nodes that follow each other and have synced once. */
async function friends (t: Parameters<Parameters<typeof test>[1]>[0]) {
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })
  const idA = a.app.shoal!.id
  const idB = b.app.shoal!.id
  await call(a.api, 'follow', { id: idB })
  await call(b.api, 'follow', { id: idA })
  await a.app.need().sync({ timeout: 30_000 })
  await b.app.need().sync({ timeout: 30_000 })
  return { a, b, idA, idB }
}

browserTest('e2e dm – A writes a DM in A\'s window, B reads it in B\'s window without a reload and replies', async (t) => {
  t.timeout(180_000)
  const { a, b, idA, idB } = await friends(t)

  const browser = await launchBrowser(t)
  const pageA = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  const pageB = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  await pageA.goto(a.api.url)
  await pageB.goto(b.api.url)
  await pageA.getByTestId('nav-dm').click()
  await pageB.getByTestId('nav-dm').click()
  await pageB.getByTestId('dm-inbox').waitFor({ state: 'attached' })
  // A marker on B's window: a reload would drop it (client-side route changes keep it).
  await pageB.evaluate(() => { (window as any).shoalNoReload = true })

  // A picks bob by name from the people A follows.
  await pageA.getByTestId('dm-new').click()
  await pageA.locator(`[data-testid="dm-pick"][data-id="${idB}"]`).check()
  const text = `a private hello ${Date.now()}`
  await pageA.getByTestId('dm-text').fill(text)
  await pageA.getByTestId('dm-send').click()
  await pageA.getByTestId('dm-messages').getByText(text).waitFor()
  t.pass('the DM shows in A\'s conversation view')

  const row = pageB.getByTestId('dm-conversation').filter({ hasText: 'alice' })
  await row.getByTestId('dm-unread').waitFor({ timeout: 60_000 })
  t.pass('B\'s inbox shows the conversation with an unread badge, live')
  await row.click()
  await pageB.getByTestId('dm-messages').getByText(text).waitFor()
  t.is(await pageB.evaluate(() => (window as any).shoalNoReload), true, 'B read it without a reload')
  await pageB.getByTestId('dm-safety').first().waitFor()

  const reply = `hello back ${Date.now()}`
  await pageB.getByTestId('dm-message').filter({ hasText: text }).getByTestId('dm-reply').click()
  await pageB.getByTestId('dm-text').fill(reply)
  await pageB.getByTestId('dm-send').click()
  await pageB.getByTestId('dm-messages').getByText(reply).waitFor()
  await pageA.getByTestId('dm-messages').getByText(reply).waitFor({ timeout: 60_000 })
  t.pass('A sees B\'s reply live in the open conversation')
  await pageA.screenshot({ path: outputPath('dm-a.png') })
  await pageB.screenshot({ path: outputPath('dm-b.png') })
})

browserTest('e2e dm – blocking the sender takes their DMs out of the unread badge, live', async (t) => {
  t.timeout(180_000)
  const { a, b, idA, idB } = await friends(t)

  const browser = await launchBrowser(t)
  const page = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  await page.goto(b.api.url)
  await page.getByTestId('nav-home').waitFor()
  t.is((await call(a.api, 'dmSend', { to: [idB], text: 'one from alice' })).error, undefined)
  const badge = page.getByTestId('dm-unread-total')
  await badge.waitFor({ timeout: 60_000 })
  t.is(await badge.textContent(), '1', 'bob\'s nav shows 1 unread DM')
  t.is((await call(b.api, 'block', { id: idA })).error, undefined)
  await badge.waitFor({ state: 'detached', timeout: 30_000 })
  t.pass('blocked: the badge is gone without a reload or a new DM')
  t.is((await call(b.api, 'dmSend', { to: [idA], text: 'while blocked' })).error?.code, 'BLOCKED')
})
