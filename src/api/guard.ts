/**
 * Who may talk to the local API: requests must name our own host (Host exactly
 * `127.0.0.1:PORT` or `localhost:PORT`, against DNS rebinding), come from no other origin
 * (a foreign or `null` Origin is refused), and carry the per-launch token.
 */
import crypto from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from './protocol.js'

export type Verdict = { ok: true } | { ok: false, status: 401 | 403, code: 'UNAUTHORIZED' | 'FORBIDDEN', message: string }

export class Guard {
  readonly token: string
  private readonly hosts: Set<string>
  private readonly origins: Set<string>

  constructor (readonly port: number, token?: string) {
    this.token = token ?? crypto.randomBytes(32).toString('base64url')
    this.hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`])
    this.origins = new Set([...this.hosts].map((h) => `http://${h}`))
  }

  /** Host and Origin checks, for every request including static files and upgrades. */
  place (req: IncomingMessage): Verdict {
    const host = req.headers.host
    if (host === undefined || !this.hosts.has(host)) return forbidden(`host ${JSON.stringify(host ?? '')} is not this app`)
    const origin = req.headers.origin
    if (origin !== undefined && !this.origins.has(origin)) return forbidden(`origin ${JSON.stringify(origin)} is not this app`)
    return { ok: true }
  }

  /** The token, from `Authorization: Bearer …` (HTTP) or the `shoal.<token>` subprotocol (WebSocket). */
  authorized (req: IncomingMessage): Verdict {
    const auth = req.headers.authorization
    if (typeof auth === 'string' && auth.startsWith('Bearer ') && this.matches(auth.slice(7))) return { ok: true }
    for (const p of subprotocols(req)) {
      if (p.startsWith(WS_TOKEN_PREFIX) && this.matches(p.slice(WS_TOKEN_PREFIX.length))) return { ok: true }
    }
    return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'missing or wrong token' }
  }

  check (req: IncomingMessage): Verdict {
    const place = this.place(req)
    return place.ok ? this.authorized(req) : place
  }

  private matches (candidate: string): boolean {
    const a = Buffer.from(candidate)
    const b = Buffer.from(this.token)
    return a.length === b.length && crypto.timingSafeEqual(a, b)
  }
}

export function subprotocols (req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol']
  return typeof h === 'string' ? h.split(',').map((s) => s.trim()).filter(Boolean) : []
}

export function wantsShoalProtocol (req: IncomingMessage): boolean {
  return subprotocols(req).includes(WS_PROTOCOL)
}

function forbidden (message: string): Verdict {
  return { ok: false, status: 403, code: 'FORBIDDEN', message }
}
