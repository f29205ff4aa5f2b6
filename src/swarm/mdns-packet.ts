/**
 * A small DNS message codec for multicast DNS (RFC 1035 wire format, RFC 6762 class bits), with
 * b4a only so it runs on Node and Bare. It knows the records LAN discovery uses (A, PTR, SRV, TXT);
 * any other record decodes with its raw rdata. Decoding is total: a malformed packet gives null.
 */
import b4a from 'b4a'

/** A resource record; from the network every field is unchecked (see lan-record.ts). */
export interface Answer {
  name: string
  type: string
  ttl?: number
  class?: string
  flush?: boolean
  data: unknown
}
export interface Question { name: string, type: string }
export interface Packet {
  type?: 'query' | 'response'
  flags?: number
  questions?: Question[]
  answers?: Answer[]
  additionals?: Answer[]
  authorities?: Answer[]
}
export interface RemoteInfo { address: string, port: number, family: string, size: number }

const TYPES: Record<string, number> = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 }
const NAMES = new Map(Object.entries(TYPES).map(([k, v]) => [v, k]))
const QR = 0x8000
const AUTHORITATIVE = 0x0400
const CLASS_IN = 1
const FLUSH = 0x8000
const MAX_LABELS = 128 // and pointer jumps: a loop in a hostile packet ends here
const MAX_NAME = 255
const MAX_RECORDS = 256

/** Encodes a query or response (responses get the authoritative-answer flag, as mDNS requires). */
export function encodePacket (p: Packet): Uint8Array {
  const out: Uint8Array[] = []
  const questions = p.questions ?? []
  const answers = p.answers ?? []
  const authorities = p.authorities ?? []
  const additionals = p.additionals ?? []
  const header = b4a.alloc(12)
  const view = new DataView(header.buffer, header.byteOffset, 12)
  const flags = (p.flags ?? 0) | (p.type === 'response' ? QR | AUTHORITATIVE : 0)
  view.setUint16(2, flags & 0xffff)
  view.setUint16(4, questions.length)
  view.setUint16(6, answers.length)
  view.setUint16(8, authorities.length)
  view.setUint16(10, additionals.length)
  out.push(header)
  for (const q of questions) out.push(encodeName(q.name), u16(typeCode(q.type)), u16(CLASS_IN))
  for (const r of [...answers, ...authorities, ...additionals]) {
    const rdata = encodeData(r)
    const fixed = b4a.alloc(10)
    const v = new DataView(fixed.buffer, fixed.byteOffset, 10)
    v.setUint16(0, typeCode(r.type))
    v.setUint16(2, CLASS_IN | (r.flush === true ? FLUSH : 0))
    v.setUint32(4, r.ttl ?? 0)
    v.setUint16(8, rdata.byteLength)
    out.push(encodeName(r.name), fixed, rdata)
  }
  return b4a.concat(out)
}

/** Decodes a DNS message, or null when it is malformed in any way (truncated, looping names, ...). */
export function decodePacket (buf: Uint8Array): Packet | null {
  try {
    return decode(buf)
  } catch {
    return null // malformed: RangeError from DataView or our own Error below; either way, dropped
  }
}

function decode (buf: Uint8Array): Packet {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const flags = view.getUint16(2)
  const counts = [view.getUint16(4), view.getUint16(6), view.getUint16(8), view.getUint16(10)]
  if (counts[0] + counts[1] + counts[2] + counts[3] > MAX_RECORDS) throw new Error('too many records')
  const state = { at: 12 }
  const questions: Question[] = []
  for (let i = 0; i < counts[0]; i++) {
    const name = decodeName(buf, view, state)
    const type = view.getUint16(state.at)
    state.at += 4
    questions.push({ name, type: typeName(type) })
  }
  const sections: Answer[][] = [[], [], []]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const name = decodeName(buf, view, state)
      const type = view.getUint16(state.at)
      const cls = view.getUint16(state.at + 2)
      const ttl = view.getUint32(state.at + 4)
      const len = view.getUint16(state.at + 8)
      const start = state.at + 10
      if (start + len > buf.byteLength) throw new Error('truncated record')
      state.at = start + len
      sections[s].push({ name, type: typeName(type), ttl, class: (cls & 0x7fff) === CLASS_IN ? 'IN' : 'UNKNOWN', flush: (cls & FLUSH) !== 0, data: decodeData(buf, view, type, start, len) })
    }
  }
  return { type: (flags & QR) !== 0 ? 'response' : 'query', flags, questions, answers: sections[0], authorities: sections[1], additionals: sections[2] }
}

function decodeData (buf: Uint8Array, view: DataView, type: number, start: number, len: number): unknown {
  const end = start + len
  switch (type) {
    case TYPES.A:
      if (len !== 4) throw new Error('bad A record')
      return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`
    case TYPES.PTR:
      return decodeName(buf, view, { at: start })
    case TYPES.SRV: {
      if (len < 7) throw new Error('bad SRV record')
      return { priority: view.getUint16(start), weight: view.getUint16(start + 2), port: view.getUint16(start + 4), target: decodeName(buf, view, { at: start + 6 }) }
    }
    case TYPES.TXT: {
      const items: Uint8Array[] = []
      let at = start
      while (at < end) {
        const n = buf[at]
        if (at + 1 + n > end) throw new Error('bad TXT record')
        items.push(buf.subarray(at + 1, at + 1 + n))
        at += 1 + n
      }
      return items
    }
    default:
      return buf.subarray(start, end)
  }
}

function decodeName (buf: Uint8Array, view: DataView, state: { at: number }): string {
  const labels: string[] = []
  let at = state.at
  let jumped = false
  let size = 0
  for (let steps = 0; steps < MAX_LABELS; steps++) {
    if (at >= buf.byteLength) throw new Error('truncated name')
    const len = buf[at]
    if (len === 0) {
      if (!jumped) state.at = at + 1
      return labels.join('.')
    }
    if ((len & 0xc0) === 0xc0) {
      const target = view.getUint16(at) & 0x3fff
      if (!jumped) state.at = at + 2
      jumped = true
      if (target >= at) throw new Error('forward name pointer') // only backwards: no loops
      at = target
      continue
    }
    if ((len & 0xc0) !== 0) throw new Error('bad label')
    if (at + 1 + len > buf.byteLength) throw new Error('truncated label')
    size += len + 1
    if (size > MAX_NAME) throw new Error('name too long')
    labels.push(b4a.toString(buf, 'utf8', at + 1, at + 1 + len))
    at += 1 + len
  }
  throw new Error('too many labels')
}

function encodeData (r: Answer): Uint8Array {
  const data = r.data
  switch (r.type) {
    case 'A': {
      const parts = String(data).split('.').map(Number)
      if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new RangeError(`not an IPv4 address: ${String(data)}`)
      return b4a.from(parts)
    }
    case 'PTR':
      return encodeName(String(data))
    case 'SRV': {
      const d = data as { priority?: number, weight?: number, port: number, target: string }
      return b4a.concat([u16(d.priority ?? 0), u16(d.weight ?? 0), u16(d.port), encodeName(d.target)])
    }
    case 'TXT': {
      const items = Array.isArray(data) ? data : [data]
      return b4a.concat(items.map((item) => {
        const bytes = typeof item === 'string' ? b4a.from(item) : item as Uint8Array
        if (bytes.byteLength > 255) throw new RangeError('TXT string longer than 255 bytes')
        return b4a.concat([b4a.from([bytes.byteLength]), bytes])
      }))
    }
    default:
      if (data instanceof Uint8Array) return data
      throw new RangeError(`cannot encode a ${r.type} record`)
  }
}

function encodeName (name: string): Uint8Array {
  const parts: Uint8Array[] = []
  for (const label of name.split('.')) {
    if (label === '') continue
    const bytes = b4a.from(label)
    if (bytes.byteLength > 63) throw new RangeError(`DNS label longer than 63 bytes: ${label}`)
    parts.push(b4a.from([bytes.byteLength]), bytes)
  }
  parts.push(b4a.from([0]))
  return b4a.concat(parts)
}

function u16 (n: number): Uint8Array {
  return b4a.from([(n >> 8) & 0xff, n & 0xff])
}

function typeCode (type: string): number {
  const code = TYPES[type]
  if (code === undefined) throw new RangeError(`unknown DNS record type ${type}`)
  return code
}

function typeName (code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_${code}`
}
