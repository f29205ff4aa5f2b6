const STORAGE_KEY = 'shoal.token'

/** How this page may prove it belongs to the user: the token itself, or a one-time launch code. */
export type Credential = { kind: 'token', token: string } | { kind: 'launch', code: string }

/**
 * Reads the URL fragment once at startup: `#token=…` (from `shoal serve`) or `#launch=…` (a
 * single-use code `shoal desktop` puts on a browser's command line, traded for the token).
 * Falls back to the token kept in sessionStorage, so a reload of this tab works. The fragment is
 * then removed from the address bar so it is not left on screen or in bookmarks.
 */
export function readCredential (): Credential | null {
  const hash = new URLSearchParams(location.hash.slice(1))
  const token = hash.get('token')
  const code = hash.get('launch')
  if (token !== null && token !== '') {
    if (storeToken(token)) clearFragment()
    return { kind: 'token', token }
  }
  if (code !== null && code !== '') {
    clearFragment() // single use: it is worthless after the exchange either way
    return { kind: 'launch', code }
  }
  try {
    const stored = sessionStorage.getItem(STORAGE_KEY)
    return stored === null ? null : { kind: 'token', token: stored }
  } catch {
    return null // storage disabled: there is no other place the token could be
  }
}

/** Keeps the token for reloads of this tab only; false when storage is unavailable. */
export function storeToken (token: string): boolean {
  try {
    sessionStorage.setItem(STORAGE_KEY, token)
    return true
  } catch {
    return false // storage disabled: the token lives in memory only
  }
}

function clearFragment (): void {
  history.replaceState(history.state, '', location.pathname + location.search)
}
