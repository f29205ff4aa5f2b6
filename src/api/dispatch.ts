/**
 * The API's methods (see protocol.ts), each validating its params before touching the node.
 * Bad input answers with a coded error; it never throws past the dispatcher.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { identityToString, parseIdentity, parseRef, refToString, type MessageRef } from '../ids.js'
import type { ShoalApp } from '../node/app.js'
import type { Shoal } from '../node/shoal.js'
import type { Item as ViewItem } from '../views/types.js'
import { MAX_POSTS_PER_CALL, type AppState, type Item, type Method, type Methods, type Person, type Profile, type SyncStatus } from './protocol.js'
import { bool, describe } from './request-input.js'
import { conversationToString, dmList, dmRead, dmRequestList } from '../node/dm-json.js'
import { roomHandlers } from './room-dispatch.js'

type Params = Record<string, unknown>
type Handler = (app: ShoalApp, p: Params) => Promise<unknown>

function str (p: Params, name: string, opts: { optional?: boolean, max?: number } = {}): string | undefined {
  const v = p[name]
  if (v === undefined || v === null) {
    if (opts.optional) return undefined
    throw ShoalError.BAD_REQUEST(`${name} is required`)
  }
  if (typeof v !== 'string') throw ShoalError.BAD_REQUEST(`${name} must be a string`)
  if (opts.max !== undefined && v.length > opts.max) throw ShoalError.BAD_REQUEST(`${name} is too long`)
  return v
}

function int (p: Params, name: string): number | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw ShoalError.BAD_REQUEST(`${name} must be an integer`)
  return v
}

function ref (p: Params, name: string): MessageRef {
  return parseRef(str(p, name) as string)
}

/** An array of strings, at most `max` of them. */
function strings (p: Params, name: string, max: number): string[] {
  const v = p[name]
  if (!Array.isArray(v)) throw ShoalError.BAD_REQUEST(`${name} must be an array`)
  if (v.length > max) throw ShoalError.BAD_REQUEST(`${name} has more than ${max} entries`)
  if (!v.every((x) => typeof x === 'string')) throw ShoalError.BAD_REQUEST(`${name} must hold strings`)
  return v as string[]
}

/** People with their names, read in batches (a list of thousands costs a few reads, not one each). */
async function people (shoal: Shoal, ids: Uint8Array[]): Promise<Person[]> {
  const names = await shoal.views.namesOf(ids)
  return ids.map((k, i) => ({ id: identityToString(k), name: names[i] }))
}

/** Adds what only I know to view items: my reactions and the names of who is mentioned. */
async function decorate (shoal: Shoal, items: ViewItem[]): Promise<Item[]> {
  const mine = await shoal.views.myReactions(items.map((i) => parseRef(i.id)))
  const mentioned = [...new Set(items.flatMap((i) => i.mentions))]
  const found = await shoal.views.namesOf(mentioned.map((m) => parseIdentity(m)))
  const names = new Map(mentioned.map((m, n) => [m, found[n]]))
  return items.map((i, n) => ({ ...i, mine: mine[n], mentioned: i.mentions.map((id) => ({ id, name: names.get(id) ?? null })) }))
}

const written = (r: MessageRef): { id: string } => ({ id: refToString(r) })

async function profileOf (shoal: Shoal, id?: string): Promise<Profile> {
  const who = id === undefined ? shoal.identity : parseIdentity(id)
  const base = await shoal.profile(who)
  const isMe = b4a.equals(who, shoal.identity)
  const following = isMe ? [] : await shoal.views.following(shoal.identity)
  const blocking = isMe ? [] : await shoal.views.blocking(shoal.identity)
  return {
    ...base,
    isMe,
    followedByMe: following.some((k) => b4a.equals(k, who)),
    blockedByMe: blocking.some((k) => b4a.equals(k, who))
  }
}

export async function appState (app: ShoalApp, network: AppState['network']): Promise<AppState> {
  const shoal = app.shoal
  if (shoal === null) return { hasIdentity: false, id: null, name: null, network }
  return { hasIdentity: true, id: shoal.id, name: await shoal.views.nameOf(shoal.identity), network, storage: shoal.health }
}

export async function syncStatus (shoal: Shoal): Promise<SyncStatus> {
  const s = await shoal.status()
  const names = await shoal.views.namesOf(s.identities.map((i) => parseIdentity(i.id)))
  const identities = s.identities.map((i, n) => ({ id: i.id, name: names[n], feeds: i.feeds }))
  const named = s.peers.filter((p) => p.identity !== null).map((p) => p.identity as string)
  const peerNames = await shoal.views.namesOf(named.map((id) => parseIdentity(id)))
  const connected = s.peers.map((p) => ({ id: p.identity, name: p.identity === null ? null : peerNames[named.indexOf(p.identity)] }))
  return { peers: s.peers.length, connected, identities }
}

export function createHandlers (network: AppState['network']): Record<Method, Handler> {
  const handlers: { [M in Method]: Handler } = {
    state: (app) => appState(app, network),
    init: async (app, p) => {
      const { shoal, phrase } = await app.init({ name: str(p, 'name', { optional: true, max: 64 }), restore: str(p, 'restore', { optional: true, max: 1024 }) })
      return { id: shoal.id, phrase }
    },
    timeline: async (app, p) => {
      const shoal = app.need()
      const page = await shoal.timeline({
        limit: int(p, 'limit'),
        before: str(p, 'before', { optional: true }) ?? null,
        author: p.author !== undefined && p.author !== null ? parseIdentity(str(p, 'author') as string) : null
      })
      return { items: await decorate(shoal, page.items), next: page.next }
    },
    thread: async (app, p) => {
      const shoal = app.need()
      const t = await shoal.thread(ref(p, 'id'), {
        limit: int(p, 'limit'),
        before: str(p, 'before', { optional: true, max: 128 }) ?? null // a cursor is 77 characters
      })
      const [root] = t.root === null ? [null] : await decorate(shoal, [t.root])
      return { root, replies: await decorate(shoal, t.replies), next: t.next }
    },
    mentions: async (app, p) => {
      const shoal = app.need()
      return { items: await decorate(shoal, (await shoal.mentions({ limit: int(p, 'limit') })).items) }
    },
    posts: async (app, p) => {
      const shoal = app.need()
      const refs = strings(p, 'ids', MAX_POSTS_PER_CALL).map((id) => parseRef(id))
      return { items: await decorate(shoal, await shoal.views.itemsOf(refs)) }
    },
    reactors: async (app, p) => {
      const shoal = app.need()
      const target = ref(p, 'id')
      const byEmoji = new Map<string, Uint8Array[]>()
      for (const r of await shoal.views.reactors(target)) {
        const list = byEmoji.get(r.emoji)
        if (list === undefined) byEmoji.set(r.emoji, [r.who])
        else list.push(r.who)
      }
      const reactions = []
      for (const [emoji, who] of byEmoji) reactions.push({ emoji, people: await people(shoal, who) })
      return { reactions }
    },
    notifications: async (app, p) => {
      const shoal = app.need()
      return { items: await shoal.views.notifications({ limit: int(p, 'limit') }), seen: await shoal.notificationsSeen() }
    },
    markNotificationsSeen: async (app, p) => {
      const at = int(p, 'at')
      if (at === undefined || at < 0) throw ShoalError.BAD_REQUEST('at must be a time in ms')
      // Never past now: a marker in the future would hide what has not happened yet.
      return { seen: await app.need().markNotificationsSeen(Math.min(at, Date.now())) }
    },
    profile: (app, p) => profileOf(app.need(), str(p, 'id', { optional: true })),
    setProfile: async (app, p) => {
      const shoal = app.need()
      await shoal.setProfile({ name: str(p, 'name', { optional: true }) ?? null, bio: str(p, 'bio', { optional: true }) ?? null })
      return profileOf(shoal)
    },
    following: async (app) => {
      const shoal = app.need()
      return { people: await people(shoal, await shoal.views.following(shoal.identity)) }
    },
    followers: async (app) => {
      const shoal = app.need()
      return { people: await people(shoal, await shoal.views.followers(shoal.identity)) }
    },
    blocked: async (app) => {
      const shoal = app.need()
      return { people: await people(shoal, await shoal.views.blocking(shoal.identity)) }
    },
    post: async (app, p) => {
      const reply = str(p, 'reply', { optional: true })
      return written(await app.need().post({ text: str(p, 'text') as string, reply: reply !== undefined ? parseRef(reply) : null, cw: str(p, 'cw', { optional: true }) || null }))
    },
    react: async (app, p) => written(await app.need().react(ref(p, 'id'), str(p, 'emoji', { max: 64 }) as string, { remove: bool(p, 'remove') })),
    edit: async (app, p) => written(await app.need().edit(ref(p, 'id'), str(p, 'text') as string)),
    delete: async (app, p) => written(await app.need().delete(ref(p, 'id'))),
    follow: async (app, p) => written(await app.need().follow(parseIdentity(str(p, 'id') as string))),
    unfollow: async (app, p) => written(await app.need().unfollow(parseIdentity(str(p, 'id') as string))),
    block: async (app, p) => written(await app.need().block(parseIdentity(str(p, 'id') as string))),
    unblock: async (app, p) => written(await app.need().unblock(parseIdentity(str(p, 'id') as string))),
    status: (app) => syncStatus(app.need()),
    dmList: (app) => dmList(app.need()),
    dmRead: (app, p) => dmRead(app.need(), str(p, 'conversation', { max: 64 }) as string, { limit: int(p, 'limit'), before: str(p, 'before', { optional: true, max: 96 }) ?? null }),
    dmSend: async (app, p) => {
      const to = p.to
      if (!Array.isArray(to) || to.length === 0 || to.length > 15 || !to.every((x) => typeof x === 'string')) throw ShoalError.BAD_REQUEST('to must be a list of 1 to 15 identity ids')
      const reply = str(p, 'reply', { optional: true })
      const r = await app.need().dm.send({ to: to.map((x: string) => parseIdentity(x)), text: str(p, 'text', { max: 8192 }) as string, parent: reply !== undefined ? parseRef(reply) : null })
      return { id: refToString(r.ref), conversation: conversationToString(r.conversation) }
    },
    dmReact: async (app, p) => written((await app.need().dm.react(ref(p, 'id'), str(p, 'emoji', { max: 64 }) as string)).ref),
    dmDelete: async (app, p) => {
      const r = ref(p, 'id')
      await app.need().dm.deleteLocal(r)
      return written(r)
    },
    dmSafety: async (app, p) => {
      const id = str(p, 'id') as string
      return { id, ...await app.need().dm.safety(parseIdentity(id), { confirm: bool(p, 'confirm') }) }
    },
    dmRequests: (app) => dmRequestList(app.need()),
    dmAccept: async (app, p) => {
      const id = str(p, 'id') as string
      await app.need().dmRequests.accept(parseIdentity(id))
      return { id }
    },
    dmDecline: async (app, p) => {
      const id = str(p, 'id') as string
      await app.need().dmRequests.decline(parseIdentity(id))
      return { id }
    },
    ...roomHandlers
  }
  return handlers
}

/** Runs one call; always resolves, to a result or a coded error. */
export async function dispatch (handlers: Record<Method, Handler>, app: ShoalApp, method: unknown, params: unknown): Promise<{ result: unknown } | { error: { code: string, message: string } }> {
  try {
    if (typeof method !== 'string' || !Object.prototype.hasOwnProperty.call(handlers, method)) throw ShoalError.UNKNOWN_METHOD(`no method ${describe(method)}`)
    const p = params === undefined || params === null ? {} : params
    if (typeof p !== 'object' || Array.isArray(p)) throw ShoalError.BAD_REQUEST('params must be an object')
    return { result: await handlers[method as keyof Methods](app, p as Params) }
  } catch (err) {
    const e = ShoalError.from(err)
    return { error: { code: e.code, message: e.detail } }
  }
}
