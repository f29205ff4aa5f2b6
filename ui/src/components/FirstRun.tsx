import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import type { Result } from '../protocol.ts'
import { InlineError } from './InlineError.tsx'

/** First run: choose a name and create the identity. */
export function FirstRun ({ onCreated }: { onCreated: (created: Result<'init'>) => void }) {
  const [name, setName] = useState('')
  const action = useAction()
  return (
    <main className='first-run' id='main'>
      <div className='card'>
        <h1>Welcome to Shoal</h1>
        <p>
          Shoal keeps your posts on your own computer and shares them directly with the people who
          follow you. First, create your identity: a key that lives only on this device.
        </p>
        <form onSubmit={(e) => {
          e.preventDefault()
          const trimmed = name.trim()
          action.run(() => call('init', trimmed === '' ? {} : { name: trimmed }), onCreated)
        }}>
          <label htmlFor='init-name'>Your name</label>
          <input id='init-name' data-testid='init-name' value={name} maxLength={64} autoFocus autoComplete='nickname'
            placeholder='How others will see you' onChange={(e) => { setName(e.target.value) }} />
          <p className='muted'>You can change it later. It is public.</p>
          <button type='submit' className='primary' data-testid='init-submit' disabled={action.pending}>
            {action.pending ? 'Creating…' : 'Create identity'}
          </button>
          <InlineError error={action.error} />
        </form>
      </div>
    </main>
  )
}
