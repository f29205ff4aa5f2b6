import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import { DeviceFeed } from '../src/feeds/device-feed.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { decodeRecord, encodeRecord, type MessageRecord } from '../src/feeds/schema.js'
import type { IdentityKey, MessageRef } from '../src/ids.js'
import { Indexer } from '../src/views/indexer.js'
import { keys } from '../src/views/keys.js'
import { ViewDb } from '../src/views/view-db.js'

const post = (text: string, parent: MessageRef | null = null): MessageRecord => ({ type: 'post', timestamp: 1_700_000_000_000, text, root: parent, parent, cw: null, mentions: [] })

async function openFeed (t: { tmp: () => Promise<string>, teardown: (fn: () => Promise<void>) => void }): Promise<DeviceFeed> {
  const store = new Corestore(await t.tmp())
  const feed = new DeviceFeed(store, keyPairFromSeed(createSeed()))
  await feed.ready()
  t.teardown(async () => { await feed.close(); await store.close() })
  return feed
}

test('device feed – appends run one at a time: each build gets the seq its record is stored at', async (t) => {
  const feed = await openFeed(t)
  t.is(feed.length, 1, 'the header is block 0')
  const seen: number[] = []
  let release = (): void => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const appends = [0, 1, 2, 3].map((i) => feed.appendWith(async (seq) => {
    seen.push(seq)
    if (i === 0) await gate // the first build is still running when the others are called
    return post(`written for ${seq}`)
  }))
  await Promise.resolve()
  t.alike(seen, [1], 'the later builds wait for the first append')
  release()
  const refs = await Promise.all(appends)
  t.alike(refs.map((r) => r.seq), [1, 2, 3, 4])
  t.alike(seen, [1, 2, 3, 4], 'build ran in call order')
  for (const r of refs) {
    const rec = decodeRecord(await feed.core.get(r.seq) as Uint8Array)
    t.is(rec.type === 'post' ? rec.text : null, `written for ${r.seq}`)
  }
})

test('device feed – a failed append takes no seq and keeps no block; the next one still runs', async (t) => {
  const feed = await openFeed(t)
  await t.exception(feed.appendWith(async () => { throw new Error('build failed') }), /build failed/)
  await t.exception(feed.append(post('')), /INVALID/, 'an invalid record is refused before the append')
  const ref = await feed.append(post('after the failures'))
  t.is(ref.seq, 1, 'the failures took no seq')
  t.is(feed.length, 2)
  const taken = feed.takeWritten(1, 2)
  t.ok(taken !== null && b4a.equals(taken[0], await feed.core.get(1) as Uint8Array), 'the block kept is the block stored')
})

test('device feed – a record built for a seq that something else appended at meanwhile is refused, and not kept', async (t) => {
  const feed = await openFeed(t)
  const refused = feed.appendWith(async (seq) => {
    await feed.core.append(encodeRecord(post('appended around the device feed'))) // what no code of ours does
    return post(`built for ${seq}`)
  })
  await t.exception(refused, /STORAGE_ERROR/)
  t.is(feed.length, 2, 'only the block appended around it')
  t.is(feed.takeWritten(1, 2), null, 'the refused record is not handed to the indexer as block 1')
  t.is((await feed.append(post('next'))).seq, 2, 'the next append goes on')
})

test('device feed – takeWritten hands each appended block out once, whole ranges only, and keeps a bounded number', async (t) => {
  const feed = await openFeed(t)
  for (let i = 1; i <= 3; i++) await feed.append(post(`post ${i}`))
  t.is(feed.takeWritten(0, 2), null, 'the header was not appended through append(): the range is read from storage')
  t.is(feed.takeWritten(1, 2), null, 'and the blocks before the range asked are forgotten with it')
  const rest = feed.takeWritten(2, 4)
  t.alike(rest?.map((b) => (decodeRecord(b) as { text: string }).text), ['post 2', 'post 3'])
  t.is(feed.takeWritten(2, 4), null, 'taken once')

  for (let i = 0; i < 100; i++) await feed.append(post(`many ${i}`)) // seqs 4 to 103
  const kept = feed.takeWritten(40, 104)
  t.is(kept?.length, 64, 'the newest 64 are at hand')
  t.alike(kept?.[63], encodeRecord(post('many 99')))
  for (let i = 0; i < 100; i++) await feed.append(post(`more ${i}`)) // seqs 104 to 203
  t.is(feed.takeWritten(139, 140), null, 'the oldest were let go (at most 64 kept)')
  t.is(feed.takeWritten(140, 204)?.length, 64)
})

test('device feed – the indexer takes my appended blocks from memory and writes the rows it writes from storage', async (t) => {
  const feed = await openFeed(t)
  const me = keyPairFromSeed(createSeed()).publicKey as IdentityKey
  const rows = async (db: ViewDb): Promise<string[]> => {
    const r = await db.entriesIn({ gte: b4a.from([0]), lt: b4a.from([0xff]) })
    return r.keys.map((k, i) => b4a.toString(k, 'hex') + '=' + b4a.toString(r.values[i], 'hex'))
  }
  const index = async (live: boolean): Promise<{ rows: string[], taken: number }> => {
    const db = new ViewDb(await t.tmp())
    await db.ready()
    const indexer = new Indexer(db, { me })
    let taken = 0
    const written = (start: number, end: number): Uint8Array[] | null => {
      const blocks = feed.takeWritten(start, end)
      taken += blocks?.length ?? 0
      return blocks
    }
    await indexer.add(feed.core, { written })
    if (live) {
      for (let i = 0; i < 20; i++) {
        const ref = await feed.appendWith(async (seq) => i % 2 === 0 ? post(`post ${i}`) : post(`reply ${i}`, { feed: feed.key, seq: seq - 1 }))
        await indexer.waitFor(feed.key, ref.seq + 1)
      }
    } else await indexer.waitFor(feed.key, feed.length)
    await indexer.close()
    const out = await rows(db)
    await db.close()
    return { rows: out, taken }
  }
  const live = await index(true) // each post indexed as it is appended
  const later = await index(false) // the same feed indexed afterwards, read from storage
  t.is(live.taken, 20, 'every post indexed from memory')
  t.is(later.taken, 0, 'none in memory afterwards: each block is handed out once')
  t.ok(live.rows.length > 40, `${live.rows.length} rows`)
  t.alike(live.rows, later.rows, 'the same rows, byte for byte')
})

test('device feed – my posts indexed from memory: a delete from my other device of a post not indexed yet keeps it out, before and after a reindex', async (t) => {
  const identity = keyPairFromSeed(createSeed())
  const me = identity.publicKey as IdentityKey
  const feeds: DeviceFeed[] = []
  for (const name of ['laptop', 'phone']) {
    const store = new Corestore(await t.tmp())
    const feed = new DeviceFeed(store, identity, { device: name })
    await feed.ready()
    t.teardown(async () => { await feed.close(); await store.close() })
    feeds.push(feed)
  }
  const [laptop, phone] = feeds
  const db = new ViewDb(await t.tmp())
  await db.ready()
  const indexer = new Indexer(db, { me })
  t.teardown(async () => { await indexer.close(); await db.close() })
  let taken = 0
  await indexer.add(laptop.core, { written: (start, end) => { const b = laptop.takeWritten(start, end); taken += b?.length ?? 0; return b } })
  await indexer.add(phone.core)
  const first = await laptop.append(post('first, shown'))
  await indexer.waitFor(laptop.key, first.seq + 1) // my deleter row is now known absent
  const doomed: MessageRef = { feed: laptop.key, seq: first.seq + 1 }
  await phone.append({ type: 'delete', timestamp: 1_700_000_000_001, target: doomed }) // the phone deletes it before the laptop's post is indexed here
  await indexer.waitFor(phone.key, phone.length)
  const second = await laptop.append(post('second, deleted by the phone'))
  t.alike(second, doomed)
  await indexer.waitFor(laptop.key, second.seq + 1)
  t.is(taken, 2, 'both posts indexed from memory')
  const shown = async (): Promise<boolean[]> => (await db.getMany([keys.message(first), keys.message(second)])).map((r) => r !== null)
  t.alike(await shown(), [true, false], 'the deleted post is not in the views')
  await indexer.reindex()
  t.alike(await shown(), [true, false], 'nor after a reindex')
  const third = await laptop.append(post('third, shown'))
  await indexer.waitFor(laptop.key, third.seq + 1)
  t.ok(await db.get(keys.message(third)) !== null, 'a later post of mine is shown')
})
