import { useEffect, useRef } from 'react'
import type { RefObject } from 'react'

/**
 * While `open`, Escape calls `close`; when it closes (by Escape or otherwise) focus goes back to
 * `opener` if it was inside what closed (or nowhere), so keyboard users stay where they were.
 */
export function useEscape (open: boolean, close: () => void, opener: RefObject<HTMLElement | null>): void {
  const latest = useRef(close)
  useEffect(() => { latest.current = close })
  useEffect(() => {
    if (!open) return
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== 'Escape' || e.defaultPrevented) return
      e.preventDefault()
      latest.current()
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      // After the closed part is gone from the DOM: focus that was in it has fallen to <body>.
      queueMicrotask(() => {
        const el = opener.current
        if (el !== null && el.isConnected && (document.activeElement === null || document.activeElement === document.body)) el.focus()
      })
    }
  }, [open, opener])
}
