import { useEffect } from 'react'

/**
 * The 24-word recovery phrase, shown once right after the identity is created. It lives only in
 * memory until "I wrote it down"; the node never hands it out again.
 */
export function RecoveryPhrase ({ phrase, onDone }: { phrase: string, onDone: () => void }) {
  const words = phrase.trim().split(/\s+/)

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent): void => { e.preventDefault() }
    window.addEventListener('beforeunload', warn)
    return () => { window.removeEventListener('beforeunload', warn) }
  }, [])

  return (
    <main className='first-run' id='main'>
      <div className='card'>
        <h1>Your recovery phrase</h1>
        <div className='warning' role='alert'>
          <strong>Write these {words.length} words down on paper, in order, now.</strong>{' '}
          They are the only way to get your identity back if this device is lost, and they will
          not be shown again. Anyone who has them can post as you: keep them secret.
        </div>
        <ol className='phrase' data-testid='phrase'>
          {words.map((w, i) => <li key={i}>{w}{' '}</li>)}
        </ol>
        <button type='button' className='primary' data-testid='phrase-done' onClick={onDone}>I wrote it down</button>
      </div>
    </main>
  )
}
