import { call } from '../api-client.ts'
import { useAppState } from '../app-state.ts'
import { useAction, useQuery } from '../hooks.ts'
import type { Person } from '../protocol.ts'
import { FollowForm } from './FollowForm.tsx'
import { InlineError } from './InlineError.tsx'
import { MyId } from './MyId.tsx'
import { PeopleList } from './PeopleList.tsx'

/** My id to share, a box to follow someone by id, who I follow, who follows me and who I block. */
export function PeopleView () {
  const me = useAppState()
  const following = useQuery('following', {}, { live: true })
  const followers = useQuery('followers', {}, { live: true })
  const blocked = useQuery('blocked', {}, { live: true })
  return (
    <section className='view' aria-labelledby='people-title'>
      <h1 id='people-title'>People</h1>
      {me.id !== null && <MyId id={me.id} />}
      <FollowForm myId={me.id ?? ''} onFollowed={following.reload} />
      <h2>Following</h2>
      {following.loading && <p className='muted'>Loading…</p>}
      <InlineError error={following.error} onRetry={following.reload} />
      {following.data !== undefined && (
        <PeopleList people={following.data.people} testId='following-list' empty={'You do not follow anyone yet. Paste someone\u2019s id above.'} />
      )}
      <h2>Followers</h2>
      <InlineError error={followers.error} onRetry={followers.reload} />
      {followers.data !== undefined && (
        <PeopleList people={followers.data.people} testId='followers-list' empty='No one follows you yet, as far as this node knows. Share your id.' />
      )}
      <h2>Blocked</h2>
      <InlineError error={blocked.error} onRetry={blocked.reload} />
      {blocked.data !== undefined && (
        <PeopleList people={blocked.data.people} testId='blocked-list' empty='You block no one.'
          actions={(p) => <UnblockButton person={p} onDone={() => { blocked.reload(); following.reload() }} />} />
      )}
    </section>
  )
}

function UnblockButton ({ person, onDone }: { person: Person, onDone: () => void }) {
  const action = useAction()
  return (
    <>
      <button type='button' className='small' data-testid='unblock-button' disabled={action.pending}
        onClick={() => { action.run(() => call('unblock', { id: person.id }), onDone) }}>
        {action.pending ? 'Unblocking…' : 'Unblock'}
      </button>
      <InlineError error={action.error} />
    </>
  )
}
