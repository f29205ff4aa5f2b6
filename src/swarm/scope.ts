/**
 * Who is replicated: me, whom I follow, and their follows up to a hop limit; never a blocked
 * identity. Identities whose feeds we hold are also announced, so their posts travel through us.
 */
import b4a from 'b4a'
import { identityTopic } from '../caps.js'
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

export async function computeScope (views: Views, me: IdentityKey, hops: number): Promise<Scope> {
  const blocked = new Set((await views.blocking(me)).map(toHex))
  const want = new Map<string, IdentityKey>()
  const dist = await views.hops(hops)
  for (const h of dist.keys()) if (!blocked.has(h)) want.set(h, b4a.from(h, 'hex') as IdentityKey)
  want.set(toHex(me), me)
  const held = new Map<string, IdentityKey>()
  for (const id of await views.heldIdentities()) if (!blocked.has(toHex(id))) held.set(toHex(id), id)
  const topics = new Map<string, IdentityKey>()
  const topicOf = new Map<string, Uint8Array>()
  const topicHexOf = new Map<string, string>()
  const byTopic = new KeyIndex<IdentityKey>()
  for (const [h, id] of [...want, ...held]) {
    if (topicOf.has(h)) continue // wanted and held
    const topic = identityTopic(id)
    const topicHex = toHex(topic)
    topicOf.set(h, topic)
    topicHexOf.set(h, topicHex)
    topics.set(topicHex, id)
    byTopic.add(topic, id)
  }
  return { want, held, blocked, topics, topicOf, topicHexOf, byTopic }
}

export function sameKeys (a: Map<string, unknown> | Set<string>, b: Map<string, unknown> | Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const k of a.keys()) if (!b.has(k)) return false
  return true
}
