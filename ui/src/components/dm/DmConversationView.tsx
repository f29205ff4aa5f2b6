import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction, useEvent, useQuery } from '../../hooks.ts'
import { displayName } from '../../ids.ts'
import { useAppState } from '../../app-state.ts'
import type { DmMessage } from '../../protocol.ts'
import { InlineError } from '../InlineError.tsx'
import { RelativeTime } from '../RelativeTime.tsx'
import { DmComposer } from './DmComposer.tsx'
import { SafetyCode } from './SafetyCode.tsx'

const PAGE = 100

/** One conversation, oldest first, updating live on `dm` events; replies and local deletion. */
export function DmConversationView ({ id }: { id: string }) {
  const page = useQuery('dmRead', { conversation: id, limit: PAGE })
  useEvent('dm', (ev) => { if (ev.conversation === id) page.reload() })
  const list = useQuery('dmList', {})
  const { id: me } = useAppState()
  const [reply, setReply] = useState<DmMessage | null>(null)
  const action = useAction()
  const conv = list.data?.items.find((c) => c.conversation === id)
  const others = conv?.participants.filter((p) => p.id !== me) ?? []
  const items = [...(page.data?.items ?? [])].reverse()
  const byId = new Map(items.map((m) => [m.id, m]))
  return (
    <section className='view' aria-labelledby='dm-conv-title'>
      <h1 id='dm-conv-title'>{others.map((p) => displayName(p.name, p.id)).join(', ') || 'Conversation'}</h1>
      {others.map((p) => <SafetyCode key={p.id} id={p.id} name={displayName(p.name, p.id)} />)}
      <ol className='dm-messages' data-testid='dm-messages' aria-busy={page.loading}>
        {items.map((m) => (
          <li key={m.id} className={`card dm-message${m.author === me ? ' mine' : ''}`} data-testid='dm-message' data-id={m.id}>
            {m.parent !== null && <p className='muted small'>↪ {byId.get(m.parent)?.text.slice(0, 80) ?? 'an earlier message'}</p>}
            <p className='dm-meta'><strong>{m.author === me ? 'You' : displayName(m.authorName, m.author)}</strong> <RelativeTime timestamp={m.timestamp} /></p>
            <p className='dm-text' data-testid='dm-message-text'>{m.text}</p>
            {Object.keys(m.reactions).length > 0 && (
              <p className='dm-reactions' data-testid='dm-reactions'>{Object.entries(m.reactions).map(([e, n]) => `${e} ${n}`).join('  ')}</p>
            )}
            <div className='row'>
              <button type='button' className='link' data-testid='dm-react' aria-label='React with a thumbs up'
                onClick={() => { action.run(() => call('dmReact', { id: m.id, emoji: '👍' }), page.reload) }}>👍</button>
              <button type='button' className='link' data-testid='dm-reply' onClick={() => { setReply(m) }}>Reply</button>
              <button type='button' className='link' data-testid='dm-delete' onClick={() => { action.run(() => call('dmDelete', { id: m.id }), page.reload) }}>Delete here</button>
            </div>
          </li>
        ))}
      </ol>
      {page.data !== undefined && items.length === 0 && <p className='empty'>No messages yet.</p>}
      <DmComposer disabled={action.pending || others.length === 0} replyTo={reply?.text ?? null} onCancelReply={() => { setReply(null) }}
        onSend={(text) => {
          action.run(() => call('dmSend', { to: others.map((p) => p.id), text, reply: reply?.id ?? null }), () => { setReply(null); page.reload() })
        }} />
      <InlineError error={action.error ?? page.error} onRetry={page.reload} />
    </section>
  )
}
