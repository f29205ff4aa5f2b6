import { useQuery } from '../hooks.ts'
import { InlineError } from './InlineError.tsx'
import { PostCard } from './PostCard.tsx'

const MENTIONS_LIMIT = 100

/** Posts that mention me, newest first, kept live. */
export function MentionsView () {
  const mentions = useQuery('mentions', { limit: MENTIONS_LIMIT }, { live: true })
  const items = mentions.data?.items ?? []
  return (
    <section className='view' aria-labelledby='mentions-title'>
      <h1 id='mentions-title'>Mentions</h1>
      <div className='timeline' role='feed' aria-busy={mentions.loading} data-testid='mentions'>
        {items.map((item) => <PostCard key={item.id} item={item} onChanged={mentions.reload} />)}
        {mentions.loading && <p className='muted center'>Loading mentions…</p>}
        {mentions.data !== undefined && items.length === 0 && <p className='empty'>No one has mentioned you yet.</p>}
        <InlineError error={mentions.error} onRetry={mentions.reload} />
      </div>
    </section>
  )
}
