/** Error codes of calls in tests (portable: runs on Node and Bare). */
import { ShoalError } from '../../src/errors.js'

/** The code `p` rejects with ('resolved' when it resolves; the error's text when it has no code). */
export async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** The ShoalError code `fn` throws, `uncoded …` for any other throw, null when it returns. */
export function thrownCode (fn: () => unknown): string | null {
  try {
    fn()
  } catch (err) {
    return err instanceof ShoalError ? err.code : `uncoded ${String(err)}`
  }
  return null
}
