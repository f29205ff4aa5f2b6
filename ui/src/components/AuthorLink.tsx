import { displayName } from '../ids.ts'
import { useNavigate } from '../router.tsx'

/** An identity's name (or short id) that opens their profile. */
export function AuthorLink ({ id, name }: { id: string, name: string | null }) {
  const navigate = useNavigate()
  return (
    <button type='button' className='link author' title={id} onClick={() => { navigate({ name: 'profile', id }) }}>
      {displayName(name, id)}
    </button>
  )
}
