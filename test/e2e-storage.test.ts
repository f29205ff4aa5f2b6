import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { Shoal } from '../src/node/shoal.js'
import { call, createApiNode } from './helpers/api.js'
import { browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
import { createLocalDht } from './helpers/swarm.js'

const skip = browserSkip()
if (skip !== null) console.log(`# skipping browser tests: ${skip}`)
const browserTest = skip === null ? test : test.skip

browserTest('e2e storage – a feed that lost blocks in a crash shows a banner and refuses to post, in words', async (t) => {
  t.timeout(180_000)
  const dir = path.join(await t.tmp(), 'alice')
  const { shoal: first } = await Shoal.init(dir, { name: 'alice' })
  for (let i = 0; i < 4; i++) await first.post({ text: `post ${i}` })
  await first.close()
  const db = path.join(dir, 'cores', 'db')
  const aside = path.join(await t.tmp(), 'db-before')
  fs.cpSync(db, aside, { recursive: true })
  const second = new Shoal(dir)
  await second.ready()
  for (let i = 4; i < 7; i++) await second.post({ text: `post ${i}` })
  await second.close()
  // A power cut: the database lost its newest writes.
  fs.rmSync(db, { recursive: true })
  fs.cpSync(aside, db, { recursive: true })

  const testnet = await createLocalDht(t)
  const { api } = await createApiNode(t, testnet, { storage: dir })
  const state = (await call(api, 'state')).result
  t.alike(state.storage.rolledBack, { length: state.storage.rolledBack.expected - 3, expected: state.storage.rolledBack.expected }, 'the node noticed 3 lost blocks')

  const browser = await launchBrowser(t)
  const page = await (await browser.newContext({ viewport: { width: 900, height: 900 } })).newPage()
  await page.goto(api.url)
  const banner = page.getByTestId('storage-rolled-back')
  await banner.waitFor()
  t.ok((await banner.textContent())?.includes('lost its newest 3 message(s)'), 'the banner says how many')
  await page.getByTestId('compose-text').fill('would fork')
  await page.getByTestId('compose-submit').click()
  const error = page.locator('[data-code="FEED_ROLLED_BACK"]')
  await error.waitFor()
  t.absent((await error.textContent())?.includes('FEED_ROLLED_BACK'), 'the refusal is said in words, not as a code')
  await page.screenshot({ path: outputPath('storage-rolled-back.png') })
})
