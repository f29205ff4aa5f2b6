/** Recovery phrases for tests (portable: runs on Node and Bare). */
import { phraseToSeed } from '../../src/feeds/identity.js'
import { thrownCode } from './codes.js'

/**
 * `phrase` (24 words) with its last word swapped for a listed word that breaks the checksum. Any
 * one swapped word keeps the checksum 1 time in 256 (the last word carries 8 bits of it), so a
 * fixed swap made a random phrase's test fail that often: this tries words until one fails.
 */
export function badChecksum (phrase: string): string {
  const words = phrase.split(' ')
  for (const w of ['abandon', 'ability', 'able', 'about', 'above', 'absent', 'absorb', 'abstract', 'absurd', 'abuse', 'zoo']) {
    const bad = [...words.slice(0, 23), w].join(' ')
    if (w !== words[23] && thrownCode(() => phraseToSeed(bad)) === 'INVALID_PHRASE') return bad
  }
  throw new Error('eleven listed last words all kept the checksum') // 1 in 256^10
}
