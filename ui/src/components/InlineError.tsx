import type { ApiCallError } from '../api-client.ts'
import { errorText } from '../error-text.ts'

/** A failed call, shown in words next to the control that made it (the code stays in data-code and the tooltip). */
export function InlineError ({ error, onRetry }: { error: ApiCallError | null, onRetry?: () => void }) {
  if (error === null) return null
  return (
    <p className='inline-error' role='alert' data-testid='error' data-code={error.code} title={`${error.code}: ${error.detail}`}>
      {errorText(error)}
      {onRetry !== undefined && <> <button type='button' className='link' onClick={onRetry}>Retry</button></>}
    </p>
  )
}
