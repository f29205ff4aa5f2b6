import test from 'brittle'
import b4a from 'b4a'
import { decodePacket, encodePacket } from '../src/swarm/mdns-packet.js'
import { encodeAnnouncement, parseAnnouncements } from '../src/swarm/lan-record.js'

const announcement = { instance: '0123456789abcdef', publicKey: b4a.alloc(32, 7), port: 4242, addresses: ['10.0.0.2', '192.168.1.9'], ttl: 120 }

test('mdns packet – an announcement round-trips through Shoal\'s own codec', (t) => {
  const wire = encodePacket({ type: 'response', answers: encodeAnnouncement(announcement) })
  const packet = decodePacket(wire)
  t.is(packet?.type, 'response')
  t.alike(parseAnnouncements(packet), [announcement])
  const query = decodePacket(encodePacket({ type: 'query', questions: [{ name: '_shoal._tcp.local', type: 'PTR' }] }))
  t.is(query?.type, 'query')
  t.alike(query?.questions, [{ name: '_shoal._tcp.local', type: 'PTR' }])
})

test('mdns packet – compressed names (backward pointers) decode', (t) => {
  // One PTR answer: name "_s._tcp.local" spelled out, data a pointer back to it.
  const name = [2, 0x5f, 0x73, 4, 0x5f, 0x74, 0x63, 0x70, 5, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0]
  const wire = b4a.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...name, 0, 12, 0, 1, 0, 0, 0, 120, 0, 2, 0xc0, 12])
  const packet = decodePacket(wire)
  t.is(packet?.answers?.[0].name, '_s._tcp.local')
  t.is(packet?.answers?.[0].data, '_s._tcp.local')
})

test('mdns packet – hostile packets decode to null, never throw or loop', (t) => {
  const loop = b4a.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1]) // a name pointing at itself
  t.is(decodePacket(loop), null)
  const forward = b4a.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 12, 0, 1]) // pointer ping-pong
  t.is(decodePacket(forward), null)
  const many = b4a.from([0, 0, 0x84, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) // claims 131070 records
  t.is(decodePacket(many), null)
  const badLabel = b4a.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 12, 0, 1]) // reserved label bits
  t.is(decodePacket(badLabel), null)
  const longName = b4a.concat([b4a.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...Array.from({ length: 5 }, () => b4a.from([63, ...b4a.alloc(63, 0x61)])), b4a.from([0, 0, 12, 0, 1])])
  t.is(decodePacket(longName), null, 'a name over 255 bytes')
  const badA = decodePacket(b4a.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3]))
  t.is(badA, null, 'an A record of 3 bytes')
  const wire = encodePacket({ type: 'response', answers: encodeAnnouncement(announcement) })
  let truncatedOk = true
  for (let n = 0; n < wire.byteLength; n++) {
    const p = decodePacket(wire.subarray(0, n))
    if (p !== null && parseAnnouncements(p).length !== 0) truncatedOk = false
  }
  t.ok(truncatedOk, 'no prefix of a packet decodes to an announcement')
  let flipsOk = true
  for (let i = 0; i < wire.byteLength; i++) {
    const copy = b4a.from(wire)
    copy[i] ^= 0xff
    try {
      parseAnnouncements(decodePacket(copy))
    } catch {
      flipsOk = false
    }
  }
  t.ok(flipsOk, 'flipping any byte never throws')
})
