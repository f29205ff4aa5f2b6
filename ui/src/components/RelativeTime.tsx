import { useNow } from '../hooks.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** "just now", "5m", "3h", "2d", then a date; the exact time is in the tooltip. */
export function RelativeTime ({ timestamp }: { timestamp: number }) {
  const now = useNow()
  const date = new Date(timestamp)
  return (
    <time className='time' dateTime={date.toISOString()} title={date.toLocaleString()}>
      {relative(Math.max(0, now - timestamp), date, now)}
    </time>
  )
}

function relative (ago: number, date: Date, now: number): string {
  if (ago < MINUTE) return 'just now'
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)}m`
  if (ago < DAY) return `${Math.floor(ago / HOUR)}h`
  if (ago < 7 * DAY) return `${Math.floor(ago / DAY)}d`
  const sameYear = date.getFullYear() === new Date(now).getFullYear()
  return date.toLocaleDateString(undefined, sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' })
}
