import test from 'brittle'
import { createApiNode } from './helpers/api.js'
import { browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
import { createLocalDht } from './helpers/swarm.js'

const skip = browserSkip()
if (skip !== null) console.log(`# skipping browser tests: ${skip}`)
const browserTest = skip === null ? test : test.skip

browserTest('room e2e – A creates a room and an invite in A\'s window, B joins with the code in B\'s, they chat live', async (t) => {
  t.timeout(180_000)
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })

  const browser = await launchBrowser(t)
  const pageA = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  const pageB = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  await pageA.goto(a.api.url)
  await pageB.goto(b.api.url)

  await pageA.getByTestId('nav-rooms').click()
  await pageA.getByTestId('room-name').fill('browser room')
  await pageA.getByTestId('room-create').click()
  await pageA.getByTestId('room-messages').waitFor()
  await a.app.need().rooms.announced() // the joiner looks the room up once; in a test it could come before the announce
  await pageA.getByTestId('room-invite-open').click()
  await pageA.getByTestId('room-invite-make').click()
  const code = (await pageA.getByTestId('room-invite-code').textContent())?.trim() ?? ''
  t.ok(code.length > 20, 'A\'s window shows the code')

  await pageB.getByTestId('nav-rooms').click()
  await pageB.getByTestId('room-code').fill(code)
  await pageB.getByTestId('room-join').click()
  await pageB.getByTestId('room-messages').waitFor({ timeout: 120_000 })
  t.pass('B joined and sees the room')

  const loads: string[] = []
  pageB.on('framenavigated', (f) => { if (f === pageB.mainFrame()) loads.push(f.url()) })
  const fromA = `hello from alice ${Date.now()}`
  await pageA.getByTestId('room-compose').fill(fromA)
  await pageA.getByTestId('room-send').click()
  await pageB.getByTestId('room-message').filter({ hasText: fromA }).waitFor({ timeout: 60_000 })
  t.is(loads.length, 0, 'A\'s message appeared live in B\'s window')

  const fromB = `hi alice, bob here ${Date.now()}`
  await pageB.getByTestId('room-compose').fill(fromB)
  await pageB.getByTestId('room-send').click()
  await pageA.getByTestId('room-message').filter({ hasText: fromB }).waitFor({ timeout: 60_000 })
  t.pass('B\'s message appeared live in A\'s window')
  await pageA.screenshot({ path: outputPath('room-a.png') })
  await pageB.screenshot({ path: outputPath('room-b.png') })

  // names: A and B do not follow each other; each window shows the other's name, never "null"
  t.ok(await pageA.getByTestId('room-message').filter({ hasText: fromB }).getByText('bob').count() > 0, 'A sees bob\'s name from the room')
  t.is(await pageA.getByText('null', { exact: true }).count(), 0, 'no "null" anywhere in A\'s window')

  // B leaves with a confirm; A sees B gone from the members, live
  await pageB.getByTestId('room-leave').click()
  await pageB.getByTestId('room-leave-confirm').waitFor()
  await pageB.getByTestId('room-leave-yes').click()
  await pageB.getByTestId('room-list').waitFor({ timeout: 60_000 })
  await pageB.getByTestId('room-list').getByText('You are in no rooms yet.').waitFor({ timeout: 60_000 })
  t.pass('B is back on the rooms list, without the room')
  await pageA.getByTestId('room-members').getByText('bob').waitFor({ state: 'detached', timeout: 60_000 })
  t.pass('A\'s window shows B gone from the members')
  await pageB.screenshot({ path: outputPath('room-b-left.png') })
})
