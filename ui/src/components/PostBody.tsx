import { useState } from 'react'
import type { Item } from '../protocol.ts'

/** The text of a post; behind its content warning until the reader chooses to show it. */
export function PostBody ({ item }: { item: Item }) {
  const [shown, setShown] = useState(false)
  const hidden = item.cw !== null && !shown
  return (
    <div className='post-body'>
      {item.cw !== null && (
        <p className='cw'>
          <span className='cw-label'>CW</span> <span className='cw-text'>{item.cw}</span>{' '}
          <button type='button' className='small' aria-expanded={shown} onClick={() => { setShown(!shown) }} data-testid='cw-toggle'>
            {shown ? 'Hide' : 'Show'}
          </button>
        </p>
      )}
      {!hidden && <p className='post-text' data-testid='post-text'>{item.text}</p>}
    </div>
  )
}
