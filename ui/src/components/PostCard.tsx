import { memo, useEffect, useRef, useState } from 'react'
import { useIsMe } from '../app-state.ts'
import type { Item } from '../protocol.ts'
import { useNavigate } from '../router.tsx'
import { AuthorLink } from './AuthorLink.tsx'
import { DeleteButton } from './DeleteButton.tsx'
import { PostBody } from './PostBody.tsx'
import { PostEditor } from './PostEditor.tsx'
import { ReactionBar } from './ReactionBar.tsx'
import { RelativeTime } from './RelativeTime.tsx'
import { ReplyBox } from './ReplyBox.tsx'

export interface PostCardProps {
  item: Item
  /** After a change made here (reply, reaction, edit, delete), before the `changed` event. */
  onChanged: () => void
  /** Inside the thread view: no link to the thread, no "reply" marker. */
  inThread?: boolean
  highlight?: boolean
}

/** One post: author, time, text behind its content warning, reactions and actions. */
export const PostCard = memo(function PostCard ({ item, onChanged, inThread = false, highlight = false }: PostCardProps) {
  const navigate = useNavigate()
  const own = useIsMe(item.author)
  const [mode, setMode] = useState<'view' | 'reply' | 'edit'>('view')
  const replyButton = useRef<HTMLButtonElement>(null)
  const editButton = useRef<HTMLButtonElement>(null)
  const was = useRef(mode)
  // Closing the reply box or the editor (Escape, Cancel, done) returns focus to the button that opened it.
  useEffect(() => {
    const from = was.current
    was.current = mode
    if (mode !== 'view' || from === 'view') return
    if (document.activeElement !== null && document.activeElement !== document.body) return
    ;(from === 'reply' ? replyButton : editButton).current?.focus()
  }, [mode])
  const done = (): void => {
    setMode('view')
    onChanged()
  }

  return (
    <article className={highlight ? 'post highlight' : 'post'} data-testid='post' data-id={item.id} data-author={item.author}>
      <header className='post-head'>
        <AuthorLink id={item.author} name={item.authorName} />
        <span className='dot' aria-hidden='true'>·</span>
        <RelativeTime timestamp={item.timestamp} />
        {item.edited && <span className='badge' data-testid='edited' title='Edited after posting'>edited</span>}
        {item.parent !== null && !inThread && <span className='badge'>reply</span>}
      </header>

      {mode === 'edit'
        ? <PostEditor item={item} onDone={done} onCancel={() => { setMode('view') }} />
        : <PostBody item={item} />}

      <ReactionBar item={item} onChanged={onChanged} />

      <footer className='post-actions'>
        <button type='button' className='small' data-testid='reply-button' ref={replyButton} aria-expanded={mode === 'reply'}
          onClick={() => { setMode(mode === 'reply' ? 'view' : 'reply') }}>
          Reply
        </button>
        {!inThread && (
          <button type='button' className='small' data-testid='open-thread'
            onClick={() => { navigate({ name: 'thread', id: item.root ?? item.id, focus: item.id }) }}>
            {item.root !== null ? 'View thread' : 'Open thread'}
          </button>
        )}
        {own && mode !== 'edit' && (
          <button type='button' className='small' data-testid='edit-button' ref={editButton} onClick={() => { setMode('edit') }}>Edit</button>
        )}
        {own && <DeleteButton id={item.id} onDone={onChanged} />}
      </footer>

      {mode === 'reply' && <ReplyBox parent={item.id} onDone={done} onCancel={() => { setMode('view') }} />}
    </article>
  )
})
