import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction, useQuery } from '../../hooks.ts'
import { InlineError } from '../InlineError.tsx'

/** A contact's safety code (compare it in person), with a notice when their set of devices changed. */
export function SafetyCode ({ id, name }: { id: string, name: string }) {
  const safety = useQuery('dmSafety', { id })
  const [open, setOpen] = useState(false)
  const action = useAction()
  if (safety.data === undefined) return <InlineError error={safety.error} />
  return (
    <div className='dm-safety' data-testid='dm-safety'>
      {safety.data.changed && (
        <p className='notice' role='status' data-testid='dm-devices-changed'>
          {name}'s devices changed ({safety.data.devices} now). Check the safety code with them.{' '}
          <button type='button' className='link' onClick={() => { action.run(() => call('dmSafety', { id, confirm: true }), safety.set) }}>I checked it</button>
        </p>
      )}
      <button type='button' className='link' aria-expanded={open} onClick={() => { setOpen(!open) }}>Safety code with {name}</button>
      {open && <p className='dm-code' data-testid='dm-safety-code'><code>{safety.data.code}</code> ({safety.data.devices} device{safety.data.devices === 1 ? '' : 's'})</p>}
      <InlineError error={action.error} />
    </div>
  )
}
