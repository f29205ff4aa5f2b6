export interface SaveCancelProps {
  pending: boolean
  disabled?: boolean
  onCancel: () => void
  /** data-testid of the save button. */
  testId: string
}

/** The Save / Cancel row of an editing form (Save submits the form). */
export function SaveCancel ({ pending, disabled = false, onCancel, testId }: SaveCancelProps) {
  return (
    <div className='row'>
      <button type='submit' className='primary' data-testid={testId} disabled={pending || disabled}>
        {pending ? 'Saving…' : 'Save'}
      </button>
      <button type='button' onClick={onCancel}>Cancel</button>
    </div>
  )
}
