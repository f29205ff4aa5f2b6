import { useEvent, useQuery } from '../../hooks.ts'

/** The total of unread DMs for the nav entry, kept live by `dm` events and views changes (a block or unblock changes the counts). */
export function DmUnreadBadge () {
  const list = useQuery('dmList', {}, { live: true })
  useEvent('dm', list.reload)
  const unread = (list.data?.items ?? []).reduce((n, c) => n + c.unread, 0)
  if (unread === 0) return null
  return <span className='pill' data-testid='dm-unread-total' aria-label={`${unread} unread messages`}>{unread}</span>
}
