import { call } from '../../api-client.ts'
import { useAction } from '../../hooks.ts'
import { displayName } from '../../ids.ts'
import type { RoomMemberItem } from '../../protocol.ts'
import { InlineError } from '../InlineError.tsx'

const RANK: Record<string, number> = { member: 0, moderator: 1, admin: 2 }

/** Members with roles; shows only the moderation actions my role allows. */
export function MembersPanel ({ room, me, items }: { room: string, me: RoomMemberItem | null, items: RoomMemberItem[] }) {
  const act = useAction()
  const myRank = me === null ? -1 : RANK[me.role] ?? -1
  return (
    <aside aria-label='Members' data-testid='room-members'>
      <h2>Members</h2>
      <ul>
        {items.map((m) => (
          <li key={m.id}>
            {displayName(m.name, m.id)} <span className='muted'>{m.role}{m.muted ? ', muted' : ''}</span>
            {me !== null && m.id !== me.id && myRank >= 1 && myRank > (RANK[m.role] ?? 0) && (
              <button type='button' onClick={() => { act.run(() => call('roomMute', { room, member: m.id, muted: !m.muted })) }}>{m.muted ? 'Unmute' : 'Mute'}</button>
            )}
            {me !== null && m.id !== me.id && me.role === 'admin' && (
              <>
                <select aria-label='Role' value={m.role} onChange={(e) => { act.run(() => call('roomSetRole', { room, member: m.id, role: e.target.value })) }}>
                  <option value='member'>member</option><option value='moderator'>moderator</option><option value='admin'>admin</option>
                </select>
                <button type='button' onClick={() => { act.run(() => call('roomRemove', { room, member: m.id })) }}>Remove</button>
              </>
            )}
          </li>
        ))}
      </ul>
      {act.error !== null && <InlineError error={act.error} />}
    </aside>
  )
}
