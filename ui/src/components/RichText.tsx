import { useMemo, useState } from 'react'
import type { Person } from '../protocol.ts'
import { displayName } from '../ids.ts'
import { segments } from '../rich-text.ts'
import { useNavigate } from '../router.tsx'

/** Longer texts fold to their start, with "Show more". */
const FOLD_CHARS = 600
const FOLD_LINES = 12

/**
 * A post's text, direction from its own first strong character (dir=auto, isolated from what is
 * around it): http(s) links open outside the app, `@id` mentions show the name and open the
 * profile, and long texts fold.
 */
export function RichText ({ text, mentioned, testId }: { text: string, mentioned: Person[], testId?: string }) {
  const navigate = useNavigate()
  const [open, setOpen] = useState(false)
  const long = text.length > FOLD_CHARS || text.split('\n').length > FOLD_LINES
  const shown = long && !open ? foldAt(text) : text
  const parts = useMemo(() => segments(shown), [shown])
  const names = new Map(mentioned.map((p) => [p.id, p.name]))
  return (
    <div className='rich-text'>
      <p className='post-text' dir='auto' data-testid={testId} data-folded={long && !open ? 'true' : undefined}>
        {parts.map((s, i) => {
          if (s.kind === 'text') return s.text
          if (s.kind === 'link') {
            return <a key={i} href={s.href} target='_blank' rel='noopener noreferrer' data-testid='post-link'>{s.text}</a>
          }
          return (
            <a key={i} href='#' className='mention' data-testid='mention' data-id={s.id} title={s.id}
              onClick={(e) => { e.preventDefault(); navigate({ name: 'profile', id: s.id }) }}>
              @<bdi>{displayName(names.get(s.id) ?? null, s.id)}</bdi>
            </a>
          )
        })}
        {long && !open && '…'}
      </p>
      {long && (
        <button type='button' className='small' aria-expanded={open} data-testid='show-more' onClick={() => { setOpen(!open) }}>
          {open ? 'Show less' : 'Show more'}
        </button>
      )}
    </div>
  )
}

function foldAt (text: string): string {
  const lines = text.split('\n').slice(0, FOLD_LINES).join('\n')
  const cut = lines.slice(0, FOLD_CHARS)
  // Cut at a space so a word, link or mention is not split.
  const space = cut.lastIndexOf(' ')
  if (space > FOLD_CHARS / 2) return cut.slice(0, space)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut // never half a surrogate pair
}

/** A short excerpt inline (inside a button or link): mentions as names, links as plain text. */
export function InlineExcerpt ({ text, mentioned }: { text: string, mentioned: Person[] }) {
  const names = new Map(mentioned.map((p) => [p.id, p.name]))
  return (
    <bdi dir='auto'>
      {segments(text).map((s, i) => s.kind === 'mention'
        ? <span key={i} className='mention'>@<bdi>{displayName(names.get(s.id) ?? null, s.id)}</bdi></span>
        : s.text)}
    </bdi>
  )
}
