/** Cold open: `new Shoal(dir)`, `ready()` and the first home timeline page, timed as one span. */
import { Shoal } from '../src/node/shoal.js'

export interface ColdOpen { ms: number, readyMs: number, items: number }

export async function coldOpen (dir: string): Promise<ColdOpen> {
  const start = performance.now()
  const shoal = new Shoal(dir)
  await shoal.ready()
  const readyMs = performance.now() - start
  const page = await shoal.timeline({ limit: 50 })
  const ms = performance.now() - start
  await shoal.close()
  if (page.items.length !== 50) throw new Error(`cold open: first page has ${page.items.length} items`)
  return { ms, readyMs, items: page.items.length }
}
