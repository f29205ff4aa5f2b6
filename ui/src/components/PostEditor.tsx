import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import type { Item } from '../protocol.ts'
import { TEXT_LIMITS } from '../protocol.ts'
import { ByteCounter, utf8Length } from './ByteCounter.tsx'
import { InlineError } from './InlineError.tsx'
import { MentionTextarea } from './MentionTextarea.tsx'
import { SaveCancel } from './SaveCancel.tsx'

/** Edits my own post in place; Ctrl/Cmd+Enter saves, Escape cancels. */
export function PostEditor ({ item, onDone, onCancel }: { item: Item, onDone: () => void, onCancel: () => void }) {
  const [text, setText] = useState(item.text)
  const action = useAction()
  const unchanged = text === item.text
  const bytes = utf8Length(text)
  const tooLong = bytes > TEXT_LIMITS.text
  const save = (): void => {
    if (text.trim() === '' || tooLong || action.pending) return
    if (unchanged) {
      onCancel()
      return
    }
    action.run(() => call('edit', { id: item.id, text }), onDone)
  }

  return (
    <form className='post-editor' onSubmit={(e) => { e.preventDefault(); save() }}>
      <label className='sr-only' htmlFor={`edit-${item.id}`}>Edit your post</label>
      <MentionTextarea id={`edit-${item.id}`} data-testid='edit-text' rows={3} autoFocus dir='auto' value={text}
        onValue={setText}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            save()
          } else if (e.key === 'Escape') {
            onCancel()
          }
        }} />
      <ByteCounter used={bytes} limit={TEXT_LIMITS.text} testId='edit-bytes' />
      <SaveCancel pending={action.pending} disabled={text.trim() === '' || tooLong} onCancel={onCancel} testId='edit-submit' />
      <InlineError error={action.error} />
    </form>
  )
}
