import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { ApiCallError, call, connectionEpoch, connectionState, subscribe, subscribeConnection } from './api-client.ts'
import type { ConnectionState } from './api-client.ts'
import type { EventName, Events, Method, Params, Result, SyncStatus } from './protocol.ts'

/** The socket's state, re-rendering on every change. */
export function useConnection (): ConnectionState {
  return useSyncExternalStore(subscribeConnection, connectionState)
}

/** Changes each time the socket (re)opens; 0 until the first open. */
export function useEpoch (): number {
  return useSyncExternalStore(subscribeConnection, connectionEpoch)
}

/** Runs `fn` on every `event`; the latest `fn` is used without resubscribing. */
export function useEvent<E extends EventName> (event: E, fn: (data: Events[E]) => void): void {
  const latest = useRef(fn)
  useEffect(() => { latest.current = fn })
  useEffect(() => subscribe(event, (data) => { latest.current(data) }), [event])
}

export function toApiError (err: unknown): ApiCallError {
  if (err instanceof ApiCallError) return err
  return new ApiCallError('CLIENT_ERROR', err instanceof Error ? err.message : String(err))
}

export interface Query<T> {
  data: T | undefined
  error: ApiCallError | null
  /** True until the first answer (or error) for the current params. */
  loading: boolean
  reload: () => void
  /** Replaces the data, e.g. with a pushed event carrying the same value. */
  set: (data: T) => void
}

interface QueryState<T> { key: string, data: T | undefined, error: ApiCallError | null }

/**
 * Calls a read method and keeps the answer. It refetches when the params change, when the socket
 * reopens (events may have been missed) and, with `live`, on every `changed` event. Refetches that
 * arrive while one is running are folded into one more call.
 */
export function useQuery<M extends Method> (method: M, params: Params<M>, opts: { live?: boolean } = {}): Query<Result<M>> {
  const live = opts.live === true
  const paramsJson = JSON.stringify(params)
  const key = `${method} ${paramsJson}`
  const epoch = useEpoch()
  const [state, setState] = useState<QueryState<Result<M>>>({ key, data: undefined, error: null })
  const trigger = useRef<() => void>(() => {})

  useEffect(() => {
    if (epoch === 0) return
    let cancelled = false
    const p = JSON.parse(paramsJson) as Params<M>

    const start = coalesced(async () => {
      try {
        const data = await call(method, p)
        if (!cancelled) setState({ key, data, error: null })
      } catch (err) {
        if (!cancelled) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: toApiError(err) }))
      }
    }, () => cancelled)

    trigger.current = start
    start()
    const off = live ? subscribe('changed', start) : null
    return () => {
      cancelled = true
      trigger.current = () => {}
      if (off !== null) off()
    }
  }, [method, paramsJson, key, live, epoch])

  const current = state.key === key ? state : { key, data: undefined, error: null }
  const reload = useCallback(() => { trigger.current() }, [])
  const set = useCallback((data: Result<M>) => { setState({ key, data, error: null }) }, [key])
  return { data: current.data, error: current.error, loading: current.data === undefined && current.error === null, reload, set }
}

export interface Action {
  /** Runs `fn`; on success calls `onDone` with its result, on failure keeps the error for display. */
  run: <T>(fn: () => Promise<T>, onDone?: (result: T) => void) => void
  pending: boolean
  error: ApiCallError | null
  clearError: () => void
}

/** State for one control that changes something: pending flag and the inline error. */
export function useAction (): Action {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<ApiCallError | null>(null)
  const run = useCallback(<T>(fn: () => Promise<T>, onDone?: (result: T) => void): void => {
    setPending(true)
    setError(null)
    fn().then(
      (result) => {
        setPending(false)
        if (onDone !== undefined) onDone(result)
      },
      (err: unknown) => {
        setPending(false)
        setError(toApiError(err))
      }
    ).catch(reportError)
  }, [])
  const clearError = useCallback(() => { setError(null) }, [])
  return { run, pending, error, clearError }
}

/** Peers and per-identity feed progress: fetched once, then kept current by `status` events. */
export function useSyncStatus (): Query<SyncStatus> {
  const query = useQuery('status', {})
  useEvent('status', query.set)
  return query
}

const tickListeners = new Set<() => void>()
let tickTimer: ReturnType<typeof setInterval> | null = null
let now = Date.now()

function subscribeTick (fn: () => void): () => void {
  tickListeners.add(fn)
  if (tickTimer === null) {
    now = Date.now()
    tickTimer = setInterval(() => {
      now = Date.now()
      for (const l of [...tickListeners]) l()
    }, 30_000)
  }
  return () => {
    tickListeners.delete(fn)
    if (tickListeners.size === 0 && tickTimer !== null) {
      clearInterval(tickTimer)
      tickTimer = null
    }
  }
}

/** The current time, refreshed every 30 s by one shared timer (for relative times). */
export function useNow (): number {
  return useSyncExternalStore(subscribeTick, () => now)
}

/**
 * Wraps a refresh so that asking while one runs makes exactly one more run right after it, and
 * asking again and again never runs two at once. Nothing more runs once `stopped()` is true.
 */
export function coalesced (task: () => Promise<void>, stopped: () => boolean): () => void {
  let inflight = false
  let again = false
  const run = async (): Promise<void> => {
    inflight = true
    try {
      await task()
    } finally {
      inflight = false
    }
    if (again && !stopped()) {
      again = false
      await run()
    }
  }
  return () => {
    if (inflight) again = true
    else run().catch(reportError)
  }
}
