import { useState } from 'react'
import { ApiCallError, call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { isIdentityId } from '../ids.ts'
import { InlineError } from './InlineError.tsx'

/** Follow someone by pasting their identity id; the id is checked here before the node sees it. */
export function FollowForm ({ myId, onFollowed }: { myId: string, onFollowed: () => void }) {
  const [value, setValue] = useState('')
  const [invalid, setInvalid] = useState<ApiCallError | null>(null)
  const action = useAction()

  const submit = (): void => {
    const id = value.trim().toLowerCase()
    if (!isIdentityId(id)) {
      setInvalid(new ApiCallError('INVALID_ID', 'an identity id is 52 z-base32 characters (no 0, 2, l or v), like the one under "Your id"'))
      return
    }
    if (id === myId) {
      setInvalid(new ApiCallError('OWN_ID', 'that is your own id'))
      return
    }
    setInvalid(null)
    action.run(() => call('follow', { id }), () => {
      setValue('')
      onFollowed()
    })
  }

  return (
    <form className='follow-form card' onSubmit={(e) => { e.preventDefault(); submit() }}>
      <h2><label htmlFor='follow-input'>Follow someone</label></h2>
      <div className='row'>
        <input id='follow-input' data-testid='follow-input' className='mono grow' placeholder='Paste an identity id'
          autoComplete='off' spellCheck={false} value={value} aria-invalid={invalid !== null}
          onChange={(e) => { setValue(e.target.value); setInvalid(null) }} />
        <button type='submit' className='primary' data-testid='follow-submit' disabled={action.pending || value.trim() === ''}>
          {action.pending ? 'Following…' : 'Follow'}
        </button>
      </div>
      <InlineError error={invalid ?? action.error} />
    </form>
  )
}
