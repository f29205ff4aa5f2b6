import test from 'brittle'
import { createPeer } from './helpers/peers.js'

// Node only: it listens for process warnings. Each write watches the indexer for a failure while it
// waits (one 'error' listener each); Node warned of a listener leak past 10 writes at once.
test('writes – 40 posts at once: 40 seqs, all shown, deletes among them, and no listener-leak warning', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const a = await createPeer(t, { name: 'alice' })
  const refs = await Promise.all(Array.from({ length: 40 }, (_, i) => a.post({ text: `at once ${i}` })))
  t.is(new Set(refs.map((r) => r.seq)).size, 40, 'each its own seq')
  await Promise.all([...refs.slice(0, 5).map((r) => a.delete(r)), ...Array.from({ length: 15 }, (_, i) => a.post({ text: `reply ${i}`, reply: refs[39] }))])
  const page = await a.timeline({ limit: 100 })
  t.is(page.items.filter((i) => i.text.startsWith('at once')).length, 35, 'the 35 not deleted are shown')
  const thread = await a.thread(refs[39])
  t.ok(thread.root !== null, 'the thread has its root')
  t.is(thread.replies.length, 15, 'and its 15 replies')
  await new Promise((resolve) => setImmediate(resolve)) // Node emits a warning on process.nextTick: run out the ticks queued
  t.alike(warnings.filter((w) => w.includes('MaxListeners')), [], 'no listener-leak warning')
})
