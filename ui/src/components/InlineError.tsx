import type { ApiCallError } from '../api-client.ts'

/** A failed call, shown next to the control that made it: the code, then the message. */
export function InlineError ({ error, onRetry }: { error: ApiCallError | null, onRetry?: () => void }) {
  if (error === null) return null
  return (
    <p className='inline-error' role='alert' data-testid='error' data-code={error.code}>
      <code>{error.code}</code> {error.detail}
      {onRetry !== undefined && <> <button type='button' className='link' onClick={onRetry}>Retry</button></>}
    </p>
  )
}
