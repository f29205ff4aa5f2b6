import { useRef, useState } from 'react'

/** My identity id with a copy button; without clipboard access the id is selected for Ctrl+C. */
export function MyId ({ id }: { id: string }) {
  const text = useRef<HTMLElement>(null)
  const [note, setNote] = useState<string | null>(null)

  const selectText = (): void => {
    const el = text.current
    const selection = window.getSelection()
    if (el === null || selection === null) return
    const range = document.createRange()
    range.selectNodeContents(el)
    selection.removeAllRanges()
    selection.addRange(range)
  }
  const copy = (): void => {
    if (navigator.clipboard === undefined) {
      selectText()
      setNote('Selected: press Ctrl+C (⌘C) to copy.')
      return
    }
    navigator.clipboard.writeText(id).then(
      () => { setNote('Copied.') },
      () => {
        selectText()
        setNote('Selected: press Ctrl+C (⌘C) to copy.')
      }
    )
  }

  return (
    <div className='my-id card'>
      <h2>Your id</h2>
      <p className='muted'>Give this to people so they can follow you.</p>
      <div className='row'>
        <code className='mono id-box' data-testid='my-id' ref={text} onClick={selectText}>{id}</code>
        <button type='button' data-testid='copy-id' onClick={copy}>Copy</button>
      </div>
      <p className='muted' role='status' aria-live='polite'>{note}</p>
    </div>
  )
}
