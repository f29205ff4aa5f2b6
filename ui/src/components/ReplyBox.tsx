import { useState } from 'react'
import type { KeyboardEvent } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { TEXT_LIMITS } from '../protocol.ts'
import { ByteCounter, utf8Length } from './ByteCounter.tsx'
import { InlineError } from './InlineError.tsx'
import { MentionTextarea } from './MentionTextarea.tsx'

/** A reply written in place under the message it answers; Ctrl/Cmd+Enter sends, Escape closes it while empty. */
export function ReplyBox ({ parent, onDone, onCancel }: { parent: string, onDone: () => void, onCancel: () => void }) {
  const [text, setText] = useState('')
  const action = useAction()
  const bytes = utf8Length(text)
  const tooLong = bytes > TEXT_LIMITS.text
  const send = (): void => {
    if (text.trim() === '' || tooLong || action.pending) return
    action.run(() => call('post', { text, reply: parent }), () => {
      setText('')
      onDone()
    })
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      send()
    } else if (e.key === 'Escape' && text === '') {
      onCancel()
    }
  }

  return (
    <form className='reply-box' onSubmit={(e) => { e.preventDefault(); send() }}>
      <label className='sr-only' htmlFor={`reply-${parent}`}>Your reply</label>
      <MentionTextarea id={`reply-${parent}`} data-testid='reply-text' rows={2} placeholder='Write a reply…' autoFocus dir='auto'
        value={text} onValue={setText} onKeyDown={onKeyDown} />
      <div className='row'>
        <button type='submit' className='primary' data-testid='reply-submit' disabled={action.pending || tooLong || text.trim() === ''}>
          {action.pending ? 'Sending…' : 'Reply'}
        </button>
        <button type='button' onClick={onCancel}>Cancel</button>
        <span className='hint'>Ctrl+Enter to send</span>
        <ByteCounter used={bytes} limit={TEXT_LIMITS.text} testId='reply-bytes' />
      </div>
      <InlineError error={action.error} />
    </form>
  )
}
