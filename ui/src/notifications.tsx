import { createContext, useCallback, useContext, useMemo } from 'react'
import type { ReactNode } from 'react'
import { call } from './api-client.ts'
import { useQuery } from './hooks.ts'
import type { Query } from './hooks.ts'
import type { Result } from './protocol.ts'

export const NOTIFICATIONS_LIMIT = 100

interface NotificationsState {
  query: Query<Result<'notifications'>>
  /** How many are newer than the seen marker. */
  unread: number
  /** Moves the node's seen marker to the newest shown. */
  markSeen: () => Promise<void>
}

const Context = createContext<NotificationsState | null>(null)

/** One live notifications query for the nav badge and the view, so marking them seen updates both. */
export function NotificationsProvider ({ children }: { children: ReactNode }) {
  const query = useQuery('notifications', { limit: NOTIFICATIONS_LIMIT }, { live: true })
  const data = query.data
  const unread = data === undefined ? 0 : data.items.filter((n) => n.at > data.seen).length
  const { reload } = query
  const markSeen = useCallback(async () => {
    if (data === undefined || data.items.length === 0) return
    const newest = Math.max(...data.items.map((n) => n.at))
    if (newest <= data.seen) return
    await call('markNotificationsSeen', { at: newest })
    reload()
  }, [data, reload])
  const value = useMemo(() => ({ query, unread, markSeen }), [query, unread, markSeen])
  return <Context.Provider value={value}>{children}</Context.Provider>
}

export function useNotifications (): NotificationsState {
  const v = useContext(Context)
  if (v === null) throw new Error('useNotifications outside NotificationsProvider')
  return v
}
