import { useCallback, useLayoutEffect, useRef } from 'react'
import type { RefObject } from 'react'

interface Anchor { id: string, top: number }

/** Below this scroll offset the reader is "at the top" and new posts should push in visibly. */
const TOP_SLACK_PX = 8

/**
 * Keeps what the reader is looking at in place when a live refresh inserts posts above it.
 * Call `capture()` right before the list changes; after the change is laid out, the first post
 * that was visible is scrolled back to where it was. The browser's own scroll anchoring is off
 * (styles.css) so the two do not both correct.
 */
export function useScrollAnchor (list: RefObject<HTMLElement | null>): () => void {
  const anchor = useRef<Anchor | null>(null)

  const capture = useCallback(() => {
    anchor.current = null
    const el = list.current
    if (el === null || window.scrollY <= TOP_SLACK_PX) return
    for (const post of el.querySelectorAll<HTMLElement>('[data-testid="post"]')) {
      const rect = post.getBoundingClientRect()
      if (rect.bottom > 0) {
        const id = post.dataset.id
        if (id !== undefined) anchor.current = { id, top: rect.top }
        return
      }
    }
  }, [list])

  useLayoutEffect(() => {
    const saved = anchor.current
    anchor.current = null
    const el = list.current
    if (saved === null || el === null) return
    const post = el.querySelector<HTMLElement>(`[data-testid="post"][data-id="${CSS.escape(saved.id)}"]`)
    if (post === null) return
    const delta = post.getBoundingClientRect().top - saved.top
    if (delta !== 0) window.scrollBy(0, delta)
  }) // after every render: a no-op unless capture() ran before it

  return capture
}
