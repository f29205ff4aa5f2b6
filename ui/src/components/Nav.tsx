import type { ReactNode } from 'react'
import { useSyncStatus } from '../hooks.ts'
import { useNotifications } from '../notifications.tsx'
import type { Route } from '../router.tsx'
import { useNavigate, useRoute } from '../router.tsx'
import { DmUnreadBadge } from './dm/DmUnreadBadge.tsx'

interface NavEntry {
  route: Route
  label: string
  testid: string
  /** A count next to the label (unread, peers), or null. */
  Badge?: () => ReactNode
}

function UnreadBadge () {
  const { unread, query } = useNotifications()
  if (query.data === undefined) return null
  if (unread === 0) return <span hidden data-testid='unread-none' />
  return <span className='pill unread' data-testid='unread-badge' aria-label={`${unread} unread`}>{unread > 99 ? '99+' : unread}</span>
}

function PeersBadge () {
  const status = useSyncStatus()
  if (status.data === undefined) return null
  return <span className='pill' aria-label={`${status.data.peers} peers`}>{status.data.peers}</span>
}

/** The views in the top bar, in order: add an entry here to add a view to the navigation. */
export const NAV: NavEntry[] = [
  { route: { name: 'home' }, label: 'Home', testid: 'nav-home' },
  { route: { name: 'notifications' }, label: 'Activity', testid: 'nav-notifications', Badge: UnreadBadge },
  { route: { name: 'mentions' }, label: 'Mentions', testid: 'nav-mentions' },
  { route: { name: 'dm' }, label: 'Messages', testid: 'nav-dm', Badge: DmUnreadBadge },
  { route: { name: 'people' }, label: 'People', testid: 'nav-people' },
  { route: { name: 'rooms' }, label: 'Rooms', testid: 'nav-rooms' },
  { route: { name: 'profile' }, label: 'Profile', testid: 'nav-profile' },
  { route: { name: 'sync' }, label: 'Sync', testid: 'nav-sync', Badge: PeersBadge }
]

/** The top bar: the app's name and one button per view, the current one marked; wraps on narrow windows. */
export function Nav ({ myId }: { myId: string | null }) {
  const route = useRoute()
  const navigate = useNavigate()
  const current = (r: Route): boolean => (r.name === 'dm' && route.name === 'dm-conversation') ||
    (r.name === 'rooms' && route.name === 'room') || (r.name === route.name &&
    (r.name !== 'profile' || route.name !== 'profile' || route.id === undefined || route.id === myId))

  return (
    <header className='topbar'>
      <div className='topbar-inner'>
        <span className='brand' aria-hidden='true'>Shoal</span>
        <nav aria-label='Main' data-testid='nav'>
          <ul>
            {NAV.map(({ route: r, label, testid, Badge }) => (
              <li key={testid}>
                <button type='button' data-testid={testid} aria-current={current(r) ? 'page' : undefined}
                  onClick={() => { navigate(r) }}>
                  {label}
                  {Badge !== undefined && <Badge />}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </div>
    </header>
  )
}
