import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction, useEvent, useQuery } from '../../hooks.ts'
import { displayName } from '../../ids.ts'
import type { RoomMessageItem } from '../../protocol.ts'
import { useNavigate } from '../../router.tsx'
import { InlineError } from '../InlineError.tsx'
import { InviteDialog } from './InviteDialog.tsx'
import { MembersPanel } from './MembersPanel.tsx'

/** One room: its messages (live: replies, reactions, edits, deletions), a compose box, invites and members. */
export function RoomView ({ id }: { id: string }) {
  const page = useQuery('roomRead', { room: id, limit: 200 })
  const members = useQuery('roomMembers', { room: id })
  useEvent('roomChanged', (e) => { if (e.room === id || e.room === null) { page.reload(); members.reload() } })
  const [text, setText] = useState('')
  const [reply, setReply] = useState<RoomMessageItem | null>(null)
  const send = useAction()
  const me = members.data?.items.find((m) => m.id === members.data?.me)
  const items = [...(page.data?.items ?? [])].reverse()

  return (
    <section className='view' aria-labelledby='room-title'>
      <h1 id='room-title'>Room</h1>
      <div className='room-messages' role='feed' data-testid='room-messages' aria-busy={page.loading}>
        {page.data !== undefined && items.length === 0 && <p className='empty'>No messages yet.</p>}
        {items.map((m) => <RoomMessage key={m.id} room={id} m={m} mine={m.author === members.data?.me} canModerate={me?.role === 'admin' || me?.role === 'moderator'} onReply={() => { setReply(m) }} />)}
      </div>
      <form onSubmit={(e) => {
        e.preventDefault()
        send.run(() => call('roomPost', { room: id, text, reply: reply?.id ?? null }), () => { setText(''); setReply(null) })
      }}>
        {reply !== null && <p className='muted'>Replying to {reply.text?.slice(0, 40) ?? 'a message'} <button type='button' onClick={() => { setReply(null) }}>cancel</button></p>}
        <textarea data-testid='room-compose' value={text} onChange={(e) => { setText(e.target.value) }} aria-label='Message' />
        <button type='submit' data-testid='room-send' disabled={send.pending || text.length === 0}>Send</button>
        {send.error !== null && <InlineError error={send.error} />}
      </form>
      {me?.role === 'admin' && <InviteDialog room={id} />}
      {members.data !== undefined && <MembersPanel room={id} me={me ?? null} items={members.data.items} />}
      <LeaveRoom room={id} />
    </section>
  )
}

/** "Leave room", confirmed in place: the others then see me gone and I read nothing written after. */
function LeaveRoom ({ room }: { room: string }) {
  const [confirming, setConfirming] = useState(false)
  const leave = useAction()
  const navigate = useNavigate()
  if (!confirming) return <button type='button' data-testid='room-leave' onClick={() => { setConfirming(true) }}>Leave room</button>
  return (
    <div role='alertdialog' aria-labelledby='leave-title' data-testid='room-leave-confirm'>
      <p id='leave-title'>Leave this room? You are removed from its members on all your devices and will read nothing written after.</p>
      <button type='button' data-testid='room-leave-yes' disabled={leave.pending} onClick={() => { leave.run(() => call('roomLeave', { room }), () => { navigate({ name: 'rooms' }) }) }}>{leave.pending ? 'Leaving…' : 'Leave'}</button>
      <button type='button' onClick={() => { setConfirming(false) }}>Cancel</button>
      {leave.error !== null && <InlineError error={leave.error} />}
    </div>
  )
}

function RoomMessage ({ room, m, mine, canModerate, onReply }: { room: string, m: RoomMessageItem, mine: boolean, canModerate: boolean, onReply: () => void }) {
  const act = useAction()
  const [editing, setEditing] = useState<string | null>(null)
  return (
    <article className='post' data-testid='room-message' data-id={m.id}>
      <header><strong>{displayName(m.authorName, m.author)}</strong>{m.edited && <span className='muted'> (edited)</span>}{m.parent !== null && <span className='muted'> (reply)</span>}</header>
      {editing === null
        ? <p data-testid='room-message-text'>{m.text ?? <em className='muted'>deleted</em>}</p>
        : (
          <form onSubmit={(e) => { e.preventDefault(); act.run(() => call('roomEdit', { room, id: m.id, text: editing }), () => { setEditing(null) }) }}>
            <textarea value={editing} onChange={(e) => { setEditing(e.target.value) }} aria-label='Edit message' />
            <button type='submit'>Save</button> <button type='button' onClick={() => { setEditing(null) }}>Cancel</button>
          </form>
          )}
      {m.text !== null && (
        <footer>
          {Object.entries(m.reactions).map(([e, n]) => <span key={e} className='pill'>{e} {n}</span>)}
          <button type='button' onClick={() => { act.run(() => call('roomReact', { room, id: m.id, emoji: '👍' })) }}>👍</button>
          <button type='button' onClick={onReply}>Reply</button>
          {mine && <button type='button' onClick={() => { setEditing(m.text ?? '') }}>Edit</button>}
          {(mine || canModerate) && <button type='button' onClick={() => { act.run(() => call('roomDelete', { room, id: m.id })) }}>Delete</button>}
        </footer>
      )}
      {act.error !== null && <InlineError error={act.error} />}
    </article>
  )
}
