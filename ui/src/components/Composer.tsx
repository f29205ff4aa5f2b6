import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { TEXT_LIMITS } from '../protocol.ts'
import { ByteCounter, utf8Length } from './ByteCounter.tsx'
import { InlineError } from './InlineError.tsx'
import { MentionTextarea } from './MentionTextarea.tsx'

/** A new post, with an optional content warning; Ctrl/Cmd+Enter posts from the textarea; nothing over the byte caps is sent. */
export function Composer ({ onPosted }: { onPosted: () => void }) {
  const [text, setText] = useState('')
  const [cw, setCw] = useState<string | null>(null)
  const action = useAction()
  const empty = text.trim() === ''
  const bytes = utf8Length(text)
  const cwBytes = cw === null ? 0 : utf8Length(cw.trim())
  const tooLong = bytes > TEXT_LIMITS.text || cwBytes > TEXT_LIMITS.contentWarning
  const submit = (): void => {
    if (empty || tooLong || action.pending) return
    const warning = cw !== null && cw.trim() !== '' ? cw.trim() : null
    action.run(() => call('post', { text, cw: warning }), () => {
      setText('')
      setCw(null)
      onPosted()
    })
  }

  return (
    <form className='composer card' aria-label='New post' onSubmit={(e) => { e.preventDefault(); submit() }}>
      <label className='sr-only' htmlFor='compose-text'>What is happening?</label>
      {cw !== null && (
        <input className='cw-input' data-testid='compose-cw' placeholder='Content warning (shown instead of the text)'
          aria-label='Content warning' dir='auto' value={cw} autoFocus onChange={(e) => { setCw(e.target.value) }} />
      )}
      <MentionTextarea id='compose-text' data-testid='compose-text' rows={3} placeholder='What is happening? (@ to mention someone)'
        dir='auto' value={text} onValue={setText}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            submit()
          }
        }} />
      <div className='row'>
        <button type='button' className='small' aria-pressed={cw !== null} data-testid='compose-cw-toggle'
          onClick={() => { setCw(cw === null ? '' : null) }}>
          CW
        </button>
        <span className='hint'>Ctrl+Enter to post</span>
        <ByteCounter used={bytes} limit={TEXT_LIMITS.text} testId='compose-bytes' />
        {cw !== null && <ByteCounter used={cwBytes} limit={TEXT_LIMITS.contentWarning} testId='compose-cw-bytes' />}
        <button type='submit' className='primary push' data-testid='compose-submit' disabled={empty || tooLong || action.pending}>
          {action.pending ? 'Posting…' : 'Post'}
        </button>
      </div>
      <InlineError error={action.error} />
    </form>
  )
}
