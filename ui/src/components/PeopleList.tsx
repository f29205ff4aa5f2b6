import type { ReactNode } from 'react'
import type { Person } from '../protocol.ts'
import { useNavigate } from '../router.tsx'
import { Name } from './AuthorLink.tsx'

export interface PeopleListProps {
  people: Person[]
  empty: string
  testId: string
  /** Extra controls at the end of each row (e.g. Unblock). */
  actions?: (p: Person) => ReactNode
}

/** People, each opening their profile. */
export function PeopleList ({ people, empty, testId, actions }: PeopleListProps) {
  const navigate = useNavigate()
  if (people.length === 0) return <p className='empty' data-testid={`${testId}-empty`}>{empty}</p>
  return (
    <ul className='people' data-testid={testId}>
      {people.map((p) => (
        <li key={p.id} data-testid='person' data-id={p.id}>
          <button type='button' className='link person' onClick={() => { navigate({ name: 'profile', id: p.id }) }}>
            <span className='person-name'><Name name={p.name} id={p.id} /></span>
            <span className='mono muted small-id'>{p.id}</span>
          </button>
          {actions !== undefined && <div className='person-actions'>{actions(p)}</div>}
        </li>
      ))}
    </ul>
  )
}
