import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import type { Profile } from '../protocol.ts'
import { InlineError } from './InlineError.tsx'

/** Follow / unfollow and block / unblock someone else, each with its own inline error. */
export function RelationButtons ({ profile, onChanged }: { profile: Profile, onChanged: () => void }) {
  const follow = useAction()
  const block = useAction()
  const { id } = profile
  return (
    <div className='relations'>
      <div className='row'>
        {profile.followedByMe
          ? <button type='button' data-testid='unfollow-button' disabled={follow.pending}
              onClick={() => { follow.run(() => call('unfollow', { id }), onChanged) }}>Unfollow</button>
          : <button type='button' className='primary' data-testid='follow-button' disabled={follow.pending || profile.blockedByMe}
              onClick={() => { follow.run(() => call('follow', { id }), onChanged) }}>Follow</button>}
        {profile.blockedByMe
          ? <button type='button' data-testid='unblock-button' disabled={block.pending}
              onClick={() => { block.run(() => call('unblock', { id }), onChanged) }}>Unblock</button>
          : <button type='button' className='danger' data-testid='block-button' disabled={block.pending}
              onClick={() => { block.run(() => call('block', { id }), onChanged) }}>Block</button>}
      </div>
      <InlineError error={follow.error} />
      <InlineError error={block.error} />
    </div>
  )
}
