import { useEffect, useRef, useState } from 'react'
import { useScrollAnchor } from '../use-scroll-anchor.ts'
import { useTimeline } from '../use-timeline.ts'
import { InlineError } from './InlineError.tsx'
import { PostCard } from './PostCard.tsx'

export interface TimelineProps {
  /** Only this identity's posts; null for the home timeline. */
  author: string | null
  empty: string
  /** Bump to refetch at once, e.g. after posting, without waiting for the `changed` event. */
  refreshSignal?: number
}

/** A live, infinitely scrolling list of posts: older pages load as the end comes into view. */
export function Timeline ({ author, empty, refreshSignal = 0 }: TimelineProps) {
  const list = useRef<HTMLDivElement>(null)
  const sentinel = useRef<HTMLDivElement>(null)
  const capture = useScrollAnchor(list)
  const { items, next, loading, loadingMore, error, loadMore, refresh, newPosts, showNew } = useTimeline(author, capture)
  const [atEnd, setAtEnd] = useState(false)

  useEffect(() => {
    if (refreshSignal > 0) refresh()
  }, [refreshSignal, refresh])

  useEffect(() => {
    const el = sentinel.current
    if (el === null) return
    const observer = new IntersectionObserver((entries) => { setAtEnd(entries.some((e) => e.isIntersecting)) }, { rootMargin: '400px 0px' })
    observer.observe(el)
    return () => { observer.disconnect() }
  }, [])

  // Also after a page arrived while the end stayed in view (a short page): the observer only
  // reports changes.
  useEffect(() => {
    if (atEnd && next !== null && !loadingMore && error === null) loadMore()
  }, [atEnd, next, loadingMore, error, loadMore])

  return (
    <div className='timeline' role='feed' aria-busy={loading || loadingMore} data-testid='timeline' ref={list}>
      {newPosts && (
        <button type='button' className='new-posts' onClick={showNew} data-testid='show-new'>
          New posts: show the newest
        </button>
      )}
      {items.map((item) => <PostCard key={item.id} item={item} onChanged={refresh} />)}
      {loading && <p className='muted center' data-testid='loading'>Loading posts…</p>}
      {!loading && items.length === 0 && error === null && <p className='empty' data-testid='empty'>{empty}</p>}
      <InlineError error={error} onRetry={items.length === 0 ? refresh : loadMore} />
      <div ref={sentinel} className='sentinel'>
        {next !== null && (
          <button type='button' onClick={loadMore} disabled={loadingMore} data-testid='load-more'>
            {loadingMore ? 'Loading…' : 'Load older posts'}
          </button>
        )}
        {next === null && items.length > 0 && <p className='muted center'>That is everything.</p>}
      </div>
    </div>
  )
}
