import { useState } from 'react'
import { call } from '../../api-client.ts'
import { useAction } from '../../hooks.ts'
import { InlineError } from '../InlineError.tsx'

/** Makes an invite code (role, uses, expiry) and shows it with a copy button. The code is a secret. */
export function InviteDialog ({ room }: { room: string }) {
  const [role, setRole] = useState('member')
  const [uses, setUses] = useState(1)
  const [hours, setHours] = useState(24)
  const [code, setCode] = useState<string | null>(null)
  const make = useAction()
  return (
    <details className='invite'>
      <summary data-testid='room-invite-open'>Invite</summary>
      <form onSubmit={(e) => {
        e.preventDefault()
        make.run(() => call('roomInvite', { room, role, uses, expires: hours * 3_600_000 }), (r) => { setCode(r.code) })
      }}>
        <label>Role <select value={role} onChange={(e) => { setRole(e.target.value) }}>
          <option value='member'>member</option><option value='moderator'>moderator</option><option value='admin'>admin</option>
        </select></label>
        <label>Uses <input type='number' min={1} max={1000} value={uses} onChange={(e) => { setUses(Number(e.target.value)) }} /></label>
        <label>Expires in hours <input type='number' min={1} max={8760} value={hours} onChange={(e) => { setHours(Number(e.target.value)) }} /></label>
        <button type='submit' data-testid='room-invite-make' disabled={make.pending}>Make code</button>
      </form>
      {code !== null && (
        <p>
          <code data-testid='room-invite-code'>{code}</code>{' '}
          <button type='button' onClick={() => { navigator.clipboard?.writeText(code).catch(() => {}) }}>Copy</button>
          <br /><span className='muted'>Anyone with this code can join until it is used up or expires.</span>
        </p>
      )}
      {make.error !== null && <InlineError error={make.error} />}
    </details>
  )
}
