import { useId, useMemo, useRef, useState } from 'react'
import type { KeyboardEvent, TextareaHTMLAttributes } from 'react'
import { useQuery } from '../hooks.ts'
import type { Person } from '../protocol.ts'
import { Name } from './AuthorLink.tsx'

const MAX_SUGGESTIONS = 6
/** The `@word` being typed right before the caret. */
const TYPING = /(?:^|\s)@([^\s@]{0,52})$/

type Props = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange'> & {
  value: string
  onValue: (value: string) => void
}

/**
 * A textarea that offers, after `@`, the people I follow and who follow me (by name or id);
 * choosing one (click, Enter or Tab) puts `@<their id>` in the text, which the node turns into a
 * mention. Arrow keys move, Escape closes the list without leaving the field.
 */
export function MentionTextarea ({ value, onValue, onKeyDown, ...rest }: Props) {
  const area = useRef<HTMLTextAreaElement>(null)
  const listId = useId()
  const [caret, setCaret] = useState<number | null>(null)
  const [active, setActive] = useState(0)
  const [dismissed, setDismissed] = useState<string | null>(null)
  const typing = caret === null ? null : TYPING.exec(value.slice(0, caret))
  const query = typing === null ? null : typing[1].toLowerCase()
  const open = query !== null && dismissed !== value
  const following = useQuery('following', {}, {})
  const followers = useQuery('followers', {}, {})
  const people = useMemo(() => {
    const all = new Map<string, Person>()
    for (const p of [...(following.data?.people ?? []), ...(followers.data?.people ?? [])]) all.set(p.id, p)
    return [...all.values()]
  }, [following.data, followers.data])
  const matches = open
    ? people.filter((p) => p.id.startsWith(query) || (p.name ?? '').toLowerCase().includes(query)).slice(0, MAX_SUGGESTIONS)
    : []
  const shown = matches.length > 0

  const choose = (p: Person): void => {
    if (caret === null || typing === null) return
    const start = caret - typing[1].length - 1
    const insert = `@${p.id} `
    const next = value.slice(0, start) + insert + value.slice(caret)
    onValue(next)
    const at = start + insert.length
    setCaret(at)
    requestAnimationFrame(() => {
      area.current?.focus()
      area.current?.setSelectionRange(at, at)
    })
  }

  const keyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (shown) {
      const i = Math.min(active, matches.length - 1)
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault()
        setActive((i + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length)
        return
      }
      if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
        e.preventDefault()
        choose(matches[i])
        return
      }
      if (e.key === 'Escape') {
        e.preventDefault()
        setDismissed(value)
        return
      }
    }
    onKeyDown?.(e)
  }
  const track = (el: HTMLTextAreaElement): void => { setCaret(el.selectionStart === el.selectionEnd ? el.selectionStart : null) }

  return (
    <div className='mention-field'>
      <textarea {...rest} ref={area} value={value} aria-autocomplete='list' aria-expanded={shown}
        aria-controls={shown ? listId : undefined}
        aria-activedescendant={shown ? `${listId}-${Math.min(active, matches.length - 1)}` : undefined}
        onChange={(e) => { onValue(e.target.value); track(e.target); setActive(0) }}
        onSelect={(e) => { track(e.currentTarget) }}
        onBlur={() => { setCaret(null) }}
        onKeyDown={keyDown} />
      {shown && (
        <ul className='mention-list' role='listbox' id={listId} aria-label='People to mention' data-testid='mention-list'>
          {matches.map((p, i) => (
            <li key={p.id} id={`${listId}-${i}`} role='option' aria-selected={i === Math.min(active, matches.length - 1)}
              data-testid='mention-option' data-id={p.id}
              // mousedown, not click: the textarea must keep focus (and its caret) until the choice is made
              onMouseDown={(e) => { e.preventDefault(); choose(p) }}>
              <Name name={p.name} id={p.id} /> <span className='mono muted'>{p.id.slice(0, 8)}…</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
