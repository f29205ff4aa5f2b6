import { spawnSync } from 'node:child_process'
import type { Test } from 'brittle'

/** Null when network-namespace tests can run here, else why not. */
export function namespaceSkip (): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root for network namespaces (CI runs as root)'
  if (spawnSync('ip', ['-V']).status !== 0) return "needs 'ip' (iproute2)"
  return null
}

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

/**
 * Two network namespaces joined by a veth pair (10.78.N.1 and 10.78.N.2, multicast routed), with
 * no other interface: a LAN with no internet. Deleted at teardown and, should the process die, on exit.
 */
export function createLan (t: Test, tag: string): { a: string, b: string } {
  const id = `${process.pid % 100000}${tag}`
  const a = `shoal-${id}-a`
  const b = `shoal-${id}-b`
  const va = `sv${id}a`
  const vb = `sv${id}b`
  const subnet = `10.78.${process.pid % 250}`
  let done = false
  const remove = (): void => {
    if (done) return
    done = true
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns])
    spawnSync('ip', ['link', 'del', va])
  }
  process.once('exit', remove)
  t.teardown(() => { process.off('exit', remove); remove() }, { order: 2 })
  ip('netns', 'add', a)
  ip('netns', 'add', b)
  ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb)
  ip('link', 'set', va, 'netns', a)
  ip('link', 'set', vb, 'netns', b)
  for (const [ns, dev, addr] of [[a, va, `${subnet}.1/24`], [b, vb, `${subnet}.2/24`]]) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'link', 'set', dev, 'up')
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
  }
  return { a, b }
}
