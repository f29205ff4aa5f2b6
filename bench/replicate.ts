/** In-process Corestore replication: two stores piped together, no network. */
import type Corestore from 'corestore'

/** Pipes `a` (initiator) and `b` together; the returned function tears the link down. */
export function connect (a: Corestore, b: Corestore): () => void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  // Destroying a link (or closing a store under it) errors the streams; that is the expected end.
  s1.on('error', () => {})
  s2.on('error', () => {})
  s1.pipe(s2).pipe(s1)
  return () => {
    s1.destroy()
    s2.destroy()
  }
}
