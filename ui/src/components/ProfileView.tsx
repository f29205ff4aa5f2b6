import { useState } from 'react'
import { useQuery } from '../hooks.ts'
import { Name } from './AuthorLink.tsx'
import { InlineError } from './InlineError.tsx'
import { ProfileEditor } from './ProfileEditor.tsx'
import { RelationButtons } from './RelationButtons.tsx'
import { Timeline } from './Timeline.tsx'

/** Someone's (or, without `id`, my) name, bio, relation buttons and posts. */
export function ProfileView ({ id }: { id: string | null }) {
  const profile = useQuery('profile', id === null ? {} : { id }, { live: true })
  const [editing, setEditing] = useState(false)
  const p = profile.data

  return (
    <section className='view' data-testid='profile-view' aria-labelledby='profile-title'>
      {profile.loading && <p className='muted center'>Loading profile…</p>}
      <InlineError error={profile.error} onRetry={profile.reload} />
      {p !== undefined && (
        <>
          <header className='profile card'>
            <h1 id='profile-title' data-testid='profile-name-heading'>
              <Name name={p.name} id={p.id} />
              {p.isMe && <span className='badge'>you</span>}
              {p.blockedByMe && <span className='badge danger'>blocked</span>}
            </h1>
            <p className='mono small-id' title='Identity id'>{p.id}</p>
            {p.bio !== null && p.bio !== '' ? <p className='bio' dir='auto'>{p.bio}</p> : <p className='muted'>No bio.</p>}
            <p className='stats'>
              <span><strong>{p.following}</strong> following</span>
              <span><strong>{p.followers}</strong> followers</span>
            </p>
            {p.isMe
              ? !editing && <button type='button' data-testid='edit-profile' onClick={() => { setEditing(true) }}>Edit profile</button>
              : <RelationButtons profile={p} onChanged={profile.reload} />}
          </header>
          {editing && p.isMe && (
            <ProfileEditor profile={p} onCancel={() => { setEditing(false) }}
              onDone={(updated) => { profile.set(updated); setEditing(false) }} />
          )}
          <h2>Posts</h2>
          <Timeline author={p.id} empty={p.isMe ? 'You have not posted yet.' : 'No posts from them here yet.'} />
        </>
      )}
    </section>
  )
}
