import { useEffect, useMemo, useRef, useState } from 'react'
import { call } from '../api-client.ts'
import { useAction, useQuery } from '../hooks.ts'
import type { Item, Thread } from '../protocol.ts'
import { InlineError } from './InlineError.tsx'
import { PostCard } from './PostCard.tsx'
import { ReplyTree } from './ReplyTree.tsx'

/** The pages "more replies" loaded after the first: how many, their replies, where the next starts. */
interface Later { pages: number, replies: Item[], next: string | null }

/** `pages` pages of the thread from the cursor `next` on (fewer when the thread ends or `alive` turns false first). */
async function walk (id: string, next: string | null, pages: number, alive: () => boolean): Promise<Later> {
  const replies: Item[] = []
  let cursor = next
  for (let i = 0; i < pages && cursor !== null && alive(); i++) {
    const page = await call('thread', { id, before: cursor })
    replies.push(...page.replies)
    cursor = page.next
  }
  return { pages, replies, next: cursor }
}

/**
 * A conversation: its first post and its replies nested under the message they answer. The first
 * page is live; "more replies" appends the following pages, and each fresh first page (a change
 * from the network, or a reply, reaction or edit made here) loads as many pages again after it, so
 * the later pages are live too and a new reply at the end of the thread shows.
 */
export function ThreadView ({ id, focus }: { id: string, focus: string | null }) {
  const thread = useQuery('thread', { id }, { live: true })
  const [later, setLater] = useState<Later | null>(null)
  const pages = useRef(0)
  const more = useAction()
  const first = thread.data
  useEffect(() => {
    if (first === undefined || pages.current === 0) return
    let cancelled = false
    const asked = pages.current
    // a newer first page cancels this walk: at most one more call each, however fast changes come
    walk(id, first.next, asked, () => !cancelled).then((l) => {
      // a "more replies" meanwhile loaded from the older pages: the next change walks them all
      if (!cancelled && pages.current === asked) setLater(l)
    }, () => {
      // the pages shown stay (a stale reaction count at worst); the next change walks again
    })
    return () => { cancelled = true }
  }, [first, id])
  const data = useMemo<Thread | undefined>(() => {
    if (first === undefined || later === null) return first
    const seen = new Set(first.replies.map((r) => r.id))
    return { root: first.root, replies: [...first.replies, ...later.replies.filter((r) => !seen.has(r.id))], next: later.next }
  }, [first, later])
  const rootId = data?.root?.id ?? id
  const children = useMemo(() => (data === undefined ? new Map<string, Item[]>() : nest(data, rootId)), [data, rootId])
  const loadMore = (): void => {
    const before = data?.next
    if (typeof before !== 'string') return
    more.run(() => call('thread', { id, before }), (page) => {
      pages.current++
      setLater((l) => ({ pages: pages.current, replies: [...(l?.replies ?? []), ...page.replies], next: page.next }))
    })
  }
  const ready = data !== undefined

  useEffect(() => {
    if (!ready || focus === null || focus === rootId) return
    const el = document.querySelector(`[data-testid="post"][data-id="${CSS.escape(focus)}"]`)
    el?.scrollIntoView({ block: 'center' })
  }, [ready, focus, rootId])

  return (
    <section className='view thread' data-testid='thread-view' aria-labelledby='thread-title'>
      <div className='view-head'>
        <button type='button' className='small' onClick={() => { history.back() }}>← Back</button>
        <h1 id='thread-title'>Thread</h1>
      </div>
      {thread.loading && <p className='muted center'>Loading thread…</p>}
      <InlineError error={thread.error} onRetry={thread.reload} />
      {data !== undefined && (
        <>
          {data.root !== null
            ? <PostCard item={data.root} inThread onChanged={thread.reload} />
            : <p className='empty'>The first post of this thread is not here: it was deleted, or has not synced yet.</p>}
          <ReplyTree tree={children} parent={rootId} focus={focus} onChanged={thread.reload} />
          {data.replies.length === 0 && data.root !== null && <p className='muted'>No replies yet.</p>}
          {data.next !== null && (
            <button type='button' className='small' data-testid='more-replies' disabled={more.pending} onClick={loadMore}>
              {more.pending ? 'Loading…' : 'More replies'}
            </button>
          )}
          <InlineError error={more.error} onRetry={loadMore} />
        </>
      )}
    </section>
  )
}

/**
 * Replies grouped by the message they answer, oldest first. A reply whose parent is not here
 * (deleted, blocked or not synced) hangs under the root so it is still shown.
 */
function nest (thread: Thread, rootId: string): Map<string, Item[]> {
  const present = new Set(thread.replies.map((r) => r.id))
  const byParent = new Map<string, Item[]>()
  const sorted = [...thread.replies].sort((a, b) => a.timestamp - b.timestamp)
  for (const reply of sorted) {
    const parent = reply.parent !== null && present.has(reply.parent) ? reply.parent : rootId
    const list = byParent.get(parent)
    if (list === undefined) byParent.set(parent, [reply])
    else list.push(reply)
  }
  return byParent
}
