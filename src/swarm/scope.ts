/**
 * Who is replicated: me, whom I follow, and their follows up to a hop limit; never a blocked
 * identity. Identities whose feeds we hold are also announced, so their posts travel through us.
 */
import b4a from 'b4a'
import { identityTopics } from '../caps.js'
import { toHex, type IdentityKey } from '../ids.js'
import type { Views } from '../views/queries.js'
import { KeyIndex } from './key-index.js'

export interface Scope {
  /** Identities in hop range (hex → key), blocked ones removed. */
  want: Map<string, IdentityKey>
  /** Identities we hold feeds for, blocked ones removed. */
  held: Map<string, IdentityKey>
  /** Identities I block (hex). */
  blocked: Set<string>
  /** Topic (hex) → identity, for every identity wanted or held. */
  topics: Map<string, IdentityKey>
  /** Identity (hex) → its topic: the inverse of `topics`, so a want list hashes nothing. */
  topicOf: Map<string, Uint8Array>
  /** Identity (hex) → its topic (hex), so a want list encodes nothing either. */
  topicHexOf: Map<string, string>
  /** Topic (bytes, as a peer's want names it) → identity: a want list is answered with no hex per topic. */
  byTopic: KeyIndex<IdentityKey>
}

export const DEFAULT_HOPS = 2

/**
 * The scope of `me` now, from the views (a read per identity in range that follows someone, see
 * Views.hops). Topics of identities `prev` knew are taken from it; the rest are hashed in one pass.
 */
export async function computeScope (views: Views, me: IdentityKey, hops: number, prev: Scope | null = null): Promise<Scope> {
  const blocked = new Set((await views.blocking(me)).map(toHex))
  const want = await views.inRange(hops) // me included, blocked ones never
  const held = new Map<string, IdentityKey>()
  await views.eachHeld((id) => {
    const h = toHex(id)
    // A wanted identity's key is kept once; another's is copied off the row it was read from.
    if (!blocked.has(h)) held.set(h, want.get(h) ?? b4a.from(id) as IdentityKey)
  })
  const topics = new Map<string, IdentityKey>()
  const topicOf = new Map<string, Uint8Array>()
  const topicHexOf = new Map<string, string>()
  const byTopic = new KeyIndex<IdentityKey>()
  const add = (h: string, id: IdentityKey, topic: Uint8Array, topicHex: string): void => {
    topicOf.set(h, topic)
    topicHexOf.set(h, topicHex)
    topics.set(topicHex, id)
    byTopic.add(topic, id)
  }
  // forEach and parallel lists: no entry or pair is made per identity.
  const unknownHex: string[] = []
  const unknownIds: IdentityKey[] = []
  const visit = (id: IdentityKey, h: string): void => {
    if (topicOf.has(h)) return // wanted and held
    const known = prev?.topicOf.get(h)
    if (known === undefined) { topicOf.set(h, EMPTY); unknownHex.push(h); unknownIds.push(id) } else add(h, id, known, prev!.topicHexOf.get(h)!)
  }
  want.forEach(visit)
  held.forEach(visit)
  const hashed = identityTopics(unknownIds)
  for (let i = 0; i < unknownIds.length; i++) add(unknownHex[i], unknownIds[i], hashed[i], toHex(hashed[i]))
  return { want, held, blocked, topics, topicOf, topicHexOf, byTopic }
}

const EMPTY = new Uint8Array(0)

export function sameKeys (a: Map<string, unknown> | Set<string>, b: Map<string, unknown> | Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const k of a.keys()) if (!b.has(k)) return false
  return true
}
