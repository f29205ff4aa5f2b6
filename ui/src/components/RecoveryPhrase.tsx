import { useEffect, useMemo, useState } from 'react'

const QUIZ_WORDS = 3

/**
 * The 24-word recovery phrase, shown once right after the identity is created, then a check that
 * it was written down: three of the words, picked at random, asked by position. It lives only in
 * memory until the check passes; the node never hands it out again.
 */
export function RecoveryPhrase ({ phrase, onDone }: { phrase: string, onDone: () => void }) {
  const words = phrase.trim().split(/\s+/)
  const [checking, setChecking] = useState(false)

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent): void => { e.preventDefault() }
    window.addEventListener('beforeunload', warn)
    return () => { window.removeEventListener('beforeunload', warn) }
  }, [])

  return (
    <main className='first-run' id='main'>
      <div className='card'>
        {checking
          ? <PhraseCheck words={words} onBack={() => { setChecking(false) }} onDone={onDone} />
          : (
            <>
              <h1>Your recovery phrase</h1>
              <div className='warning' role='alert'>
                <strong>Write these {words.length} words down on paper, in order, now.</strong>{' '}
                They are the only way to get your identity back if this device is lost, and they will
                not be shown again. Anyone who has them can post as you: keep them secret.
              </div>
              <ol className='phrase' data-testid='phrase'>
                {words.map((w, i) => <li key={i}>{w}{' '}</li>)}
              </ol>
              <button type='button' className='primary' data-testid='phrase-done' onClick={() => { setChecking(true) }}>I wrote it down</button>
            </>
            )}
      </div>
    </main>
  )
}

function PhraseCheck ({ words, onBack, onDone }: { words: string[], onBack: () => void, onDone: () => void }) {
  const asked = useMemo(() => pick(words.length, QUIZ_WORDS), [words.length])
  const [answers, setAnswers] = useState<string[]>(() => asked.map(() => ''))
  const [wrong, setWrong] = useState(false)
  return (
    <form data-testid='phrase-check' onSubmit={(e) => {
      e.preventDefault()
      const ok = asked.every((pos, i) => answers[i].trim().toLowerCase() === words[pos])
      if (ok) onDone()
      else setWrong(true)
    }}>
      <h1>Check your copy</h1>
      <p>Type these words from the phrase you wrote down.</p>
      {asked.map((pos, i) => (
        <label key={pos}>
          Word number {pos + 1}
          <input data-testid='check-word' data-position={pos + 1} autoComplete='off' spellCheck={false} autoCapitalize='none'
            autoFocus={i === 0} value={answers[i]} aria-invalid={wrong}
            onChange={(e) => { setWrong(false); setAnswers(answers.map((a, j) => (j === i ? e.target.value : a))) }} />
        </label>
      ))}
      {wrong && (
        <p className='inline-error' role='alert' data-testid='check-wrong'>
          Those words do not match. Look at your copy again, or go back and fix it.
        </p>
      )}
      <div className='row'>
        <button type='submit' className='primary' data-testid='check-submit'>Continue</button>
        <button type='button' data-testid='check-back' onClick={onBack}>Show the phrase again</button>
      </div>
    </form>
  )
}

/** `k` distinct positions below `n`, in order, from the browser's CSPRNG. */
function pick (n: number, k: number): number[] {
  const chosen = new Set<number>()
  const buf = new Uint32Array(1)
  while (chosen.size < Math.min(k, n)) {
    crypto.getRandomValues(buf)
    chosen.add(buf[0] % n)
  }
  return [...chosen].sort((a, b) => a - b)
}
