import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { InlineError } from './InlineError.tsx'

/** Deletes my own post after an in-place confirmation. */
export function DeleteButton ({ id, onDone }: { id: string, onDone: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const action = useAction()

  if (!confirming) {
    return (
      <button type='button' className='small' data-testid='delete-button' onClick={() => { setConfirming(true) }}>Delete</button>
    )
  }
  return (
    <span className='confirm' role='group' aria-label='Confirm delete'>
      <span>Delete this post?</span>{' '}
      <button type='button' className='small danger' data-testid='delete-confirm' autoFocus disabled={action.pending}
        onClick={() => { action.run(() => call('delete', { id }), onDone) }}>
        {action.pending ? 'Deleting…' : 'Delete'}
      </button>{' '}
      <button type='button' className='small' onClick={() => { setConfirming(false); action.clearError() }}>Keep</button>
      <InlineError error={action.error} />
    </span>
  )
}
