import { useCallback, useEffect, useRef, useState } from 'react'
import type { ApiCallError } from './api-client.ts'
import { call, subscribe } from './api-client.ts'
import { coalesced, toApiError, useEpoch } from './hooks.ts'
import { MAX_POSTS_PER_CALL, type Item, type Page } from './protocol.ts'

export const PAGE_SIZE = 20
/**
 * What a live refresh asks for as a page: the newest posts. Loaded posts older than this window
 * are refreshed by id (the `posts` method), so edits, reactions and deletions reach them too.
 */
export const REFRESH_WINDOW = 50
/** Below this scroll offset the reader is at the top, where new posts may push in. */
const TOP_SLACK_PX = 8

export interface TimelineState {
  items: Item[]
  next: string | null
  /** True until the first page arrives. */
  loading: boolean
  loadingMore: boolean
  error: ApiCallError | null
  loadMore: () => void
  refresh: () => void
  /** More new posts arrived than a refresh window holds while the reader was scrolled down. */
  newPosts: boolean
  /** Shows the newest posts (the reader asked to, from the "new posts" button). */
  showNew: () => void
}

interface Loaded {
  key: string
  items: Item[]
  next: string | null
  done: boolean
  /** A fresh first page that does not connect to what is shown, held until the reader asks. */
  pending: Page | null
}

/**
 * A paged timeline (all, or one author's) that stays live: on every `changed` event, and when the
 * socket reopens, it refetches the whole loaded range in one call and merges it in.
 * `beforeReplace` runs right before fresh items replace shown ones (scroll anchoring).
 */
export function useTimeline (author: string | null, beforeReplace?: () => void): TimelineState {
  const key = author ?? ''
  const epoch = useEpoch()
  const [loaded, setLoaded] = useState<Loaded>({ key, items: [], next: null, done: false, pending: null })
  const [loadingMore, setLoadingMore] = useState(false)
  const [error, setError] = useState<ApiCallError | null>(null)
  const current = loaded.key === key ? loaded : { key, items: [], next: null, done: false, pending: null }

  // The latest values for callbacks that outlive a render.
  const latest = useRef({ loaded: current, beforeReplace })
  useEffect(() => { latest.current = { loaded: current, beforeReplace } })
  const refreshRef = useRef<() => void>(() => {})

  useEffect(() => {
    if (epoch === 0) return
    let cancelled = false

    const start = coalesced(async () => {
      try {
        const page = await call('timeline', { limit: REFRESH_WINDOW, author })
        if (cancelled) return
        latest.current.beforeReplace?.()
        const atTop = window.scrollY <= TOP_SLACK_PX
        setLoaded((prev) => reconcile(prev.key === key ? prev : null, key, page, atTop))
        setError(null)
        // Posts loaded beyond the window: edits, reactions and deletions reach them too.
        const inPage = new Set(page.items.map((i) => i.id))
        const older = latest.current.loaded.items.filter((i) => !inPage.has(i.id)).map((i) => i.id)
        for (let at = 0; at < older.length && !cancelled; at += MAX_POSTS_PER_CALL) {
          const asked = older.slice(at, at + MAX_POSTS_PER_CALL)
          const { items } = await call('posts', { ids: asked })
          if (cancelled) return
          latest.current.beforeReplace?.()
          setLoaded((prev) => prev.key === key ? { ...prev, items: refreshed(prev.items, asked, items) } : prev)
        }
      } catch (err) {
        if (!cancelled) setError(toApiError(err))
      }
    }, () => cancelled)

    refreshRef.current = start
    start()
    const off = subscribe('changed', start)
    return () => {
      cancelled = true
      refreshRef.current = () => {}
      off()
    }
  }, [key, author, epoch])

  const loadMore = useCallback(() => {
    const { loaded: shown } = latest.current
    if (shown.next === null || !shown.done) return
    setLoadingMore(true)
    call('timeline', { limit: PAGE_SIZE, before: shown.next, author }).then(
      (page) => {
        setLoadingMore(false)
        setError(null)
        setLoaded((prev) => prev.key !== key || prev.next !== shown.next ? prev : append(prev, page))
      },
      (err: unknown) => {
        setLoadingMore(false)
        setError(toApiError(err))
      }
    ).catch(reportError)
  }, [key, author])

  const refresh = useCallback(() => { refreshRef.current() }, [])

  const showNew = useCallback(() => {
    window.scrollTo({ top: 0 })
    setLoaded((prev) => prev.key !== key || prev.pending === null
      ? prev
      : { key, items: prev.pending.items, next: prev.pending.next, done: true, pending: null })
  }, [key])

  return {
    items: current.items,
    next: current.next,
    loading: !current.done && error === null,
    loadingMore,
    error,
    loadMore,
    refresh,
    newPosts: current.pending !== null,
    showNew
  }
}

/** `items` with the `asked` ones replaced by their fresh copies, or dropped when gone (deleted, blocked). */
function refreshed (items: Item[], asked: string[], fresh: Item[]): Item[] {
  const askedSet = new Set(asked)
  const byId = new Map(fresh.map((i) => [i.id, i]))
  const out: Item[] = []
  for (const i of items) {
    if (!askedSet.has(i.id)) { out.push(i); continue }
    const f = byId.get(i.id)
    if (f !== undefined) out.push(sameItem(i, f) ? i : f)
  }
  return out
}

function append (prev: Loaded, page: Page): Loaded {
  const seen = new Set(prev.items.map((i) => i.id))
  return { ...prev, items: [...prev.items, ...page.items.filter((i) => !seen.has(i.id))], next: page.next }
}


/**
 * Brings a fresh first page (the newest REFRESH_WINDOW posts) into what is shown, never leaving a
 * gap: when the page reaches a shown post, it replaces everything newer than that post (new posts,
 * edits, reactions, deletions) and the older posts stay with their cursor; when it does not (more
 * new posts than a window), the list is replaced if the reader is at the top, and otherwise the
 * page is held until the reader asks for it. Unchanged posts keep their object, so their cards
 * do not re-render.
 */
function reconcile (prev: Loaded | null, key: string, page: Page, atTop: boolean): Loaded {
  if (prev === null || !prev.done || page.items.length === 0) return { key, items: page.items, next: page.next, done: true, pending: null }
  const last = page.items[page.items.length - 1]
  const at = prev.items.findIndex((i) => i.id === last.id)
  const fresh = reuse(prev.items, page.items)
  if (page.next === null) return { key, items: fresh, next: null, done: true, pending: null }
  if (at >= 0) {
    const ids = new Set(fresh.map((i) => i.id))
    return { key, items: [...fresh, ...prev.items.slice(at + 1).filter((i) => !ids.has(i.id))], next: prev.next, done: true, pending: null }
  }
  if (atTop) return { key, items: fresh, next: page.next, done: true, pending: null }
  return { ...prev, pending: page }
}

function reuse (old: Item[], fresh: Item[]): Item[] {
  const byId = new Map(old.map((i) => [i.id, i]))
  return fresh.map((i) => {
    const o = byId.get(i.id)
    return o !== undefined && sameItem(o, i) ? o : i
  })
}

function sameItem (a: Item, b: Item): boolean {
  return a.text === b.text && a.edited === b.edited && a.authorName === b.authorName && a.cw === b.cw &&
    JSON.stringify(a.reactions) === JSON.stringify(b.reactions) && a.mine.join() === b.mine.join() &&
    JSON.stringify(a.mentioned) === JSON.stringify(b.mentioned)
}
