import { createContext, useContext } from 'react'
import type { AppState } from './protocol.ts'

/** The node's state once an identity exists; provided by App around everything after first run. */
export const AppStateContext = createContext<AppState | null>(null)

export function useAppState (): AppState {
  const state = useContext(AppStateContext)
  if (state === null) throw new Error('useAppState outside AppStateContext')
  return state
}

/** True when the item's author is the local identity. */
export function useIsMe (id: string): boolean {
  return useAppState().id === id
}
