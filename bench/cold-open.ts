/** Cold open: `new Shoal(dir)`, `ready()` and the first home timeline page, timed as one span. */
import process from 'node:process'
import { Shoal } from '../src/node/shoal.js'

/**
 * Wall times (ms) to `ready()` and to the first page, and the process CPU time (ms, user + system,
 * every thread) each took: on a loaded machine the CPU time says what the work costs.
 */
export interface ColdOpen { ms: number, readyMs: number, items: number, cpuMs: number, readyCpuMs: number }

export async function coldOpen (dir: string): Promise<ColdOpen> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const shoal = new Shoal(dir)
  await shoal.ready()
  const readyMs = performance.now() - start
  const readyCpuMs = cpuMs(process.cpuUsage(cpu))
  const page = await shoal.timeline({ limit: 50 })
  const ms = performance.now() - start
  const total = cpuMs(process.cpuUsage(cpu))
  await shoal.close()
  if (page.items.length !== 50) throw new Error(`cold open: first page has ${page.items.length} items`)
  return { ms, readyMs, items: page.items.length, cpuMs: total, readyCpuMs }
}

function cpuMs (u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000
}
