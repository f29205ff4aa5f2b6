/**
 * What a Shoal node announces on the LAN, as mDNS records, and the parser for other nodes'
 * announcements. Privacy: only a random per-run instance id, the TCP port, IPv4 addresses and
 * the Noise public key; never topics, identities or follows.
 */
import b4a from 'b4a'
import type { Answer, Packet } from './mdns-packet.js'

/** Version in every announcement's TXT record (`v=1`). Keys are only ever added; parsers ignore unknown ones. */
export const LAN_RECORD_VERSION = 1
export const DEFAULT_SERVICE = '_shoal._tcp.local'
export const RECORD_TTL = 120 // seconds, the usual mDNS TTL for SRV/A records
export const MAX_RECORDS = 64 // records looked at per packet
export const MAX_ADDRESSES = 8

/** What a node announces on the LAN, and all that it announces. */
export interface LanAnnouncement {
  /** Random per run (16 hex chars): tells restarts apart, links nothing across runs. */
  instance: string
  /** The Noise static public key; the initiator pins the handshake to it. */
  publicKey: Uint8Array
  port: number
  /** IPv4 addresses of the announcing interface(s). */
  addresses: string[]
  /** Record TTL in seconds; 0 is an mDNS goodbye. */
  ttl: number
}

/** The mDNS records of one announcement: PTR, SRV, TXT (v, pk) and one A per address. */
export function encodeAnnouncement (ann: LanAnnouncement, service: string = DEFAULT_SERVICE): Answer[] {
  const name = ann.instance + '.' + service
  const target = ann.instance + '.local'
  const records: Answer[] = [
    { name: service, type: 'PTR', ttl: ann.ttl, data: name },
    { name, type: 'SRV', ttl: ann.ttl, data: { priority: 0, weight: 0, port: ann.port, target } },
    { name, type: 'TXT', ttl: ann.ttl, data: ['v=' + LAN_RECORD_VERSION, 'pk=' + b4a.toString(ann.publicKey, 'hex')] }
  ]
  for (const address of ann.addresses) records.push({ name: target, type: 'A', ttl: ann.ttl, data: address })
  return records
}

/**
 * The well-formed announcements of `service` in a decoded mDNS packet. Anything else (other
 * services, malformed or oversized records, garbage) is skipped; this never throws.
 */
export function parseAnnouncements (packet: unknown, service: string = DEFAULT_SERVICE): LanAnnouncement[] {
  if (typeof packet !== 'object' || packet === null) return []
  const p = packet as Packet
  const records = [...listOf(p.answers), ...listOf(p.additionals)].slice(0, MAX_RECORDS)
    .filter((r): r is Answer => typeof (r as Answer)?.name === 'string' && typeof (r as Answer).type === 'string')
  const suffix = '.' + service.toLowerCase()
  const out: LanAnnouncement[] = []
  const seen = new Set<string>()
  for (const srv of records) {
    const name = srv.name.toLowerCase()
    if (srv.type !== 'SRV' || !name.endsWith(suffix) || seen.has(name)) continue
    seen.add(name)
    const ann = parseInstance(records, name, name.slice(0, -suffix.length), srv)
    if (ann !== null) out.push(ann)
  }
  return out
}

function parseInstance (records: Answer[], name: string, instance: string, srv: Answer): LanAnnouncement | null {
  if (!/^[0-9a-z][0-9a-z-]{0,62}$/.test(instance)) return null
  const data = srv.data as { port?: unknown, target?: unknown } | null
  if (typeof data !== 'object' || data === null) return null
  const { port, target } = data
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535 || typeof target !== 'string') return null
  const txt = records.find((r) => r.type === 'TXT' && r.name.toLowerCase() === name)
  if (txt === undefined) return null
  const fields = txtFields(txt.data)
  const version = Number(fields.get('v'))
  const pk = fields.get('pk')
  // Newer versions only add keys, so anything from v1 up is read for the keys we know.
  if (!Number.isInteger(version) || version < 1 || pk === undefined || !/^[0-9a-f]{64}$/.test(pk)) return null
  const host = target.toLowerCase()
  const addresses: string[] = []
  for (const r of records) {
    if (r.type !== 'A' || r.name.toLowerCase() !== host || typeof r.data !== 'string' || !isIPv4(r.data)) continue
    if (!addresses.includes(r.data) && addresses.length < MAX_ADDRESSES) addresses.push(r.data)
  }
  const ttl = typeof srv.ttl === 'number' && Number.isFinite(srv.ttl) && srv.ttl >= 0 ? srv.ttl : RECORD_TTL
  return { instance, publicKey: b4a.from(pk, 'hex'), port, addresses, ttl }
}

function txtFields (data: unknown): Map<string, string> {
  const fields = new Map<string, string>()
  const items = Array.isArray(data) ? data.slice(0, 16) : [data]
  for (const item of items) {
    const s = typeof item === 'string' ? item : item instanceof Uint8Array ? b4a.toString(item, 'utf8') : null
    if (s === null || s.length > 255) continue
    const eq = s.indexOf('=')
    if (eq > 0 && !fields.has(s.slice(0, eq).toLowerCase())) fields.set(s.slice(0, eq).toLowerCase(), s.slice(eq + 1))
  }
  return fields
}

function listOf (v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function isIPv4 (s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  return m !== null && m.slice(1).every((n) => Number(n) <= 255)
}
