import { useState } from 'react'
import { ApiCallError, call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { TEXT_LIMITS, type Result } from '../protocol.ts'
import { ByteCounter, utf8Length } from './ByteCounter.tsx'
import { InlineError } from './InlineError.tsx'

const PHRASE_WORDS = 24

/** First run: create a new identity with a name, or bring one back from its recovery phrase. */
export function FirstRun ({ onCreated }: { onCreated: (created: Result<'init'>) => void }) {
  const [mode, setMode] = useState<'create' | 'restore'>('create')
  return (
    <main className='first-run' id='main'>
      <div className='card'>
        <h1>Welcome to Shoal</h1>
        <p>
          Shoal keeps your posts on your own computer and shares them directly with the people who
          follow you. Your identity is a key that lives only on this device.
        </p>
        <div className='tabs' role='group' aria-label='Start'>
          <button type='button' aria-pressed={mode === 'create'} data-testid='mode-create' onClick={() => { setMode('create') }}>New identity</button>
          <button type='button' aria-pressed={mode === 'restore'} data-testid='mode-restore' onClick={() => { setMode('restore') }}>I have a recovery phrase</button>
        </div>
        {mode === 'create' ? <CreateForm onCreated={onCreated} /> : <RestoreForm onCreated={onCreated} />}
      </div>
    </main>
  )
}

function CreateForm ({ onCreated }: { onCreated: (created: Result<'init'>) => void }) {
  const [name, setName] = useState('')
  const action = useAction()
  const bytes = utf8Length(name.trim())
  const tooLong = bytes > TEXT_LIMITS.name
  return (
    <form onSubmit={(e) => {
      e.preventDefault()
      if (tooLong) return
      const trimmed = name.trim()
      action.run(() => call('init', trimmed === '' ? {} : { name: trimmed }), onCreated)
    }}>
      <label htmlFor='init-name'>Your name</label>
      <input id='init-name' data-testid='init-name' dir='auto' value={name} autoFocus autoComplete='nickname'
        placeholder='How others will see you' onChange={(e) => { setName(e.target.value) }} />
      <ByteCounter used={bytes} limit={TEXT_LIMITS.name} testId='init-name-bytes' />
      <p className='muted'>You can change it later. It is public.</p>
      <button type='submit' className='primary' data-testid='init-submit' disabled={action.pending || tooLong}>
        {action.pending ? 'Creating…' : 'Create identity'}
      </button>
      <InlineError error={action.error} />
    </form>
  )
}

/** Restores from the 24 words; the node checks them before it writes anything. */
function RestoreForm ({ onCreated }: { onCreated: (created: Result<'init'>) => void }) {
  const [phrase, setPhrase] = useState('')
  const [local, setLocal] = useState<ApiCallError | null>(null)
  const action = useAction()
  const words = phrase.trim() === '' ? [] : phrase.trim().split(/\s+/)
  return (
    <form onSubmit={(e) => {
      e.preventDefault()
      if (words.length !== PHRASE_WORDS) {
        setLocal(new ApiCallError('INVALID_PHRASE', `${words.length} words given`))
        return
      }
      setLocal(null)
      action.run(() => call('init', { restore: words.join(' ').toLowerCase() }), onCreated)
    }}>
      <label htmlFor='restore-phrase'>Your recovery phrase</label>
      <textarea id='restore-phrase' data-testid='restore-phrase' rows={4} autoFocus autoComplete='off' spellCheck={false}
        autoCapitalize='none' placeholder='The 24 words, in order, separated by spaces' value={phrase}
        onChange={(e) => { setPhrase(e.target.value); setLocal(null) }} />
      <p className='muted' data-testid='restore-count'>{words.length} of {PHRASE_WORDS} words</p>
      <p className='muted'>Your posts and follows come back from the people who have them once you are online. Use the phrase on one device at a time.</p>
      <button type='submit' className='primary' data-testid='restore-submit' disabled={action.pending || words.length === 0}>
        {action.pending ? 'Restoring…' : 'Restore identity'}
      </button>
      <InlineError error={local ?? action.error} />
    </form>
  )
}
