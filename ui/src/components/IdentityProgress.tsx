import { useAppState } from '../app-state.ts'
import { displayName } from '../ids.ts'
import type { SyncStatus } from '../protocol.ts'
import { useNavigate } from '../router.tsx'
import { Name } from './AuthorLink.tsx'

type IdentitySync = SyncStatus['identities'][number]

/** One identity's download: blocks held over blocks known across its feeds. */
export function IdentityProgress ({ identity }: { identity: IdentitySync }) {
  const navigate = useNavigate()
  const isMe = useAppState().id === identity.id
  let local = 0
  let remote = 0
  for (const f of identity.feeds) {
    local += f.local
    remote += f.remote
  }
  const done = local >= remote
  const percent = remote === 0 ? 100 : Math.min(100, Math.floor((local / remote) * 100))
  const label = displayName(identity.name, identity.id)

  return (
    <li className={isMe ? 'sync-row me' : 'sync-row'} data-testid='sync-identity' data-id={identity.id} data-me={isMe ? 'true' : undefined}>
      <div className='row'>
        <button type='button' className='link' onClick={() => { navigate({ name: 'profile', id: identity.id }) }}><Name name={identity.name} id={identity.id} /></button>
        {isMe && <span className='badge' data-testid='me-badge'>you</span>}
        <span className='muted push'>
          {remote === 0 ? 'nothing to fetch yet' : done ? `up to date · ${local} blocks` : `${local} / ${remote} blocks · ${percent}%`}
        </span>
      </div>
      <progress max={Math.max(remote, 1)} value={remote === 0 ? 1 : Math.min(local, remote)} aria-label={`${isMe ? 'You' : label}: ${percent}% downloaded`}
        className={done ? 'done' : undefined} />
    </li>
  )
}
