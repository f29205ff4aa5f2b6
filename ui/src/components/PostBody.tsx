import { useState } from 'react'
import type { Item } from '../protocol.ts'
import { RichText } from './RichText.tsx'

/** The text of a post; behind its content warning until the reader chooses to show it. */
export function PostBody ({ item }: { item: Item }) {
  const [shown, setShown] = useState(false)
  const hidden = item.cw !== null && !shown
  return (
    <div className='post-body'>
      {item.cw !== null && (
        <p className='cw'>
          <span className='cw-label'>CW</span> <bdi className='cw-text' dir='auto'>{item.cw}</bdi>{' '}
          <button type='button' className='small' aria-expanded={shown} onClick={() => { setShown(!shown) }} data-testid='cw-toggle'>
            {shown ? 'Hide' : 'Show'}
          </button>
        </p>
      )}
      {!hidden && <RichText text={item.text} mentioned={item.mentioned} testId='post-text' />}
    </div>
  )
}
