import { useEffect, useRef, useState } from 'react'
import { call, type ApiCallError } from '../api-client.ts'
import { toApiError, useAction } from '../hooks.ts'
import type { Item, Result } from '../protocol.ts'
import { useEscape } from '../use-escape.ts'
import { Name } from './AuthorLink.tsx'
import { InlineError } from './InlineError.tsx'

export const EMOJIS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '🔥']

/**
 * Reaction counts, each a toggle: pressed when it is mine, pressing adds or removes mine. A picker
 * for the rest, and "who" lists the people behind each emoji. Escape closes either.
 */
export function ReactionBar ({ item, onChanged }: { item: Item, onChanged: () => void }) {
  const [picking, setPicking] = useState(false)
  const [who, setWho] = useState(false)
  const pickerButton = useRef<HTMLButtonElement>(null)
  const whoButton = useRef<HTMLButtonElement>(null)
  useEscape(picking, () => { setPicking(false) }, pickerButton)
  useEscape(who, () => { setWho(false) }, whoButton)
  const action = useAction()
  const mine = new Set(item.mine)
  const counts = Object.entries(item.reactions).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])
  const react = (emoji: string, remove: boolean): void => {
    setPicking(false)
    action.run(() => call('react', { id: item.id, emoji, remove }), onChanged)
  }

  return (
    <div className='reactions'>
      {counts.map(([emoji, n]) => {
        const pressed = mine.has(emoji)
        return (
          <button key={emoji} type='button' className='reaction' disabled={action.pending} aria-pressed={pressed}
            aria-label={pressed ? `Remove your ${emoji} (${n})` : `React ${emoji} (${n})`} title={pressed ? 'You reacted: press to remove' : undefined}
            data-testid='reaction' data-emoji={emoji} data-mine={pressed ? 'true' : undefined}
            onClick={() => { react(emoji, pressed) }}>
            <span aria-hidden='true'>{emoji}</span> <span className='count'>{n}</span>
          </button>
        )
      })}
      <button type='button' className='reaction add' aria-expanded={picking} aria-label='Add a reaction' ref={pickerButton}
        data-testid='react-button' onClick={() => { setPicking(!picking) }}>
        <span aria-hidden='true'>☺︎+</span>
      </button>
      {counts.length > 0 && (
        <button type='button' className='reaction add' aria-expanded={who} ref={whoButton} data-testid='reactors-button'
          onClick={() => { setWho(!who) }}>
          Who?
        </button>
      )}
      {picking && (
        <span className='picker' role='group' aria-label='Reactions'>
          {EMOJIS.map((emoji, i) => (
            <button key={emoji} type='button' className='reaction' aria-label={`React ${emoji}`} autoFocus={i === 0}
              aria-pressed={mine.has(emoji)} data-testid='react-emoji' data-emoji={emoji}
              onClick={() => { react(emoji, mine.has(emoji)) }}>
              {emoji}
            </button>
          ))}
        </span>
      )}
      {who && <Reactors id={item.id} version={JSON.stringify(item.reactions)} />}
      <InlineError error={action.error} />
    </div>
  )
}

/** Who reacted with what, by name; fetched when opened and again when the counts change. */
function Reactors ({ id, version }: { id: string, version: string }) {
  const [data, setData] = useState<Result<'reactors'> | null>(null)
  const [error, setError] = useState<ApiCallError | null>(null)
  useEffect(() => {
    let stopped = false
    call('reactors', { id }).then(
      (r) => { if (!stopped) { setData(r); setError(null) } },
      (err: unknown) => { if (!stopped) setError(toApiError(err)) }
    ).catch(reportError)
    return () => { stopped = true }
  }, [id, version])
  return (
    <div className='reactors' role='group' aria-label='Who reacted' data-testid='reactors'>
      {data === null && error === null && <span className='muted'>Loading…</span>}
      {data?.reactions.map((r) => (
        <p key={r.emoji} data-testid='reactors-row' data-emoji={r.emoji}>
          <span aria-hidden='true'>{r.emoji}</span>{' '}
          {r.people.map((p, i) => <span key={p.id}>{i > 0 && ', '}<Name name={p.name} id={p.id} /></span>)}
        </p>
      ))}
      <InlineError error={error} />
    </div>
  )
}
