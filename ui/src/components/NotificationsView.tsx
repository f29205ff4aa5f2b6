import { useEffect } from 'react'
import { useAppState } from '../app-state.ts'
import { useNotifications } from '../notifications.tsx'
import type { Notification } from '../protocol.ts'
import { useNavigate } from '../router.tsx'
import { AuthorLink } from './AuthorLink.tsx'
import { InlineError } from './InlineError.tsx'
import { RelativeTime } from './RelativeTime.tsx'
import { InlineExcerpt } from './RichText.tsx'

const WHAT: Record<Notification['kind'], string> = {
  reply: 'replied to your post',
  reaction: 'reacted to your post',
  mention: 'mentioned you',
  follow: 'followed you'
}

/** Replies, reactions, mentions and new followers, newest first; opening the view marks them seen. */
export function NotificationsView () {
  const { query, markSeen } = useNotifications()
  const navigate = useNavigate()
  const me = useAppState()
  const mentioned = me.id === null ? [] : [{ id: me.id, name: me.name }]
  const data = query.data
  const seen = data?.seen ?? 0

  // Seen once shown: also those that arrive while the view is open.
  useEffect(() => {
    if (data !== undefined) markSeen().catch(reportError)
  }, [data, markSeen])

  return (
    <section className='view' aria-labelledby='notifications-title'>
      <h1 id='notifications-title'>Activity</h1>
      <p className='muted'>Replies to your posts, reactions to them, mentions of you and new followers.</p>
      {query.loading && <p className='muted center'>Loading…</p>}
      <InlineError error={query.error} onRetry={query.reload} />
      {data !== undefined && data.items.length === 0 && <p className='empty'>Nothing yet. Replies, reactions, mentions and new followers show here.</p>}
      <ul className='notifications' data-testid='notifications'>
        {data?.items.map((n) => (
          <li key={`${n.kind} ${n.who} ${n.post ?? ''} ${n.emoji ?? ''}`} className={n.at > seen ? 'notification unread' : 'notification'}
            data-testid='notification' data-kind={n.kind} data-unread={n.at > seen ? 'true' : undefined}>
            <p>
              <AuthorLink id={n.who} name={n.whoName} /> {WHAT[n.kind]}
              {n.emoji !== null && <> <span aria-label={`with ${n.emoji}`}>{n.emoji}</span></>}
              <span className='dot' aria-hidden='true'> · </span><RelativeTime timestamp={n.at} />
            </p>
            {n.text !== null && n.post !== null && (
              <button type='button' className='link excerpt' data-testid='notification-open'
                onClick={() => { navigate({ name: 'thread', id: n.post as string, focus: n.post as string }) }}>
                <InlineExcerpt text={n.text} mentioned={mentioned} />
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
