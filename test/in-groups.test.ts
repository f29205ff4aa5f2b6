import test from 'brittle'
import { inGroups } from '../src/swarm/in-groups.js'

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('inGroups: results in list order, at most size calls running at once', async (t) => {
  let running = 0
  let most = 0
  const out = await inGroups([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
    running++
    most = Math.max(most, running)
    await tick(n * 3) // later items finish first inside a group
    running--
    return n * 10
  })
  t.alike(out, [50, 10, 40, 20, 30, 0, 60])
  t.is(most, 3)
  t.alike(await inGroups([], 4, async () => 1), [])
})

test('inGroups: a rejection is thrown once its group settles, and no later group starts', async (t) => {
  const started: number[] = []
  const finished: number[] = []
  await t.exception(inGroups([1, 2, 3, 4], 2, async (n) => {
    started.push(n)
    if (n === 1) throw new Error('first fails')
    await tick(20)
    finished.push(n)
    return n
  }), /first fails/)
  t.alike(started, [1, 2], 'the second group never started')
  t.alike(finished, [2], 'the failing group settled before the error came out')
})
