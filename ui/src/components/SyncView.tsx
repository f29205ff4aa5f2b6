import { useAppState } from '../app-state.ts'
import { useSyncStatus } from '../hooks.ts'
import { InlineError } from './InlineError.tsx'
import { IdentityProgress } from './IdentityProgress.tsx'
import { Name } from './AuthorLink.tsx'

const NETWORK_LABEL = {
  public: 'Public swarm',
  private: 'Private network',
  lan: 'Local network only',
  offline: 'Offline'
} as const

/** Peers connected and, per identity, how much of their feeds has arrived; live. */
export function SyncView () {
  const { network } = useAppState()
  const status = useSyncStatus()
  const s = status.data
  const downloading = s?.identities.filter((i) => i.feeds.some((f) => f.local < f.remote)).length ?? 0

  return (
    <section className='view' aria-labelledby='sync-title'>
      <h1 id='sync-title'>Sync</h1>
      <div className='card sync-summary'>
        <p>
          <strong data-testid='status-peers'>{s?.peers ?? '…'}</strong> {s?.peers === 1 ? 'peer' : 'peers'} connected
          <span className='muted'> · {NETWORK_LABEL[network]}</span>
        </p>
        {s !== undefined && (
          <p className='muted' role='status'>
            {downloading === 0 ? 'Everything known is downloaded.' : `Downloading from ${downloading} ${downloading === 1 ? 'identity' : 'identities'}…`}
          </p>
        )}
      </div>
      {s !== undefined && s.connected.length > 0 && (
        <>
          <h2>Connected peers</h2>
          <ul className='peer-list' data-testid='peer-list'>
            {s.connected.map((p, i) => (
              <li key={p.id ?? `anon-${i}`} data-testid='peer' data-id={p.id ?? undefined}>
                {p.id === null ? <span className='muted'>Not identified yet</span> : <Name name={p.name} id={p.id} />}
              </li>
            ))}
          </ul>
          <h2>Feeds</h2>
        </>
      )}
      {status.loading && <p className='muted center'>Loading…</p>}
      <InlineError error={status.error} onRetry={status.reload} />
      {s !== undefined && (s.identities.length === 0
        ? <p className='empty'>No feeds yet. Follow someone from People to start syncing.</p>
        : <ul className='sync-list'>{s.identities.map((i) => <IdentityProgress key={i.id} identity={i} />)}</ul>)}
    </section>
  )
}
