/**
 * The local API's requests, results and events: one module shared by the server (src/api) and
 * the UI (ui/src), so both sides are checked against the same types. Types and constants only:
 * nothing here may import Node or browser modules.
 *
 * Transport: a WebSocket at `/api/ws` (the token travels as the subprotocol `shoal.<token>`,
 * next to `shoal`), and the same calls as `POST /api/call` with `Authorization: Bearer <token>`.
 */

export const API_VERSION = 1
export const WS_PATH = '/api/ws'
export const CALL_PATH = '/api/call'
export const WS_PROTOCOL = 'shoal'
export const WS_TOKEN_PREFIX = 'shoal.'
/** POST `{ code }` (a single-use launch code from `#launch=`) → `{ token }`, or 401 `{ error }`. */
export const LAUNCH_PATH = '/api/launch'

/**
 * UTF-8 byte limits of what the UI lets a person type, so it never sends an oversize record.
 * The node enforces the same caps (CAPS in src/feeds/schema.ts; test/api.test.ts checks they agree).
 */
export const TEXT_LIMITS = { text: 8 * 1024, contentWarning: 256, name: 64, bio: 1024 } as const

import type { Item, Page, Profile as ViewProfile } from '../views/types.js'

export type { Item, Page }

/** One page of a thread: replies oldest first; `next` is the `before` of the following page, or null. */
export interface Thread { root: Item | null, replies: Item[], next: string | null }

export interface Profile extends ViewProfile {
  /** How I relate to them (false/false for myself). */
  followedByMe: boolean
  blockedByMe: boolean
  isMe: boolean
}

export interface Person { id: string, name: string | null }

export interface AppState {
  /** False on first run: the UI shows the create-identity screen. */
  hasIdentity: boolean
  id: string | null
  name: string | null
  network: 'public' | 'private' | 'lan' | 'offline'
  /** Local storage problems the node noticed (see Shoal.health); absent before an identity exists. */
  storage?: { rolledBack: { length: number, expected: number } | null, viewsRebuilt: string | null, replacedFeed: string | null }
}

export interface FeedProgress { key: string, local: number, remote: number }
export interface SyncStatus {
  peers: number
  identities: Array<{ id: string, name: string | null, feeds: FeedProgress[] }>
}

/** Every method: its params and its result. */
export interface Methods {
  state: { params: Record<string, never>, result: AppState }
  /** First run: creates the identity; the phrase is returned once and never again. */
  init: { params: { name?: string }, result: { id: string, phrase: string } }
  timeline: { params: { limit?: number, before?: string | null, author?: string | null }, result: Page }
  thread: { params: { id: string, limit?: number, before?: string | null }, result: Thread }
  mentions: { params: { limit?: number }, result: { items: Item[] } }
  profile: { params: { id?: string }, result: Profile }
  /** Sets the fields given; a field left out keeps its current value. */
  setProfile: { params: { name?: string, bio?: string }, result: Profile }
  following: { params: Record<string, never>, result: { people: Person[] } }
  post: { params: { text: string, reply?: string | null, cw?: string | null }, result: { id: string } }
  react: { params: { id: string, emoji: string, remove?: boolean }, result: { id: string } }
  edit: { params: { id: string, text: string }, result: { id: string } }
  delete: { params: { id: string }, result: { id: string } }
  follow: { params: { id: string }, result: { id: string } }
  unfollow: { params: { id: string }, result: { id: string } }
  block: { params: { id: string }, result: { id: string } }
  unblock: { params: { id: string }, result: { id: string } }
  status: { params: Record<string, never>, result: SyncStatus }
}

export type Method = keyof Methods
export type Params<M extends Method> = Methods[M]['params']
export type Result<M extends Method> = Methods[M]['result']

export interface ApiError { code: string, message: string }

/** Client → server over the WebSocket. */
export interface RequestMessage<M extends Method = Method> { type: 'request', id: number, method: M, params: Params<M> }

/** Live events, pushed to every connected client. */
export interface Events {
  /** Views changed (new posts, edits, reactions, deletions, profiles): refetch what is shown. */
  changed: { feeds: number }
  /** Sync progress and peer count. */
  status: SyncStatus
  /** The identity was created (first run finished), or my name changed. */
  state: AppState
}

export type EventName = keyof Events

/** Server → client over the WebSocket. */
export type ServerMessage =
  | { type: 'response', id: number, result: unknown }
  | { type: 'response', id: number, error: ApiError }
  | { [E in EventName]: { type: 'event', event: E, data: Events[E] } }[EventName]

/** Error codes the API itself answers with (all declared with the node's in src/errors.ts). */
export type ApiErrorCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'BAD_REQUEST' | 'REQUEST_TOO_LARGE' | 'TOO_MANY_REQUESTS' | 'UNKNOWN_METHOD' | 'NO_IDENTITY' | 'INTERNAL'
