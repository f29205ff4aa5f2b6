import test from 'brittle'
import { deadline } from './helpers/deadline.js'

test('test helper deadline: passes a result through; after the deadline, rejects naming the wait and the state', async (t) => {
  t.is(await deadline(Promise.resolve(7), 1000, 'seven'), 7)
  await t.exception(deadline(Promise.reject(new Error('own error')), 1000, 'x'), /own error/, 'the work\'s own rejection')
  await t.exception(deadline(new Promise(() => {}), 20, 'the rooms to converge', () => 'room 0: heads a:1'),
    /still waiting after 20 ms for the rooms to converge: room 0: heads a:1/)
  await t.exception(deadline(new Promise(() => {}), 20, 'a sync', async () => { throw new Error('closed') }),
    /still waiting after 20 ms for a sync \(state unreadable: Error: closed\)/)
})

test('test helper deadline: a state read that never answers still lets the deadline fire', async (t) => {
  await t.exception(deadline(new Promise(() => {}), 20, 'a sync', () => new Promise<string>(() => {})),
    /still waiting after 20 ms for a sync: \(state unread: no answer\)/)
})
