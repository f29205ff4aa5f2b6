/** How this page may prove it belongs to the user: the token itself, or a one-time launch code. */
export type Credential = { kind: 'token', token: string } | { kind: 'launch', code: string }

/**
 * Reads the URL fragment: `#token=…` (the address `shoal serve` prints) or `#launch=…` (a
 * single-use code from the launch page `shoal desktop` opens, traded for the token). The fragment
 * is then removed from the address bar so it is not left on screen or in bookmarks.
 *
 * The token is kept in this page's memory only: never in sessionStorage, localStorage or a
 * cookie, which the browser writes into its profile on disk. A reload therefore needs the
 * address again; pasting a new address into an open tab (after a node restart) re-authorises it
 * through `hashchange` (see api-client.ts).
 */
export function readCredential (): Credential | null {
  forgetStoredToken()
  const hash = new URLSearchParams(location.hash.slice(1))
  const token = hash.get('token')
  const code = hash.get('launch')
  if (token !== null && token !== '') {
    clearFragment()
    return { kind: 'token', token }
  }
  if (code !== null && code !== '') {
    clearFragment() // single use: it is worthless after the exchange either way
    return { kind: 'launch', code }
  }
  return null
}

/** Earlier versions kept the token in sessionStorage (written to the profile on disk): remove it. */
function forgetStoredToken (): void {
  try {
    sessionStorage.removeItem('shoal.token')
  } catch {
    // storage disabled: nothing can have been kept there
  }
}

function clearFragment (): void {
  history.replaceState(history.state, '', location.pathname + location.search)
}
