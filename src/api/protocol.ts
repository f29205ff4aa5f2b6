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
/** UTF-8 bytes of one DM's text (DM_CAPS.text in src/dm/caps.ts). */
export const DM_TEXT_LIMIT = 4096
/** Most identities in one DM conversation, me included (DM_CAPS.recipients in src/dm/caps.ts). */
export const DM_MAX_PARTICIPANTS = 16

import type { Item as ViewItem, Notification, Profile as ViewProfile } from '../views/types.js'

export type { Notification }

/** A post as the UI shows it: the view's item, plus what only the local identity knows. */
export interface Item extends ViewItem {
  /** The emoji I have on this post (shown pressed; pressing again removes mine). */
  mine: string[]
  /** The names of the identities in `mentions`, to render `@id` in the text as a name. */
  mentioned: Person[]
}

export interface Page { items: Item[], next: string | null }
import type { RoomListItem, RoomMessageItem, RoomMemberItem, RoomStatusItem } from '../node/room-items.js'

export type { RoomListItem, RoomMessageItem, RoomMemberItem, RoomStatusItem }

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

/** Most ids a `posts` call may ask for at once. */
export const MAX_POSTS_PER_CALL = 500

export interface FeedProgress { key: string, local: number, remote: number }
export interface SyncStatus {
  peers: number
  /** The connected peers, by the identity they proved (null before they did). */
  connected: Array<{ id: string | null, name: string | null }>
  identities: Array<{ id: string, name: string | null, feeds: FeedProgress[] }>
}

/** A DM as the UI shows it (ids are z-base32; `parent` is the DM it replies to). */
export interface DmMessage { id: string, author: string, authorName: string | null, text: string, timestamp: number, parent: string | null, reactions: Record<string, number> }
/** A conversation of 2 to 16 identities (me included), with its last DM and unread count (local). */
export interface DmConversation { conversation: string, participants: Person[], last: DmMessage | null, unread: number }
/** A message request: someone outside my scope wrote me DMs in `conversation`. */
export interface DmRequest { id: string, name: string | null, conversation: string }
/** A message request: someone outside my scope wrote me DMs in `conversation`. */
export interface DmRequest { id: string, name: string | null, conversation: string }
/** A contact's safety code (a fingerprint over their device keys) and whether their devices changed since I last confirmed. */
export interface SafetyCode { id: string, code: string, devices: number, changed: boolean }

/** Every method: its params and its result. */
export interface Methods {
  state: { params: Record<string, never>, result: AppState }
  /**
   * First run: creates the identity, or with `restore` (24 words) brings one back; the new
   * phrase is returned once and never again (null after a restore). A bad phrase is
   * INVALID_PHRASE and writes nothing.
   */
  init: { params: { name?: string, restore?: string }, result: { id: string, phrase: string | null } }
  timeline: { params: { limit?: number, before?: string | null, author?: string | null }, result: Page }
  thread: { params: { id: string, limit?: number, before?: string | null }, result: Thread }
  mentions: { params: { limit?: number }, result: { items: Item[] } }
  profile: { params: { id?: string }, result: Profile }
  /** Sets the fields given; a field left out keeps its current value. */
  setProfile: { params: { name?: string, bio?: string }, result: Profile }
  following: { params: Record<string, never>, result: { people: Person[] } }
  followers: { params: Record<string, never>, result: { people: Person[] } }
  /** The people I block. */
  blocked: { params: Record<string, never>, result: { people: Person[] } }
  /** Posts by id (at most MAX_POSTS_PER_CALL), to refresh loaded ones: deleted and unknown ones are left out. */
  posts: { params: { ids: string[] }, result: { items: Item[] } }
  /** Who reacted to a post, by emoji (most used first). */
  reactors: { params: { id: string }, result: { reactions: Array<{ emoji: string, people: Person[] }> } }
  /** Replies, reactions, mentions and new followers, newest first; `seen` is the read marker (ms). */
  notifications: { params: { limit?: number }, result: { items: Notification[], seen: number } }
  /** Moves the read marker forward to `at` (ms; never back). */
  markNotificationsSeen: { params: { at: number }, result: { seen: number } }
  post: { params: { text: string, reply?: string | null, cw?: string | null }, result: { id: string } }
  react: { params: { id: string, emoji: string, remove?: boolean }, result: { id: string } }
  edit: { params: { id: string, text: string }, result: { id: string } }
  delete: { params: { id: string }, result: { id: string } }
  follow: { params: { id: string }, result: { id: string } }
  unfollow: { params: { id: string }, result: { id: string } }
  block: { params: { id: string }, result: { id: string } }
  unblock: { params: { id: string }, result: { id: string } }
  status: { params: Record<string, never>, result: SyncStatus }
  /** Direct messages: conversations, the latest first. */
  dmList: { params: Record<string, never>, result: { items: DmConversation[] } }
  /** A page of one conversation, newest first; the first page marks it read. */
  dmRead: { params: { conversation: string, limit?: number, before?: string | null }, result: { items: DmMessage[], next: string | null } }
  /** Sends a DM to 1 to 15 identities (z-base32), optionally replying to a DM of that conversation. */
  dmSend: { params: { to: string[], text: string, reply?: string | null }, result: { id: string, conversation: string } }
  /** Reacts to a DM with an emoji, sent to its conversation. */
  dmReact: { params: { id: string, emoji: string }, result: { id: string } }
  /** Deletes a DM on this device only. */
  dmDelete: { params: { id: string }, result: { id: string } }
  /** A contact's safety code; `confirm` records the current device set as seen (clears `changed`). */
  dmSafety: { params: { id: string, confirm?: boolean }, result: SafetyCode }
  /** Pending message requests: one item per (sender, conversation). */
  dmRequests: { params: Record<string, never>, result: { items: DmRequest[] } }
  /** Accepts a sender's message request (their device feeds are replicated from now on). */
  dmAccept: { params: { id: string }, result: { id: string } }
  /** Declines a sender's message request (later ones are ignored). */
  dmDecline: { params: { id: string }, result: { id: string } }
  /** Rooms (docs/ROOMS.md): ids are z-base32 room keys, message ids z-base32 (writer key, length). */
  roomList: { params: Record<string, never>, result: { items: RoomListItem[] } }
  roomCreate: { params: { name: string }, result: { id: string } }
  /** `expires` in ms from now (omitted: never); role member, moderator or admin. */
  roomInvite: { params: { room: string, role?: string, uses?: number, expires?: number }, result: { code: string } }
  roomJoin: { params: { code: string, timeout?: number }, result: { id: string, name: string } }
  roomRead: { params: { room: string, limit?: number, before?: number }, result: { items: RoomMessageItem[], next: number | null } }
  roomPost: { params: { room: string, text: string, reply?: string | null }, result: { id: string } }
  roomReact: { params: { room: string, id: string, emoji: string, remove?: boolean }, result: Record<string, never> }
  roomEdit: { params: { room: string, id: string, text: string }, result: Record<string, never> }
  roomDelete: { params: { room: string, id: string }, result: Record<string, never> }
  roomMembers: { params: { room: string }, result: { items: RoomMemberItem[], me: string } }
  roomSetRole: { params: { room: string, member: string, role: string }, result: Record<string, never> }
  roomRemove: { params: { room: string, member: string }, result: Record<string, never> }
  roomMute: { params: { room: string, member: string, muted?: boolean }, result: Record<string, never> }
  roomLeave: { params: { room: string }, result: { delivered: boolean } }
  /** A room's counts and the writers flagged on the wire (oversize, storage-cap) with their members. */
  roomStatus: { params: { room: string }, result: RoomStatusItem }
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
  /** A room changed (new messages, edits, members), or the room list did (room null). */
  roomChanged: { room: string | null }
  /** The identity was created (first run finished), or my name changed. */
  state: AppState
  /** A DM was sent or received (stored): refetch the inbox and that conversation. */
  dm: { conversation: string, id: string }
  /** A new message request arrived. */
  dmRequest: { id: string }
}

export type EventName = keyof Events

/** Server → client over the WebSocket. */
export type ServerMessage =
  | { type: 'response', id: number, result: unknown }
  | { type: 'response', id: number, error: ApiError }
  | { [E in EventName]: { type: 'event', event: E, data: Events[E] } }[EventName]

/** Error codes the API itself answers with (all declared with the node's in src/errors.ts). */
export type ApiErrorCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'BAD_REQUEST' | 'REQUEST_TOO_LARGE' | 'TOO_MANY_REQUESTS' | 'UNKNOWN_METHOD' | 'NO_IDENTITY' | 'INTERNAL'
