// Whether multicast over the loopback interface works here (the LAN tests on lo need it). Sends
// only on lo. Portable: #dgram is Node's dgram or bare-dgram.
import b4a from 'b4a'
import dgram from '#dgram'

/** Null when multicast over the loopback interface works here, else why not. Sends only on lo. */
export async function loopbackMulticast (port: number): Promise<string | null> {
  const sockets: Array<ReturnType<typeof dgram.createSocket>> = []
  try {
    for (let i = 0; i < 2; i++) {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true })
      s.on('error', () => {}) // reported through bind/send below
      sockets.push(s)
      await new Promise<void>((resolve) => s.bind(port, '0.0.0.0', () => resolve()))
      s.addMembership('224.0.0.251', '127.0.0.1')
      s.setMulticastInterface('127.0.0.1')
      s.setMulticastLoopback(true)
    }
  } catch (err) {
    for (const s of sockets) s.close()
    return `no multicast on loopback (${(err as Error).message})`
  }
  const got = new Promise<boolean>((resolve) => {
    const guard = setTimeout(() => resolve(false), 2000)
    sockets[1].once('message', () => { clearTimeout(guard); resolve(true) })
  })
  sockets[0].send(b4a.from('probe'), 0, 5, port, '224.0.0.251')
  const ok = await got
  for (const s of sockets) s.close()
  return ok ? null : 'loopback multicast is not delivered here'
}
