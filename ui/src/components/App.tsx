import { useState } from 'react'
import { AppStateContext } from '../app-state.ts'
import { useEvent, useQuery } from '../hooks.ts'
import { RouterProvider } from '../router.tsx'
import { ConnectionBanner } from './ConnectionBanner.tsx'
import { FirstRun } from './FirstRun.tsx'
import { InlineError } from './InlineError.tsx'
import { RecoveryPhrase } from './RecoveryPhrase.tsx'
import { Shell } from './Shell.tsx'

/** Picks the screen: connecting, first run, the recovery phrase (once), or the app. */
export function App () {
  const state = useQuery('state', {})
  useEvent('state', state.set)
  // Held here, not in FirstRun: the `state` event that follows `init` must not unmount it.
  const [phrase, setPhrase] = useState<string | null>(null)

  let screen
  if (phrase !== null) {
    screen = <RecoveryPhrase phrase={phrase} onDone={() => { setPhrase(null) }} />
  } else if (state.data === undefined) {
    screen = (
      <main className='first-run' id='main'>
        {state.error === null
          ? <p className='muted center' data-testid='loading'>Connecting to your Shoal node…</p>
          : <InlineError error={state.error} onRetry={state.reload} />}
      </main>
    )
  } else if (!state.data.hasIdentity) {
    screen = <FirstRun onCreated={(created) => { setPhrase(created.phrase); state.reload() }} />
  } else {
    screen = (
      <AppStateContext.Provider value={state.data}>
        <RouterProvider>
          <Shell />
        </RouterProvider>
      </AppStateContext.Provider>
    )
  }

  return (
    <>
      <ConnectionBanner />
      {screen}
    </>
  )
}
