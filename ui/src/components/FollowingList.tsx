import type { Person } from '../protocol.ts'
import { displayName } from '../ids.ts'
import { useNavigate } from '../router.tsx'

/** The people I follow, each opening their profile. */
export function FollowingList ({ people }: { people: Person[] }) {
  const navigate = useNavigate()
  if (people.length === 0) return <p className='empty'>You do not follow anyone yet. Paste someone's id above.</p>
  return (
    <ul className='people' data-testid='following-list'>
      {people.map((p) => (
        <li key={p.id} data-testid='person' data-id={p.id}>
          <button type='button' className='link person' onClick={() => { navigate({ name: 'profile', id: p.id }) }}>
            <span className='person-name'>{displayName(p.name, p.id)}</span>
            <span className='mono muted small-id'>{p.id}</span>
          </button>
        </li>
      ))}
    </ul>
  )
}
