/**
 * The shapes views answer with, as plain data (strings and numbers): what the CLI prints with
 * --json and what the local API sends to the UI (src/api/protocol.ts re-uses them). Types only.
 */

/** A post as shown to a person. */
export interface Item {
  id: string
  author: string
  authorName: string | null
  text: string
  timestamp: number
  root: string | null
  parent: string | null
  cw: string | null
  mentions: string[]
  /** Emoji → number of identities reacting with it: the 100 most used, most used first. */
  reactions: Record<string, number>
  edited: boolean
}

export interface Page { items: Item[], next: string | null }

export interface Profile {
  id: string
  name: string | null
  bio: string | null
  following: number
  followers: number
}

/** Something that happened to the local identity (see Views.notifications). */
export interface Notification {
  kind: 'reply' | 'reaction' | 'mention' | 'follow'
  /** When it happened, ms: the record's (clamped) timestamp. */
  at: number
  who: string
  whoName: string | null
  /** The reply or the mentioning post; for a reaction, my post; null for a follow. */
  post: string | null
  /** The emoji of a reaction, else null. */
  emoji: string | null
  /** The start of the post concerned, else null. */
  text: string | null
}
