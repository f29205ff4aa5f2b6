import { displayName } from '../ids.ts'
import { useNavigate } from '../router.tsx'

/** An identity's name (or short id), isolated from the text around it, that opens their profile. */
export function AuthorLink ({ id, name }: { id: string, name: string | null }) {
  const navigate = useNavigate()
  return (
    <button type='button' className='link author' title={id} onClick={() => { navigate({ name: 'profile', id }) }}>
      <Name name={name} id={id} />
    </button>
  )
}

/** A person's name as shown anywhere: its own direction, isolated (a right-to-left name cannot reorder what follows). */
export function Name ({ name, id }: { name: string | null, id: string }) {
  return <bdi dir='auto' className='name'>{displayName(name, id)}</bdi>
}
