import { useAppState } from '../app-state.ts'
import { useQuery } from '../hooks.ts'
import { FollowForm } from './FollowForm.tsx'
import { FollowingList } from './FollowingList.tsx'
import { InlineError } from './InlineError.tsx'
import { MyId } from './MyId.tsx'

/** My id to share, a box to follow someone by id, and who I follow. */
export function PeopleView () {
  const me = useAppState()
  const following = useQuery('following', {}, { live: true })
  return (
    <section className='view' aria-labelledby='people-title'>
      <h1 id='people-title'>People</h1>
      {me.id !== null && <MyId id={me.id} />}
      <FollowForm myId={me.id ?? ''} onFollowed={following.reload} />
      <h2>Following</h2>
      {following.loading && <p className='muted'>Loading…</p>}
      <InlineError error={following.error} onRetry={following.reload} />
      {following.data !== undefined && <FollowingList people={following.data.people} />}
    </section>
  )
}
