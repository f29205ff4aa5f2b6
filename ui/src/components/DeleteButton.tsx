import { useRef, useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { useEscape } from '../use-escape.ts'
import { InlineError } from './InlineError.tsx'

/** Deletes my own post after an in-place confirmation; Escape or Keep returns to the Delete button. */
export function DeleteButton ({ id, onDone }: { id: string, onDone: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const opener = useRef<HTMLButtonElement>(null)
  const action = useAction()
  const cancel = (): void => { setConfirming(false); action.clearError() }
  useEscape(confirming, cancel, opener)

  if (!confirming) {
    return (
      <button type='button' className='small' data-testid='delete-button' ref={opener} onClick={() => { setConfirming(true) }}>Delete</button>
    )
  }
  return (
    <span className='confirm' role='group' aria-label='Confirm delete'>
      <span>Delete this post?</span>{' '}
      <button type='button' className='small danger' data-testid='delete-confirm' autoFocus disabled={action.pending}
        onClick={() => { action.run(() => call('delete', { id }), onDone) }}>
        {action.pending ? 'Deleting…' : 'Delete'}
      </button>{' '}
      <button type='button' className='small' data-testid='delete-keep' onClick={cancel}>Keep</button>
      <InlineError error={action.error} />
    </span>
  )
}
