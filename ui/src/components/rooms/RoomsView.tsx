import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction, useEvent, useQuery } from '../../hooks.ts'
import { useNavigate } from '../../router.tsx'
import { InlineError } from '../InlineError.tsx'

/** The rooms list (with unread counts), a form to create a room and one to join by code. */
export function RoomsView () {
  const rooms = useQuery('roomList', {})
  useEvent('roomChanged', () => { rooms.reload() })
  const navigate = useNavigate()
  const [name, setName] = useState('')
  const [code, setCode] = useState('')
  const create = useAction()
  const join = useAction()
  const items = rooms.data?.items ?? []

  return (
    <section className='view' aria-labelledby='rooms-title'>
      <h1 id='rooms-title'>Rooms</h1>
      <ul className='room-list' data-testid='room-list'>
        {rooms.loading && <li className='muted'>Loading rooms…</li>}
        {rooms.data !== undefined && items.length === 0 && <li className='empty'>You are in no rooms yet.</li>}
        {items.map((r) => (
          <li key={r.id}>
            <button type='button' data-testid='room-open' onClick={() => { navigate({ name: 'room', id: r.id }) }}>
              {r.name} <span className='muted'>({r.role})</span>
              {r.unread > 0 && <span className='pill' aria-label={`${r.unread} unread`}>{r.unread}</span>}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault()
        create.run(() => call('roomCreate', { name }), (r) => { setName(''); navigate({ name: 'room', id: r.id }) })
      }}>
        <label>New room <input data-testid='room-name' value={name} maxLength={200} onChange={(e) => { setName(e.target.value) }} /></label>
        <button type='submit' data-testid='room-create' disabled={create.pending || name.length === 0}>Create</button>
        {create.error !== null && <InlineError error={create.error} />}
      </form>
      <form onSubmit={(e) => {
        e.preventDefault()
        join.run(() => call('roomJoin', { code: code.trim(), timeout: 120_000 }), (r) => { setCode(''); navigate({ name: 'room', id: r.id }) })
      }}>
        <label>Join with a code <input data-testid='room-code' value={code} onChange={(e) => { setCode(e.target.value) }} /></label>
        <button type='submit' data-testid='room-join' disabled={join.pending || code.length === 0}>{join.pending ? 'Joining…' : 'Join'}</button>
        {join.error !== null && <InlineError error={join.error} />}
      </form>
    </section>
  )
}
