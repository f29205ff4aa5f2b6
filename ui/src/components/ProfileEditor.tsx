import { useState } from 'react'
import { call } from '../api-client.ts'
import { useAction } from '../hooks.ts'
import { TEXT_LIMITS, type Profile } from '../protocol.ts'
import { ByteCounter, utf8Length } from './ByteCounter.tsx'
import { InlineError } from './InlineError.tsx'
import { SaveCancel } from './SaveCancel.tsx'

/** My name and bio. Both are always sent: the node stores the pair as one record. */
export function ProfileEditor ({ profile, onDone, onCancel }: { profile: Profile, onDone: (p: Profile) => void, onCancel: () => void }) {
  const [name, setName] = useState(profile.name ?? '')
  const [bio, setBio] = useState(profile.bio ?? '')
  const action = useAction()
  const nameBytes = utf8Length(name.trim())
  const bioBytes = utf8Length(bio.trim())
  const tooLong = nameBytes > TEXT_LIMITS.name || bioBytes > TEXT_LIMITS.bio
  return (
    <form className='profile-editor card' data-testid='profile-editor'
      onSubmit={(e) => {
        e.preventDefault()
        if (tooLong) return
        action.run(() => call('setProfile', { name: name.trim(), bio: bio.trim() }), onDone)
      }}>
      <label>
        Name
        <input data-testid='profile-name' dir='auto' value={name} autoFocus onChange={(e) => { setName(e.target.value) }} />
        <ByteCounter used={nameBytes} limit={TEXT_LIMITS.name} testId='profile-name-bytes' />
      </label>
      <label>
        Bio
        <textarea data-testid='profile-bio' dir='auto' rows={3} value={bio} onChange={(e) => { setBio(e.target.value) }} />
        <ByteCounter used={bioBytes} limit={TEXT_LIMITS.bio} testId='profile-bio-bytes' />
      </label>
      <SaveCancel pending={action.pending} disabled={tooLong} onCancel={onCancel} testId='profile-save' />
      <InlineError error={action.error} />
    </form>
  )
}
