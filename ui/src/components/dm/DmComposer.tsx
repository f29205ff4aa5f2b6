import { useState } from 'react'
import { DM_TEXT_LIMIT } from '../../protocol.ts'
import { ByteCounter, utf8Length } from '../ByteCounter.tsx'

/** The text box of a DM; Ctrl/Cmd+Enter sends; nothing over the DM cap is sent. */
export function DmComposer ({ onSend, disabled, replyTo, onCancelReply }: { onSend: (text: string) => void, disabled?: boolean, replyTo?: string | null, onCancelReply?: () => void }) {
  const [text, setText] = useState('')
  const bytes = utf8Length(text)
  const blocked = text.trim() === '' || bytes > DM_TEXT_LIMIT || disabled === true
  const submit = (): void => {
    if (blocked) return
    onSend(text)
    setText('')
  }
  return (
    <form className='composer' aria-label='New direct message' onSubmit={(e) => { e.preventDefault(); submit() }}>
      {replyTo != null && (
        <p className='muted' data-testid='dm-replying'>Replying to “{replyTo.slice(0, 60)}” <button type='button' className='link' onClick={onCancelReply}>Cancel</button></p>
      )}
      <textarea data-testid='dm-text' rows={2} aria-label='Message' placeholder='Write a message'
        value={text} onChange={(e) => { setText(e.target.value) }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit() }
        }} />
      <div className='row'>
        <ByteCounter used={bytes} limit={DM_TEXT_LIMIT} testId='dm-bytes' />
        <button type='submit' className='primary push' data-testid='dm-send' disabled={blocked}>Send</button>
      </div>
    </form>
  )
}
