import { call } from '../../api-client.ts'
import { useAction, useEvent, useQuery } from '../../hooks.ts'
import { displayName } from '../../ids.ts'
import { InlineError } from '../InlineError.tsx'

/** Message requests from people outside my scope: accept (their feed is then replicated) or decline. */
export function DmRequests () {
  const requests = useQuery('dmRequests', {})
  useEvent('dmRequest', requests.reload)
  const action = useAction()
  const senders = [...new Map((requests.data?.items ?? []).map((r) => [r.id, r])).values()]
  if (senders.length === 0) return null
  return (
    <section className='card' aria-labelledby='dm-requests-title' data-testid='dm-requests'>
      <h2 id='dm-requests-title'>Message requests</h2>
      <ul>
        {senders.map((r) => (
          <li key={r.id} className='row'>
            <span>{displayName(r.name, r.id)}</span>
            <button type='button' className='small push' data-testid='dm-accept' disabled={action.pending}
              onClick={() => { action.run(() => call('dmAccept', { id: r.id }), requests.reload) }}>Accept</button>
            <button type='button' className='small' data-testid='dm-decline' disabled={action.pending}
              onClick={() => { action.run(() => call('dmDecline', { id: r.id }), requests.reload) }}>Decline</button>
          </li>
        ))}
      </ul>
      <InlineError error={action.error} />
    </section>
  )
}
