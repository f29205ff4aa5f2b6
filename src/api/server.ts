/**
 * The local API: HTTP and a WebSocket on 127.0.0.1 only, serving the built UI, typed calls
 * (protocol.ts) and live events. Every API request and upgrade needs the per-launch token;
 * Host and Origin are checked first (guard.ts). No CORS headers are ever sent.
 */
import crypto from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { WebSocketServer, type WebSocket } from 'ws'
import { ShoalError, type ShoalErrorCode } from '../errors.js'
import type { ShoalApp } from '../node/app.js'
import { appState, createHandlers, dispatch, syncStatus } from './dispatch.js'
import { Guard, wantsShoalProtocol } from './guard.js'
import { CALL_PATH, LAUNCH_PATH, WS_PATH, WS_PROTOCOL, type AppState, type EventName, type Events } from './protocol.js'
import { securityHeaders, serveStatic } from './static-files.js'

/** The documented default port; a busy port falls back to a free one. */
export const DEFAULT_PORT = 7647
const MAX_BODY = 256 * 1024
const LAUNCH_TTL = 120_000
const STATUS_INTERVAL = 1000
const CHANGE_DEBOUNCE = 50

export const DEFAULT_UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../ui/dist')

export interface ApiOptions {
  port?: number
  /** Fail instead of falling back to a free port. */
  strictPort?: boolean
  uiDir?: string
  network: AppState['network']
}

export class ApiServer extends ReadyResource {
  private server: http.Server | null = null
  private wss: WebSocketServer | null = null
  private guardInstance: Guard | null = null
  private readonly handlers
  private readonly launchCodes = new Map<string, number>()
  private statusTimer: ReturnType<typeof setInterval> | null = null
  private changeTimer: ReturnType<typeof setTimeout> | null = null
  private lastStatus = ''
  private readonly onIndexed = (): void => this.scheduleChanged()
  private readonly onIdentity = (): void => this.attach()
  private attached = false

  constructor (readonly app: ShoalApp, private readonly opts: ApiOptions) {
    super()
    this.handlers = createHandlers(opts.network)
  }

  get port (): number {
    return this.guard.port
  }

  get token (): string {
    return this.guard.token
  }

  /** The address to open: the token travels in the fragment, never in a request. */
  get url (): string {
    return `http://127.0.0.1:${this.port}/#token=${this.token}`
  }

  private get guard (): Guard {
    if (this.guardInstance === null) throw ShoalError.CLOSED('API server is not listening')
    return this.guardInstance
  }

  /**
   * A single-use code (valid two minutes) that the page trades for the token. Used to start a
   * browser: its command line, which other users can see, then never holds the token itself.
   */
  launchUrl (): string {
    const code = crypto.randomBytes(24).toString('base64url')
    this.launchCodes.set(code, Date.now() + LAUNCH_TTL)
    return `http://127.0.0.1:${this.port}/#launch=${code}`
  }

  protected override async _open (): Promise<void> {
    const server = http.createServer((req, res) => { this.onRequest(req, res).catch(safetyCatch) })
    this.server = server
    const port = await listen(server, this.opts.port ?? DEFAULT_PORT, this.opts.strictPort === true)
    this.guardInstance = new Guard(port)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY, handleProtocols: () => WS_PROTOCOL })
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head))
    this.app.on('identity', this.onIdentity)
    this.attach()
    this.statusTimer = setInterval(() => { this.pushStatus().catch(safetyCatch) }, STATUS_INTERVAL)
  }

  protected override async _close (): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer)
    if (this.changeTimer) clearTimeout(this.changeTimer)
    this.app.off('identity', this.onIdentity)
    this.app.shoal?.off('indexed', this.onIndexed)
    for (const ws of this.wss?.clients ?? []) ws.terminate()
    this.wss?.close()
    const server = this.server
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  private attach (): void {
    const shoal = this.app.shoal
    if (shoal === null || this.attached) return
    this.attached = true
    shoal.on('indexed', this.onIndexed)
    appState(this.app, this.opts.network).then((s) => this.broadcast('state', s), safetyCatch)
  }

  private reply (res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { ...securityHeaders(this.port), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
    res.end(JSON.stringify(body))
  }

  private fail (res: ServerResponse, status: number, code: ShoalErrorCode, message: string): void {
    this.reply(res, status, { error: apiError(code, message) })
  }

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const place = this.guard.place(req)
    if (!place.ok) return this.fail(res, place.status, place.code, place.message)
    const pathname = new URL(req.url ?? '/', 'http://x').pathname
    if (pathname === LAUNCH_PATH) return this.onLaunch(req, res)
    if (pathname.startsWith('/api/')) {
      const auth = this.guard.authorized(req)
      if (!auth.ok) return this.fail(res, auth.status, auth.code, auth.message)
      if (pathname !== CALL_PATH) return this.fail(res, 404, 'UNKNOWN_METHOD', 'no such endpoint')
      if (req.method !== 'POST') return this.fail(res, 405, 'BAD_REQUEST', 'use POST')
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return this.fail(res, 415, 'BAD_REQUEST', 'send application/json')
      const body = await readJson(req)
      if (body === undefined) return this.fail(res, 400, 'BAD_REQUEST', 'body must be a JSON object under 256 KiB')
      const out = await dispatch(this.handlers, this.app, body.method, body.params)
      return this.reply(res, 'error' in out ? 400 : 200, out)
    }
    await serveStatic(this.opts.uiDir ?? DEFAULT_UI_DIR, req, res, securityHeaders(this.port))
  }

  private async onLaunch (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.fail(res, 405, 'BAD_REQUEST', 'use POST')
    const body = await readJson(req)
    const code = typeof body?.code === 'string' ? body.code : ''
    const expires = this.launchCodes.get(code)
    this.launchCodes.delete(code)
    if (expires === undefined || expires < Date.now()) return this.fail(res, 401, 'UNAUTHORIZED', 'launch code unknown, used or expired')
    return this.reply(res, 200, { token: this.token })
  }

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', safetyCatch)
    const url = new URL(req.url ?? '/', 'http://x')
    const verdict = url.pathname !== WS_PATH
      ? { ok: false as const, status: 404, message: 'not found' }
      : this.guard.check(req)
    if (!verdict.ok || !wantsShoalProtocol(req)) {
      const status = verdict.ok ? 400 : verdict.status
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    const wss = this.wss
    if (wss === null) { socket.destroy(); return }
    wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws))
  }

  private onSocket (ws: WebSocket): void {
    ws.on('error', safetyCatch)
    ws.on('message', (data, isBinary) => {
      if (isBinary) { ws.close(1003, 'text only'); return }
      let msg: { type?: unknown, id?: unknown, method?: unknown, params?: unknown }
      try {
        msg = JSON.parse(String(data))
      } catch {
        ws.send(JSON.stringify({ type: 'response', id: -1, error: apiError('BAD_REQUEST', 'not JSON') }))
        return
      }
      const id = typeof msg?.id === 'number' ? msg.id : -1
      if (msg?.type !== 'request') {
        ws.send(JSON.stringify({ type: 'response', id, error: apiError('BAD_REQUEST', 'expected a request') }))
        return
      }
      dispatch(this.handlers, this.app, msg.method, msg.params)
        .then((out) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'response', id, ...out })) }, safetyCatch)
    })
  }

  broadcast<E extends EventName> (event: E, data: Events[E]): void {
    const msg = JSON.stringify({ type: 'event', event, data })
    for (const ws of this.wss?.clients ?? []) if (ws.readyState === ws.OPEN) ws.send(msg)
  }

  private scheduleChanged (): void {
    if (this.changeTimer !== null) return
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null
      this.broadcast('changed', { feeds: this.app.shoal?.trackedFeeds.length ?? 0 })
      if ((this.wss?.clients.size ?? 0) > 0) this.pushState().catch(safetyCatch)
    }, CHANGE_DEBOUNCE)
  }

  private lastState = ''

  /** Re-sends the app state when it changed (my name, after a profile edit). */
  private async pushState (): Promise<void> {
    const state = await appState(this.app, this.opts.network)
    const json = JSON.stringify(state)
    if (json === this.lastState) return
    this.lastState = json
    this.broadcast('state', state)
  }

  private async pushStatus (): Promise<void> {
    const shoal = this.app.shoal
    if (shoal === null || (this.wss?.clients.size ?? 0) === 0) return
    const s = await syncStatus(shoal)
    const json = JSON.stringify(s)
    if (json === this.lastStatus) return
    this.lastStatus = json
    this.broadcast('status', s)
  }
}

/** The error body of every API answer: a code declared in src/errors.ts, and a message. */
function apiError (code: ShoalErrorCode, message: string): { code: ShoalErrorCode, message: string } {
  return { code, message }
}

function listen (server: http.Server, port: number, strict: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (p: number): void => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening)
        if (err.code === 'EADDRINUSE' && !strict && p !== 0) attempt(0)
        else reject(ShoalError.NETWORK_ERROR(`cannot listen on 127.0.0.1:${p}`, err))
      }
      const onListening = (): void => {
        server.off('error', onError)
        resolve((server.address() as { port: number }).port)
      }
      server.once('error', onError)
      server.once('listening', onListening)
      server.listen(p, '127.0.0.1')
    }
    attempt(port)
  })
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) return undefined
    chunks.push(chunk as Buffer)
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined
  } catch {
    return undefined // answered as BAD_REQUEST by the caller
  }
}
