import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react'
import type { ReactNode } from 'react'

/**
 * Client routing kept in history.state, never in the URL: the fragment holds the API token and
 * the node serves only `/`. Back/forward and reload keep the route.
 */
export type Route =
  | { name: 'home' }
  | { name: 'mentions' }
  | { name: 'notifications' }
  | { name: 'people' }
  | { name: 'sync' }
  /** Without `id`: my own profile. */
  | { name: 'profile', id?: string }
  /** `id` is the thread's root; `focus` the message to scroll to. */
  | { name: 'thread', id: string, focus?: string }
  | { name: 'dm' }
  /** `id` is the conversation id. */
  | { name: 'dm-conversation', id: string }
  | { name: 'rooms' }
  | { name: 'room', id: string }

interface Router { route: Route, navigate: (route: Route) => void }

const HOME: Route = { name: 'home' }
const RouterContext = createContext<Router>({ route: HOME, navigate: () => {} })

function routeFromState (state: unknown): Route {
  if (typeof state !== 'object' || state === null) return HOME
  const r = (state as { shoalRoute?: unknown }).shoalRoute
  if (typeof r !== 'object' || r === null) return HOME
  const route = r as Record<string, unknown>
  switch (route.name) {
    case 'home':
    case 'mentions':
    case 'notifications':
    case 'people':
    case 'sync':
    case 'dm':
      return { name: route.name }
    case 'dm-conversation':
      return typeof route.id === 'string' ? { name: 'dm-conversation', id: route.id } : HOME
    case 'rooms':
      return { name: route.name }
    case 'room':
      return typeof route.id === 'string' ? { name: 'room', id: route.id } : HOME
    case 'profile':
      return typeof route.id === 'string' ? { name: 'profile', id: route.id } : { name: 'profile' }
    case 'thread':
      if (typeof route.id !== 'string') return HOME
      return typeof route.focus === 'string' ? { name: 'thread', id: route.id, focus: route.focus } : { name: 'thread', id: route.id }
    default:
      return HOME
  }
}

export function RouterProvider ({ children }: { children: ReactNode }) {
  const [route, setRoute] = useState<Route>(() => routeFromState(history.state))

  useEffect(() => {
    const onPop = (ev: PopStateEvent): void => { setRoute(routeFromState(ev.state)) }
    window.addEventListener('popstate', onPop)
    return () => { window.removeEventListener('popstate', onPop) }
  }, [])

  const navigate = useCallback((next: Route) => {
    history.pushState({ shoalRoute: next }, '', location.pathname + location.search + location.hash)
    setRoute(next)
    window.scrollTo(0, 0)
  }, [])

  const value = useMemo(() => ({ route, navigate }), [route, navigate])
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>
}

export function useRoute (): Route {
  return useContext(RouterContext).route
}

export function useNavigate (): (route: Route) => void {
  return useContext(RouterContext).navigate
}
