import test from 'brittle'
import fs from 'node:fs'
import { RoomService } from '../src/node/room-service.js'
import { DmService } from '../src/node/dm-service.js'
import { fillDisk, nodeOnSmallDisk } from './helpers/files.js'
import { codeOf } from './helpers/codes.js'

/** The argument that makes a spied method record its call and return instead of running. */
const MARK = Symbol('reroute-test')

/**
 * The members of each service that are not `async`: they cannot wait for a storage reopen and run
 * on the instance open when called. Anything else there must be `async` (a method that returns a
 * promise is declared so), which this test checks, so a new method is classified on purpose.
 */
const SYNC: Record<string, string[]> = {
  RoomService: ['room', 'attach', 'detach', 'onConnection', 'onOwnDevice', 'topics'],
  // TS-private helpers are on the prototype too (never called through the getter)
  DmService: ['devicesOf', 'staleSessions', 'exclusive', 'need', 'reactionEntries', 'openOne', 'newestFirst', 'devicesOfAll']
}

type Fn = (...args: unknown[]) => unknown
interface Call { name: string, self: unknown }
interface Life { opened: boolean, closing: Promise<void> | null }

const isAsync = (fn: unknown): boolean => typeof fn === 'function' && fn.constructor.name === 'AsyncFunction'

/** Every method on a service's prototype (not the constructor nor ReadyResource's _open/_close). */
function methods (proto: object): string[] {
  return Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && !n.startsWith('_') && typeof Object.getOwnPropertyDescriptor(proto, n)?.value === 'function')
}

/** Replaces each method of `proto` with one that records `this` when called with MARK and runs the original otherwise. */
function spy (t: { teardown: (fn: () => void) => void }, proto: Record<string, Fn>, calls: Call[]): void {
  for (const name of methods(proto)) {
    const original = proto[name]!
    proto[name] = isAsync(original)
      ? async function (this: unknown, ...args: unknown[]) {
        if (args[0] !== MARK) return await original.apply(this, args)
        calls.push({ name, self: this })
        return MARK
      }
      : function (this: unknown, ...args: unknown[]) {
        if (args[0] !== MARK) return original.apply(this, args)
        calls.push({ name, self: this })
        return MARK
      }
    t.teardown(() => { proto[name] = original })
  }
}



test('reroute – every member of both services is async or listed as sync on purpose', (t) => {
  for (const [cls, proto] of [['RoomService', RoomService.prototype], ['DmService', DmService.prototype]] as const) {
    for (const name of methods(proto)) {
      const fn = (proto as unknown as Record<string, Fn>)[name]
      t.ok(isAsync(fn) !== SYNC[cls]!.includes(name), `${cls}.${name}: ${isAsync(fn) ? 'async, and also listed as sync' : 'not async: declare it async if it returns a promise, else list it in SYNC'}`)
    }
  }
})

test('reroute – after a storage reopen, every method of dm and rooms runs on the reopened services, even through references taken before', async (t) => {
  const node = await nodeOnSmallDisk(t, { name: 'alice' })
  if (node === null) return
  const { fill, shoal } = node
  shoal.on('error', () => {}) // background indexer failures while full: coded, and not what this test checks
  const rooms = shoal.rooms
  const dm = shoal.dm
  const { id } = await rooms.create('r')
  await rooms.post(id, 'before')

  const calls: Call[] = []
  spy(t, RoomService.prototype as unknown as Record<string, Fn>, calls)
  spy(t, DmService.prototype as unknown as Record<string, Fn>, calls)
  const services = [
    { cls: 'RoomService', names: methods(RoomService.prototype), held: rooms as unknown as Record<string, Fn>, now: () => shoal.rooms as unknown as Record<string, Fn> },
    { cls: 'DmService', names: methods(DmService.prototype), held: dm as unknown as Record<string, Fn>, now: () => shoal.dm as unknown as Record<string, Fn> }
  ]
  /** Calls every method of both services (with MARK) through the held references and the getters; the instance each ran on, by "Class.name". */
  const callAll = async (): Promise<Map<string, unknown[]>> => {
    calls.length = 0
    const results: unknown[] = []
    for (const s of services) {
      for (const name of s.names) {
        results.push(s.held[name]!(MARK), s.now()[name]!(MARK))
      }
    }
    t.ok((await Promise.all(results)).every((r) => r === MARK), 'every call reached a spied method')
    const out = new Map<string, unknown[]>()
    for (const c of calls) {
      const cls = c.self instanceof RoomService ? 'RoomService' : c.self instanceof DmService ? 'DmService' : '?'
      const k = `${cls}.${c.name}`
      out.set(k, [...(out.get(k) ?? []), c.self])
    }
    return out
  }
  const runsOn = (ran: Map<string, unknown[]>, cls: string, name: string): unknown => {
    const selves = ran.get(`${cls}.${name}`) ?? []
    return selves.length === 2 && selves[0] === selves[1] ? selves[0] : null
  }

  const before = await callAll()
  const old = { RoomService: runsOn(before, 'RoomService', 'post'), DmService: runsOn(before, 'DmService', 'send') }
  for (const s of services) for (const name of s.names) t.is(runsOn(before, s.cls, name), old[s.cls as keyof typeof old], `before: ${s.cls}.${name} on the open service`)

  fillDisk(fill)
  t.is(await codeOf(rooms.post(id, 'x'.repeat(4000))), 'NO_SPACE', 'a room write on a full disk marks the storage for a reopen')
  fs.rmSync(fill)

  // faulted: async methods wait for the reopen, sync ones run at once on the service open now
  const during = await callAll()
  const reopened = { RoomService: runsOn(during, 'RoomService', 'post'), DmService: runsOn(during, 'DmService', 'send') }
  for (const [cls, svc] of Object.entries(reopened)) {
    t.ok(svc !== null && svc !== old[cls as keyof typeof old], `${cls}: a new instance after the reopen`)
    t.ok((svc as Life).opened && (svc as Life).closing === null, `${cls}: and it is open`)
    t.ok((old[cls as keyof typeof old] as Life).closing !== null, `${cls}: the one before is closed`)
  }
  for (const s of services) {
    for (const name of s.names) {
      const fn = (s.cls === 'RoomService' ? RoomService.prototype : DmService.prototype) as unknown as Record<string, Fn>
      const want = isAsync(fn[name]) ? reopened[s.cls as keyof typeof reopened] : old[s.cls as keyof typeof old]
      t.is(runsOn(during, s.cls, name), want, `while faulted: ${s.cls}.${name} ${isAsync(fn[name]) ? 'waits for the reopen' : 'runs at once'}`)
    }
  }

  // reopened: every member, sync or not, runs on the new services, through old references too
  const after = await callAll()
  for (const s of services) for (const name of s.names) t.is(runsOn(after, s.cls, name), reopened[s.cls as keyof typeof reopened], `after: ${s.cls}.${name} on the reopened service`)

  // and the real thing, through the references taken before the reopen
  t.is(await codeOf(rooms.post(id, 'after')), 'resolved', 'a post through the old reference')
  t.alike((await rooms.read(id)).items.map((m) => m.text), ['after', 'before'])
  t.is(rooms.room(id).closing, null, 'room() gives an open room')
  t.is(rooms.rooms.length, 1, 'getters read the reopened service')
  t.is(rooms.topics().length, 1)
  t.alike(await dm.conversations(), [], 'a DM read through the old reference')
  t.is(dm.identityKey.byteLength, 32)
})
