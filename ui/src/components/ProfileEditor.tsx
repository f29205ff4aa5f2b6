import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import type { Profile } from '../protocol.ts'
import { InlineError } from './InlineError.tsx'
import { SaveCancel } from './SaveCancel.tsx'

/** My name and bio. Both are always sent: the node stores the pair as one record. */
export function ProfileEditor ({ profile, onDone, onCancel }: { profile: Profile, onDone: (p: Profile) => void, onCancel: () => void }) {
  const [name, setName] = useState(profile.name ?? '')
  const [bio, setBio] = useState(profile.bio ?? '')
  const action = useAction()
  return (
    <form className='profile-editor card' data-testid='profile-editor'
      onSubmit={(e) => {
        e.preventDefault()
        action.run(() => call('setProfile', { name: name.trim(), bio: bio.trim() }), onDone)
      }}>
      <label>
        Name
        <input data-testid='profile-name' value={name} maxLength={64} autoFocus onChange={(e) => { setName(e.target.value) }} />
      </label>
      <label>
        Bio
        <textarea data-testid='profile-bio' rows={3} value={bio} onChange={(e) => { setBio(e.target.value) }} />
      </label>
      <SaveCancel pending={action.pending} onCancel={onCancel} testId='profile-save' />
      <InlineError error={action.error} />
    </form>
  )
}
