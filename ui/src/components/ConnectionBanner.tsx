import { useEffect, useState } from 'react'
import { retryConnection } from '../api-client.ts'
import { useConnection } from '../hooks.ts'

/** Says when the node cannot be reached (and when it will be tried again) or refused this page. */
export function ConnectionBanner () {
  const conn = useConnection()
  const [now, setNow] = useState(() => Date.now())
  const waiting = conn.status === 'closed'

  useEffect(() => {
    if (!waiting) return
    setNow(Date.now())
    const timer = setInterval(() => { setNow(Date.now()) }, 1000)
    return () => { clearInterval(timer) }
  }, [waiting])

  if (conn.status === 'open') return null
  if (conn.status === 'connecting') {
    if (conn.attempt === 0) return null // the first connect: App shows its own loading state
    return <div className='banner warn' role='status' data-testid='disconnected'>Disconnected from your Shoal node. Reconnecting…</div>
  }
  if (conn.status === 'closed') {
    const seconds = Math.max(0, Math.ceil((conn.retryAt - now) / 1000))
    return (
      <div className='banner warn' role='status' data-testid='disconnected'>
        Disconnected from your Shoal node. Retrying in {seconds} s.{' '}
        <button type='button' className='small' onClick={retryConnection}>Retry now</button>
      </div>
    )
  }
  const why = conn.reason === 'missing'
    ? 'This page has no access key (it is kept in memory only, so a reload needs the address again).'
    : conn.reason === 'forbidden'
      ? 'The node refused this page\'s address.'
      : 'The node did not accept this page\'s access key; it may have restarted.'
  return (
    <div className='banner error' role='alert' data-testid='unauthorized'>
      {why} Open Shoal again with <code>shoal desktop</code>, or paste the address <code>shoal serve</code> printed into this tab.
      {conn.reason !== 'missing' && <> <button type='button' className='small' onClick={retryConnection}>Try again</button></>}
    </div>
  )
}
