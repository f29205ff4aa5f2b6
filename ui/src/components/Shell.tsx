import { useEffect, useRef } from 'react'
import { useAppState } from '../app-state.ts'
import { useRoute } from '../router.tsx'
import { RoomsView } from './rooms/RoomsView.tsx'
import { RoomView } from './rooms/RoomView.tsx'
import type { Route } from '../router.tsx'
import { HomeView } from './HomeView.tsx'
import { MentionsView } from './MentionsView.tsx'
import { NotificationsProvider } from '../notifications.tsx'
import { NotificationsView } from './NotificationsView.tsx'
import { Nav } from './Nav.tsx'
import { PeopleView } from './PeopleView.tsx'
import { ProfileView } from './ProfileView.tsx'
import { StorageBanner } from './StorageBanner.tsx'
import { SyncView } from './SyncView.tsx'
import { ThreadView } from './ThreadView.tsx'
import { DmInbox } from './dm/DmInbox.tsx'
import { DmConversationView } from './dm/DmConversationView.tsx'

/** The app after first run: the top bar and the current view. */
export function Shell () {
  const route = useRoute()
  const { id } = useAppState()
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)

  // Moving focus to the new view tells screen readers and keyboard users the page changed.
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.focus({ preventScroll: true })
  }, [route])

  return (
    <NotificationsProvider>
      <a className='skip' href='#main' onClick={(e) => { e.preventDefault(); main.current?.focus() }}>Skip to content</a>
      <Nav myId={id} />
      <StorageBanner />
      <main id='main' ref={main} tabIndex={-1}>
        {view(route)}
      </main>
    </NotificationsProvider>
  )
}

function view (route: Route) {
  switch (route.name) {
    case 'home': return <HomeView />
    case 'mentions': return <MentionsView />
    case 'notifications': return <NotificationsView />
    case 'people': return <PeopleView />
    case 'sync': return <SyncView />
    case 'profile': return <ProfileView key={route.id ?? 'me'} id={route.id ?? null} />
    case 'thread': return <ThreadView key={route.id} id={route.id} focus={route.focus ?? null} />
    case 'dm': return <DmInbox />
    case 'dm-conversation': return <DmConversationView key={route.id} id={route.id} />
    case 'rooms': return <RoomsView />
    case 'room': return <RoomView key={route.id} id={route.id} />
  }
}
