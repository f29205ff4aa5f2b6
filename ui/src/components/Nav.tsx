import { useSyncStatus } from '../hooks.ts'
import type { Route } from '../router.tsx'
import { useNavigate, useRoute } from '../router.tsx'

const ITEMS: Array<{ route: Route, label: string, testid: string }> = [
  { route: { name: 'home' }, label: 'Home', testid: 'nav-home' },
  { route: { name: 'mentions' }, label: 'Mentions', testid: 'nav-mentions' },
  { route: { name: 'people' }, label: 'People', testid: 'nav-people' },
  { route: { name: 'rooms' }, label: 'Rooms', testid: 'nav-rooms' },
  { route: { name: 'profile' }, label: 'Profile', testid: 'nav-profile' },
  { route: { name: 'sync' }, label: 'Sync', testid: 'nav-sync' }
]

/** The top bar: the app's name and one button per view, the current one marked. */
export function Nav ({ myId }: { myId: string | null }) {
  const route = useRoute()
  const navigate = useNavigate()
  const status = useSyncStatus()
  const current = (r: Route): boolean => (r.name === route.name || (r.name === 'rooms' && route.name === 'room')) &&
    (r.name !== 'profile' || route.name !== 'profile' || route.id === undefined || route.id === myId)

  return (
    <header className='topbar'>
      <div className='topbar-inner'>
        <span className='brand' aria-hidden='true'>Shoal</span>
        <nav aria-label='Main'>
          <ul>
            {ITEMS.map((item) => (
              <li key={item.testid}>
                <button type='button' data-testid={item.testid} aria-current={current(item.route) ? 'page' : undefined}
                  onClick={() => { navigate(item.route) }}>
                  {item.label}
                  {item.route.name === 'sync' && status.data !== undefined && (
                    <span className='pill' aria-label={`${status.data.peers} peers`}>{status.data.peers}</span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </div>
    </header>
  )
}
