/** Child process of the cold-open measure: a fresh node process (no warm JS heap or module cache). */
import { childMain } from './child.js'
import { coldOpen, type ColdOpen } from './cold-open.js'

childMain<{ dir: string }, ColdOpen & { sinceProcessStartMs: number }>(async ({ dir }) => {
  const r = await coldOpen(dir)
  return { ...r, sinceProcessStartMs: performance.now() }
})
