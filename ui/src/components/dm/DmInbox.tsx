import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction, useEvent, useQuery } from '../../hooks.ts'
import { displayName, isIdentityId } from '../../ids.ts'
import { DM_MAX_PARTICIPANTS } from '../../protocol.ts'
import { useAppState } from '../../app-state.ts'
import { useNavigate } from '../../router.tsx'
import { InlineError } from '../InlineError.tsx'
import { DmComposer } from './DmComposer.tsx'
import { DmRequests } from './DmRequests.tsx'

/** The DM inbox: message requests, a new conversation, and every conversation with its unread badge, kept live. */
export function DmInbox () {
  const list = useQuery('dmList', {})
  useEvent('dm', list.reload)
  const navigate = useNavigate()
  const { id: me } = useAppState()
  const items = list.data?.items ?? []
  return (
    <section className='view' aria-labelledby='dm-title'>
      <h1 id='dm-title'>Messages</h1>
      <DmRequests />
      <NewConversation onSent={(conversation) => { navigate({ name: 'dm-conversation', id: conversation }) }} />
      <ul className='dm-inbox' data-testid='dm-inbox' aria-busy={list.loading}>
        {items.map((c) => {
          const others = c.participants.filter((p) => p.id !== me)
          return (
            <li key={c.conversation}>
              <button type='button' className='card dm-row' data-testid='dm-conversation' data-conversation={c.conversation}
                onClick={() => { navigate({ name: 'dm-conversation', id: c.conversation }) }}>
                <strong>{others.map((p) => displayName(p.name, p.id)).join(', ')}</strong>
                {c.unread > 0 && <span className='pill' data-testid='dm-unread' aria-label={`${c.unread} unread`}>{c.unread}</span>}
                {c.last !== null && <span className='muted dm-last'>{c.last.text}</span>}
              </button>
            </li>
          )
        })}
      </ul>
      {list.data !== undefined && items.length === 0 && <p className='empty'>No direct messages yet.</p>}
      <InlineError error={list.error} onRetry={list.reload} />
    </section>
  )
}

/** Starts a conversation: people picked by name from whom I follow, or a pasted id. */
function NewConversation ({ onSent }: { onSent: (conversation: string) => void }) {
  const following = useQuery('following', {})
  const [picked, setPicked] = useState<string[]>([])
  const [pasted, setPasted] = useState('')
  const action = useAction()
  const people = following.data?.people ?? []
  const toggle = (id: string): void => { setPicked((p) => p.includes(id) ? p.filter((x) => x !== id) : [...p, id]) }
  const addPasted = (): void => {
    const id = pasted.trim()
    if (!isIdentityId(id) || picked.includes(id)) return
    setPicked((p) => [...p, id])
    setPasted('')
  }
  const full = picked.length >= DM_MAX_PARTICIPANTS - 1
  return (
    <details className='card dm-new'>
      <summary data-testid='dm-new'>New message</summary>
      <fieldset>
        <legend>To (up to {DM_MAX_PARTICIPANTS - 1} people)</legend>
        {people.map((p) => (
          <label key={p.id} className='dm-pick'>
            <input type='checkbox' data-testid='dm-pick' data-id={p.id} checked={picked.includes(p.id)} disabled={!picked.includes(p.id) && full}
              onChange={() => { toggle(p.id) }} /> {displayName(p.name, p.id)}
          </label>
        ))}
        <div className='row'>
          <input aria-label='Or paste an id' placeholder='Or paste an id' data-testid='dm-paste' value={pasted}
            onChange={(e) => { setPasted(e.target.value) }} />
          <button type='button' className='small' disabled={!isIdentityId(pasted.trim()) || full} onClick={addPasted}>Add</button>
        </div>
        {picked.filter((id) => !people.some((p) => p.id === id)).map((id) => <span key={id} className='pill'>{id.slice(0, 8)}…</span>)}
      </fieldset>
      {picked.length > 0 && (
        <DmComposer disabled={action.pending} onSend={(text) => {
          action.run(() => call('dmSend', { to: picked, text }), (r) => { setPicked([]); onSent(r.conversation) })
        }} />
      )}
      <InlineError error={action.error} />
    </details>
  )
}
