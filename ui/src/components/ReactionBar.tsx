import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import type { Item } from '../protocol.ts'
import { InlineError } from './InlineError.tsx'

export const EMOJIS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '🔥']

/** Reaction counts, each a button that adds mine, and a picker for the rest. */
export function ReactionBar ({ item, onChanged }: { item: Item, onChanged: () => void }) {
  const [picking, setPicking] = useState(false)
  const action = useAction()
  const counts = Object.entries(item.reactions).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])
  const react = (emoji: string): void => {
    setPicking(false)
    action.run(() => call('react', { id: item.id, emoji }), onChanged)
  }

  return (
    <div className='reactions'>
      {counts.map(([emoji, n]) => (
        <button key={emoji} type='button' className='reaction' disabled={action.pending}
          aria-label={`React ${emoji} (${n})`} data-testid='reaction' data-emoji={emoji}
          onClick={() => { react(emoji) }}>
          <span aria-hidden='true'>{emoji}</span> <span className='count'>{n}</span>
        </button>
      ))}
      <button type='button' className='reaction add' aria-expanded={picking} aria-label='Add a reaction'
        data-testid='react-button' onClick={() => { setPicking(!picking) }}>
        <span aria-hidden='true'>☺︎+</span>
      </button>
      {picking && (
        <span className='picker' role='group' aria-label='Reactions'>
          {EMOJIS.map((emoji) => (
            <button key={emoji} type='button' className='reaction' aria-label={`React ${emoji}`}
              data-testid='react-emoji' data-emoji={emoji} onClick={() => { react(emoji) }}>
              {emoji}
            </button>
          ))}
        </span>
      )}
      <InlineError error={action.error} />
    </div>
  )
}
