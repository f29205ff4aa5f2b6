import { CALL_PATH, LAUNCH_PATH, WS_PATH, WS_PROTOCOL, WS_TOKEN_PREFIX } from './protocol.ts'
import type { ApiError, EventName, Events, Method, Params, Result, ServerMessage } from './protocol.ts'
import { readCredential } from './token.ts'
import type { Credential } from './token.ts'

/**
 * The UI's only way to reach the node: typed calls and events over one WebSocket, reconnecting
 * with backoff. Components use it through the hooks in hooks.ts.
 */

/** Codes the client itself produces, next to the server's (ApiErrorCode and the node's codes). */
export type ClientErrorCode = 'DISCONNECTED' | 'TIMEOUT' | 'BAD_RESPONSE'

export type ConnectionState =
  | { status: 'connecting', attempt: number }
  /** `epoch` counts successful opens: a new epoch means events may have been missed. */
  | { status: 'open', epoch: number }
  | { status: 'closed', attempt: number, retryAt: number }
  /** No token, or the node refused it (401) or the page's origin (403): retrying will not help. */
  | { status: 'unauthorized', reason: 'missing' | 'rejected' | 'forbidden' }

/** A failed call. Branch on `code`; `detail` is the message without the code prefix. */
export class ApiCallError extends Error {
  readonly code: string
  readonly detail: string

  constructor (code: string, detail: string) {
    super(`${code}: ${detail}`)
    this.name = 'ApiCallError'
    this.code = code
    this.detail = detail
  }

  static from (err: ApiError): ApiCallError {
    const prefix = `${err.code}: `
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message
    return new ApiCallError(err.code, detail)
  }
}

type Listener = (data: never) => void

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: ApiCallError) => void
  timer: ReturnType<typeof setTimeout>
  /** The serialized request while it waits for the socket to open; null once sent. */
  unsent: string | null
}

export interface ClientOptions {
  credential: Credential | null
  wsUrl: string
  callUrl: string
  /** Where a launch code is traded for the token: POST `{ code }` → `{ token }`. */
  launchUrl: string
  timeoutMs?: number
}

const MIN_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 10_000

export class ApiClient {
  private readonly opts: Required<ClientOptions>
  private ws: WebSocket | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<EventName, Set<Listener>>()
  private readonly connectionListeners = new Set<() => void>()
  private state: ConnectionState = { status: 'connecting', attempt: 0 }
  private opens = 0
  private attempt = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null

  private credential: Credential | null
  private token: string | null

  constructor (opts: ClientOptions) {
    this.opts = { timeoutMs: 30_000, ...opts }
    this.credential = opts.credential
    this.token = opts.credential?.kind === 'token' ? opts.credential.token : null
    if (opts.credential === null) this.state = { status: 'unauthorized', reason: 'missing' }
  }

  get connection (): ConnectionState {
    return this.state
  }

  /** How many times the socket has opened; a change means events may have been missed. */
  get epoch (): number {
    return this.opens
  }

  /** Opens the socket; reconnects by itself until the node refuses the token. */
  start (): void {
    window.addEventListener('online', this.retryNow)
    document.addEventListener('visibilitychange', this.onVisible)
    if (this.state.status !== 'unauthorized') this.open()
  }

  /**
   * Replaces the credential and reconnects: a new address pasted into this tab (the node
   * restarted with a new token) authorises it again without a reload.
   */
  setCredential (credential: Credential): void {
    this.credential = credential
    this.token = credential.kind === 'token' ? credential.token : null
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const old = this.ws
    this.ws = null // its close event is then ignored
    old?.close()
    this.fail(new ApiCallError('DISCONNECTED', 'reconnecting with a new access key'))
    this.attempt = 0
    this.open()
  }

  /** Connects, first trading the launch code for the token if that has not happened yet. */
  private open (): void {
    const cred = this.credential
    if (this.token !== null || cred?.kind !== 'launch') {
      this.connect()
      return
    }
    this.setState({ status: 'connecting', attempt: this.attempt })
    this.redeem(cred.code).catch(() => { this.scheduleRetry() })
  }

  /** Trades a launch code for the token; a refused code cannot become valid later. */
  private async redeem (code: string): Promise<void> {
    const res = await fetch(this.opts.launchUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }),
      cache: 'no-store'
    })
    const body: unknown = res.ok ? await res.json() : null
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined
    if (typeof token !== 'string' || token === '') {
      this.fail(new ApiCallError('UNAUTHORIZED', 'the launch code was refused'))
      this.setState({ status: 'unauthorized', reason: 'rejected' })
      return
    }
    this.token = token
    this.connect()
  }

  call<M extends Method> (method: M, params: Params<M>): Promise<Result<M>> {
    if (this.state.status === 'unauthorized') return Promise.reject(new ApiCallError('UNAUTHORIZED', 'the node did not accept this page\'s token'))
    if (this.state.status === 'closed') return Promise.reject(new ApiCallError('DISCONNECTED', 'not connected to the node'))
    const id = this.nextId++
    const message = JSON.stringify({ type: 'request', id, method, params })
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ApiCallError('TIMEOUT', `no answer to ${method}`))
      }, this.opts.timeoutMs)
      const entry: Pending = { resolve: resolve as (value: unknown) => void, reject, timer, unsent: message }
      this.pending.set(id, entry)
      if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) this.send(entry)
    })
  }

  subscribe<E extends EventName> (event: E, fn: (data: Events[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    const listener: Listener = fn
    set.add(listener)
    return () => { set.delete(listener) }
  }

  /** For useSyncExternalStore: `fn` runs on every change of `connection`. */
  subscribeConnection (fn: () => void): () => void {
    this.connectionListeners.add(fn)
    return () => { this.connectionListeners.delete(fn) }
  }

  /** Skips the rest of the backoff (the "Retry now" button, the browser coming online). */
  readonly retryNow = (): void => {
    if (this.state.status !== 'closed' && !(this.state.status === 'unauthorized' && this.state.reason !== 'missing')) return
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.open()
  }

  private readonly onVisible = (): void => {
    if (document.visibilityState === 'visible' && this.state.status === 'closed') this.retryNow()
  }

  private connect (): void {
    this.setState({ status: 'connecting', attempt: this.attempt })
    let opened = false
    let ws: WebSocket
    try {
      ws = new WebSocket(this.opts.wsUrl, [WS_PROTOCOL, WS_TOKEN_PREFIX + (this.token ?? '')])
    } catch {
      // an invalid token character makes the constructor throw: the token cannot be right
      this.fail(new ApiCallError('UNAUTHORIZED', 'invalid token'))
      this.setState({ status: 'unauthorized', reason: 'rejected' })
      return
    }
    this.ws = ws
    ws.onopen = () => {
      opened = true
      this.attempt = 0
      this.opens++
      this.setState({ status: 'open', epoch: this.opens })
      for (const entry of this.pending.values()) if (entry.unsent !== null) this.send(entry)
    }
    ws.onmessage = (ev) => { this.onMessage(ev.data) }
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.ws = null
      this.fail(new ApiCallError('DISCONNECTED', opened ? 'connection lost; the request may not have been applied' : 'could not reach the node'))
      if (opened) this.scheduleRetry()
      else this.diagnose().catch(() => { this.scheduleRetry() })
    }
  }

  /** A socket that never opened says nothing about why: ask over HTTP whether the token is the problem. */
  private async diagnose (): Promise<void> {
    const res = await fetch(this.opts.callUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token ?? ''}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'state', params: {} }),
      cache: 'no-store'
    })
    if (res.status === 401) this.setState({ status: 'unauthorized', reason: 'rejected' })
    else if (res.status === 403) this.setState({ status: 'unauthorized', reason: 'forbidden' })
    else this.scheduleRetry()
  }

  private scheduleRetry (): void {
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt)
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    this.attempt++
    this.setState({ status: 'closed', attempt: this.attempt, retryAt: Date.now() + delay })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.open()
    }, delay)
  }

  private send (entry: Pending): void {
    if (entry.unsent === null || this.ws === null) return
    this.ws.send(entry.unsent)
    entry.unsent = null
  }

  private fail (err: ApiCallError): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer)
      entry.reject(err)
      this.pending.delete(id)
    }
  }

  private onMessage (raw: unknown): void {
    const msg = parseServerMessage(raw)
    if (msg === null) return
    if (msg.type === 'event') {
      const set = this.listeners.get(msg.event)
      if (set === undefined) return
      const data: Events[EventName] = msg.data
      for (const fn of [...set]) {
        try {
          (fn as (d: Events[EventName]) => void)(data)
        } catch (err) {
          reportError(err)
        }
      }
      return
    }
    const entry = this.pending.get(msg.id)
    if (entry === undefined) return // timed out already
    this.pending.delete(msg.id)
    clearTimeout(entry.timer)
    if ('error' in msg) entry.reject(ApiCallError.from(msg.error))
    else entry.resolve(msg.result)
  }

  private setState (state: ConnectionState): void {
    this.state = state
    for (const fn of [...this.connectionListeners]) fn()
  }
}

/** Shape check at the boundary: anything else from the socket is dropped. */
function parseServerMessage (raw: unknown): ServerMessage | null {
  if (typeof raw !== 'string') return null
  let msg: unknown
  try {
    msg = JSON.parse(raw)
  } catch {
    return null // not JSON: not a message of this protocol
  }
  if (typeof msg !== 'object' || msg === null) return null
  const m = msg as Record<string, unknown>
  if (m.type === 'event') {
    return (m.event === 'changed' || m.event === 'status' || m.event === 'state' || m.event === 'dm' || m.event === 'dmRequest' || m.event === 'roomChanged') && typeof m.data === 'object' && m.data !== null
      ? msg as ServerMessage
      : null
  }
  if (m.type !== 'response' || typeof m.id !== 'number') return null
  if ('error' in m) {
    const e = m.error as Record<string, unknown> | null
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string') return null
    return { type: 'response', id: m.id, error: { code: e.code, message: typeof e.message === 'string' ? e.message : e.code } }
  }
  return msg as ServerMessage
}

let client: ApiClient | null = null

/** The page's one client, created and connected on first use. */
export function getClient (): ApiClient {
  if (client === null) {
    const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    client = new ApiClient({
      credential: readCredential(),
      wsUrl: `${wsScheme}//${location.host}${WS_PATH}`,
      callUrl: new URL(CALL_PATH, location.origin).href,
      launchUrl: new URL(LAUNCH_PATH, location.origin).href
    })
    client.start()
    const c = client
    window.addEventListener('hashchange', () => {
      const credential = readCredential()
      if (credential !== null) c.setCredential(credential)
    })
  }
  return client
}

/** Calls a method of the node's API. Rejects with an ApiCallError (branch on `.code`). */
export function call<M extends Method> (method: M, params: Params<M>): Promise<Result<M>> {
  return getClient().call(method, params)
}

/** Listens to a live event; returns the unsubscribe (return it from useEffect). */
export function subscribe<E extends EventName> (event: E, fn: (data: Events[E]) => void): () => void {
  return getClient().subscribe(event, fn)
}

/** Listens to connection changes; returns the unsubscribe. Read the state with `connectionState()`. */
export function subscribeConnection (fn: () => void): () => void {
  return getClient().subscribeConnection(fn)
}

export function connectionState (): ConnectionState {
  return getClient().connection
}

/** How many times the socket has opened (0 before the first open). */
export function connectionEpoch (): number {
  return getClient().epoch
}

export function retryConnection (): void {
  getClient().retryNow()
}
