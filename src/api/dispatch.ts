/**
 * The API's methods (see protocol.ts), each validating its params before touching the node.
 * Bad input answers with a coded error; it never throws past the dispatcher.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { identityToString, parseIdentity, parseRef, refToString, type MessageRef } from '../ids.js'
import type { ShoalApp } from '../node/app.js'
import type { Shoal } from '../node/shoal.js'
import type { AppState, Method, Methods, Profile, SyncStatus } from './protocol.js'
import { describe } from './request-input.js'

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
  const identities = []
  for (const i of s.identities) identities.push({ id: i.id, name: await shoal.views.nameOf(parseIdentity(i.id)), feeds: i.feeds })
  return { peers: s.peers.length, identities }
}

export function createHandlers (network: AppState['network']): Record<Method, Handler> {
  const handlers: { [M in Method]: Handler } = {
    state: (app) => appState(app, network),
    init: async (app, p) => {
      const { shoal, phrase } = await app.init({ name: str(p, 'name', { optional: true, max: 64 }) })
      return { id: shoal.id, phrase: phrase as string }
    },
    timeline: (app, p) => app.need().timeline({
      limit: int(p, 'limit'),
      before: str(p, 'before', { optional: true }) ?? null,
      author: p.author ? parseIdentity(str(p, 'author') as string) : null
    }),
    thread: (app, p) => app.need().thread(ref(p, 'id'), {
      limit: int(p, 'limit'),
      before: str(p, 'before', { optional: true, max: 128 }) ?? null // a cursor is 77 characters
    }),
    mentions: (app, p) => app.need().mentions({ limit: int(p, 'limit') }),
    profile: (app, p) => profileOf(app.need(), str(p, 'id', { optional: true })),
    setProfile: async (app, p) => {
      const shoal = app.need()
      await shoal.setProfile({ name: str(p, 'name', { optional: true }) ?? null, bio: str(p, 'bio', { optional: true }) ?? null })
      return profileOf(shoal)
    },
    following: async (app) => {
      const shoal = app.need()
      const people = []
      for (const k of await shoal.views.following(shoal.identity)) people.push({ id: identityToString(k), name: await shoal.views.nameOf(k) })
      return { people }
    },
    post: async (app, p) => {
      const reply = str(p, 'reply', { optional: true })
      return written(await app.need().post({ text: str(p, 'text') as string, reply: reply ? parseRef(reply) : null, cw: str(p, 'cw', { optional: true }) || null }))
    },
    react: async (app, p) => written(await app.need().react(ref(p, 'id'), str(p, 'emoji', { max: 64 }) as string, { remove: p.remove === true })),
    edit: async (app, p) => written(await app.need().edit(ref(p, 'id'), str(p, 'text') as string)),
    delete: async (app, p) => written(await app.need().delete(ref(p, 'id'))),
    follow: async (app, p) => written(await app.need().follow(parseIdentity(str(p, 'id') as string))),
    unfollow: async (app, p) => written(await app.need().unfollow(parseIdentity(str(p, 'id') as string))),
    block: async (app, p) => written(await app.need().block(parseIdentity(str(p, 'id') as string))),
    unblock: async (app, p) => written(await app.need().unblock(parseIdentity(str(p, 'id') as string))),
    status: (app) => syncStatus(app.need())
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
