import { useCallback, useEffect, useRef, useState } from 'react'
import type { ApiCallError } from './api-client.ts'
import { call, subscribe } from './api-client.ts'
import { toApiError, useEpoch } from './hooks.ts'
import type { Item, Page } from './protocol.ts'

export const PAGE_SIZE = 20
/** The most a live refresh asks for; older loaded items beyond it are kept as they were. */
export const MAX_REFRESH = 500

export interface TimelineState {
  items: Item[]
  next: string | null
  /** True until the first page arrives. */
  loading: boolean
  loadingMore: boolean
  error: ApiCallError | null
  loadMore: () => void
  refresh: () => void
}

interface Loaded { key: string, items: Item[], next: string | null, done: boolean }

/**
 * A paged timeline (all, or one author's) that stays live: on every `changed` event, and when the
 * socket reopens, it refetches the whole loaded range in one call and merges it in.
 * `beforeReplace` runs right before fresh items replace shown ones (scroll anchoring).
 */
export function useTimeline (author: string | null, beforeReplace?: () => void): TimelineState {
  const key = author ?? ''
  const epoch = useEpoch()
  const [loaded, setLoaded] = useState<Loaded>({ key, items: [], next: null, done: false })
  const [loadingMore, setLoadingMore] = useState(false)
  const [error, setError] = useState<ApiCallError | null>(null)
  const current = loaded.key === key ? loaded : { key, items: [], next: null, done: false }

  // The latest values for callbacks that outlive a render.
  const latest = useRef({ loaded: current, beforeReplace })
  useEffect(() => { latest.current = { loaded: current, beforeReplace } })
  const refreshRef = useRef<() => void>(() => {})

  useEffect(() => {
    if (epoch === 0) return
    let cancelled = false
    let inflight = false
    let again = false

    const run = async (): Promise<void> => {
      inflight = true
      try {
        const shown = latest.current.loaded.key === key ? latest.current.loaded.items.length : 0
        const limit = Math.min(MAX_REFRESH, Math.max(PAGE_SIZE, shown))
        const page = await call('timeline', { limit, author })
        if (cancelled) return
        latest.current.beforeReplace?.()
        setLoaded((prev) => merge(prev.key === key ? prev : null, key, page, limit))
        setError(null)
      } catch (err) {
        if (!cancelled) setError(toApiError(err))
      } finally {
        inflight = false
      }
      if (again && !cancelled) {
        again = false
        await run()
      }
    }
    const start = (): void => {
      if (inflight) again = true
      else run().catch(reportError)
    }

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

  return {
    items: current.items,
    next: current.next,
    loading: !current.done && error === null,
    loadingMore,
    error,
    loadMore,
    refresh
  }
}

function append (prev: Loaded, page: Page): Loaded {
  const seen = new Set(prev.items.map((i) => i.id))
  return { ...prev, items: [...prev.items, ...page.items.filter((i) => !seen.has(i.id))], next: page.next }
}

/**
 * Fresh newest-first `page` (asked with `limit`) over what was shown. When the page covered
 * everything shown, it simply replaces it; otherwise the shown items older than the page's last
 * one are kept after it, with the old cursor.
 */
function merge (prev: Loaded | null, key: string, page: Page, limit: number): Loaded {
  if (prev === null || !prev.done || prev.items.length <= limit || page.items.length < limit) {
    return { key, items: page.items, next: page.next, done: true }
  }
  const fresh = new Set(page.items.map((i) => i.id))
  const last = page.items[page.items.length - 1]
  const at = prev.items.findIndex((i) => i.id === last.id)
  const tail = at >= 0
    ? prev.items.slice(at + 1)
    : prev.items.filter((i) => i.timestamp < last.timestamp)
  return { key, items: [...page.items, ...tail.filter((i) => !fresh.has(i.id))], next: prev.next, done: true }
}
