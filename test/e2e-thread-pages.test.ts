import test from 'brittle'
import type { Page } from 'playwright-core'
import { refToString, type MessageRef } from '../src/ids.js'
import { createApiNode } from './helpers/api.js'
import { browserSkip, launchBrowser, outputPath } from './helpers/browser.js'
import { createLocalDht } from './helpers/swarm.js'

const skip = browserSkip()
if (skip !== null) console.log(`# skipping browser tests: ${skip}`)
const browserTest = skip === null ? test : test.skip

/** Replies per page of the thread view: it asks `thread` with no limit, so the views' default (Views.thread). */
const PAGE = 50

/** The data-id of every post card in the thread view, in document order (the root first). */
function shownIds (page: Page): Promise<string[]> {
  return page.getByTestId('thread-view').getByTestId('post').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''))
}

browserTest('e2e thread – "more replies" loads every later page: each reply once, in thread order, nested under its parent; the button goes at the end', async (t) => {
  t.timeout(180_000)
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const shoal = app.shoal!

  // Two full pages and a part page. Three replies answer an earlier reply on an earlier page
  // (page 2 → page 1, page 3 → page 1, page 3 → page 2): the view must nest them once loaded.
  const n = 2 * PAGE + 7
  const answers = new Map<number, number>([[60, 5], [103, 70], [105, 50]])
  const root = await shoal.post({ text: 'thread root' })
  const replies: MessageRef[] = []
  for (let k = 1; k <= n; k++) {
    const parent = answers.has(k) ? replies[answers.get(k)! - 1] : root
    replies.push(await shoal.post({ text: `reply ${k}/${n}`, reply: parent }))
  }
  const id = (k: number): string => refToString(replies[k - 1])

  // Thread order, depth first: each reply after its parent and the parent's earlier replies.
  const children = new Map<number, number[]>()
  for (let k = 1; k <= n; k++) {
    const p = answers.get(k) ?? 0
    children.set(p, [...(children.get(p) ?? []), k])
  }
  const depthFirst = (p: number, upTo: number): number[] => (children.get(p) ?? []).filter((k) => k <= upTo).flatMap((k) => [k, ...depthFirst(k, upTo)])
  const expected = (upTo: number): string[] => [refToString(root), ...depthFirst(0, upTo).map(id)]

  const browser = await launchBrowser(t)
  const page = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage()
  await page.goto(api.url)
  await page.getByTestId('timeline').getByTestId('post').filter({ hasText: `reply ${n}/${n}` }).getByTestId('open-thread').click()
  const view = page.getByTestId('thread-view')
  await view.getByTestId('post').filter({ hasText: 'thread root' }).waitFor()
  t.alike(await shownIds(page), expected(PAGE), 'the first page: the root and the first 50 replies, in order')
  t.is(await view.getByTestId('more-replies').count(), 1, 'with a "more replies" button')

  const pages = [2 * PAGE, n]
  for (const upTo of pages) {
    const before = (await shownIds(page)).length
    await view.getByTestId('more-replies').click()
    await page.waitForFunction((count) => document.querySelectorAll('[data-testid="thread-view"] [data-testid="post"]').length > count, before)
    const ids = await shownIds(page)
    t.alike(ids, expected(upTo), `after a click: every reply up to ${upTo}, in thread order, the late ones under their parents`)
    t.is(new Set(ids).size, ids.length, 'no reply shown twice')
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="more-replies"]') === null)
  t.is(await view.getByTestId('more-replies').count(), 0, 'no "more replies" after the last page')
  const nested = view.getByTestId('post').filter({ hasText: 'reply 5/' }).locator('xpath=ancestor::li[1]').getByTestId('post').filter({ hasText: `reply 60/${n}` })
  t.is(await nested.count(), 1, 'a reply from page 2 sits inside its parent\'s list item from page 1')
  await page.screenshot({ path: outputPath('thread-pages.png'), fullPage: true })

  // The thread stays live with every page loaded: a new reply lands after the last page.
  const late = await shoal.post({ text: 'a late reply', reply: root })
  await view.getByTestId('post').filter({ hasText: 'a late reply' }).waitFor({ timeout: 30_000 })
  t.alike(await shownIds(page), [...expected(n), refToString(late)], 'a reply written after the last page was loaded shows at its end, live')
  t.is(await view.getByTestId('more-replies').count(), 0, 'and still no "more replies"')
  await shoal.edit(replies[69], 'reply 70, edited')
  await view.getByTestId('post').filter({ hasText: 'reply 70, edited' }).waitFor({ timeout: 30_000 })
  t.pass('an edit of a reply on a later page shows live too')
})
