/**
 * The local API: HTTP and a WebSocket on 127.0.0.1 only, serving the built UI, typed calls
 * (protocol.ts) and live events. Every API request and upgrade needs the per-launch token;
 * Host and Origin are checked first (guard.ts). No CORS headers are ever sent.
 *
 * No input may take the node down (docs/SECURITY.md): targets, paths and bodies go through the
 * total parsers of request-input.ts, bodies and messages are capped, requests in flight are
 * bounded per connection, and anything a handler still throws is answered with 500 INTERNAL and
 * emitted as `request-error`, never re-thrown.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import path from 'node:path'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { WebSocketServer, type WebSocket } from 'ws'
import { ShoalError, type ShoalErrorCode } from '../errors.js'
import type { ShoalApp } from '../node/app.js'
import type { Shoal } from '../node/shoal.js'
import { conversationToString } from '../node/dm-json.js'
import { identityToString, refToString, type MessageRef } from '../ids.js'
import { appState, createHandlers, dispatch, syncStatus } from './dispatch.js'
import { Guard, wantsShoalProtocol } from './guard.js'
import { LaunchCodes, type LaunchPage } from './launch.js'
import { CALL_PATH, LAUNCH_PATH, WS_PATH, WS_PROTOCOL, type AppState, type EventName, type Events } from './protocol.js'
import { ABORTED, decodePath, parseJsonObject, readText, targetPath, TOO_LARGE } from './request-input.js'
import { securityHeaders, serveStatic } from './static-files.js'

/** The documented default port; a busy port falls back to a free one. */
export const DEFAULT_PORT = 7647
/** The largest request body or WebSocket message handled (a post's record cap is 16 KiB). */
export const MAX_BODY = 256 * 1024
/** WebSocket messages above this close the socket (1009) unread; between MAX_BODY and this, a coded error. */
const MAX_FRAME = 1024 * 1024
/** Requests one connection (HTTP keep-alive/pipelining, or one WebSocket) may have in flight. */
export const MAX_IN_FLIGHT = 32
/** Open connections in all; more are dropped at once (a browser window uses a handful). */
export const MAX_CONNECTIONS = 256
/** A request (headers and body) must arrive within this many ms (Node's default is 300,000). */
export const REQUEST_TIMEOUT_MS = 10_000
/** A WebSocket whose client has not read this much of what it was sent is closed. */
const MAX_BUFFERED = 8 * 1024 * 1024
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
  private readonly launches = new LaunchCodes((id) => this.emit('launched', id))
  private readonly inFlight = new WeakMap<Socket, number>()
  /** Every open connection, upgraded ones too (server.closeAllConnections skips those). */
  private readonly sockets = new Set<Socket>()
  private statusTimer: ReturnType<typeof setInterval> | null = null
  private changeTimer: ReturnType<typeof setTimeout> | null = null
  private lastStatus = ''
  /** The node and its status stamp when the status was last read (pushStatus). */
  private statusOf: Shoal | null = null
  private lastStamp = ''
  private statusReading = false
  private readonly onIndexed = (): void => this.scheduleChanged()
  private readonly onDm = (ev: { conversation: Uint8Array, ref: MessageRef }): void => {
    this.broadcast('dm', { conversation: conversationToString(ev.conversation), id: refToString(ev.ref) })
  }
  private readonly onDmRequest = (ev: { identity: Uint8Array }): void => { this.broadcast('dmRequest', { id: identityToString(ev.identity) }) }
  private readonly onRoomUpdate = (room: string): void => { this.broadcast('roomChanged', { room }) }
  private readonly onRooms = (): void => { this.broadcast('roomChanged', { room: null }) }
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

  /** Open connections (HTTP and WebSocket) right now. */
  get connections (): number {
    return this.sockets.size
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
   * A single-use code (valid two minutes) that the page trades for the token, as an address.
   * Whoever can read the address can trade it: give it only to a process of this user, never on
   * a command line (see launchPage).
   */
  launchUrl (): string {
    return `http://127.0.0.1:${this.port}/#launch=${this.launches.issue().code}`
  }

  /**
   * Writes a launch page into the owner-only folder `dir` (launch.ts) for a browser to open;
   * `launched` is emitted with its id once the window traded the code for the token.
   */
  launchPage (dir: string): Promise<LaunchPage> {
    return this.launches.writePage(dir, `http://127.0.0.1:${this.port}`)
  }

  protected override async _open (): Promise<void> {
    // A request from this machine arrives whole in milliseconds: one that has not (a client that
    // stops sending, or half-closes before the body its Content-Length promised) is cut off soon
    // instead of holding a connection slot for Node's default five minutes.
    const server = http.createServer({ headersTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => { this.onRequest(req, res).catch((err) => this.onRequestError(res, err)) })
    this.server = server
    server.maxConnections = MAX_CONNECTIONS
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    const port = await listen(server, this.opts.port ?? DEFAULT_PORT, this.opts.strictPort === true)
    this.guardInstance = new Guard(port)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, handleProtocols: () => WS_PROTOCOL })
    server.on('upgrade', (req, socket, head) => {
      try {
        this.onUpgrade(req, socket as Duplex, head)
      } catch (err) {
        socket.destroy() // a bug, not the input: every input is answered inside onUpgrade
        this.emit('request-error', err)
      }
    })
    this.app.on('identity', this.onIdentity)
    this.attach()
    this.statusTimer = setInterval(() => { this.pushStatus().catch(safetyCatch) }, STATUS_INTERVAL)
  }

  protected override async _close (): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer)
    if (this.changeTimer) clearTimeout(this.changeTimer)
    this.launches.clear()
    this.app.off('identity', this.onIdentity)
    this.app.shoal?.off('indexed', this.onIndexed)
    this.app.shoal?.off('dm', this.onDm)
    this.app.shoal?.off('dm-request', this.onDmRequest)
    this.app.shoal?.off('room-update', this.onRoomUpdate)
    this.app.shoal?.off('rooms', this.onRooms)
    for (const ws of this.wss?.clients ?? []) ws.terminate()
    this.wss?.close()
    const server = this.server
    if (server) {
      server.closeAllConnections()
      for (const socket of this.sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  private attach (): void {
    const shoal = this.app.shoal
    if (shoal === null || this.attached) return
    this.attached = true
    shoal.on('indexed', this.onIndexed)
    shoal.on('dm', this.onDm)
    shoal.on('dm-request', this.onDmRequest)
    // on the node, not on shoal.rooms: a storage reopen (after NO_SPACE) replaces the RoomService
    shoal.on('room-update', this.onRoomUpdate)
    shoal.on('rooms', this.onRooms)
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
    const pathname = targetPath(req.url)
    if (pathname === null) return this.fail(res, 400, 'BAD_REQUEST', 'malformed request target')
    const socket = req.socket
    const busy = this.inFlight.get(socket) ?? 0
    if (busy >= MAX_IN_FLIGHT) {
      res.shouldKeepAlive = false
      return this.fail(res, 429, 'TOO_MANY_REQUESTS', `more than ${MAX_IN_FLIGHT} requests in flight on one connection`)
    }
    this.inFlight.set(socket, busy + 1)
    try {
      await this.route(pathname, req, res)
    } finally {
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 1) - 1)
    }
  }

  private async route (pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (pathname === LAUNCH_PATH) return this.onLaunch(req, res)
    if (pathname.startsWith('/api/')) {
      const auth = this.guard.authorized(req)
      if (!auth.ok) return this.fail(res, auth.status, auth.code, auth.message)
      if (pathname !== CALL_PATH) return this.fail(res, 404, 'UNKNOWN_METHOD', 'no such endpoint')
      if (req.method !== 'POST') return this.fail(res, 405, 'BAD_REQUEST', 'use POST')
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return this.fail(res, 415, 'BAD_REQUEST', 'send application/json')
      const body = await this.readBody(req, res)
      if (body === null) return
      const out = await dispatch(this.handlers, this.app, body.method, body.params)
      return this.reply(res, 'error' in out ? 400 : 200, out)
    }
    const decoded = decodePath(pathname)
    if (decoded === null) return this.fail(res, 400, 'BAD_REQUEST', 'malformed path')
    await serveStatic(this.opts.uiDir ?? DEFAULT_UI_DIR, decoded, req, res, securityHeaders(this.port))
  }

  /** The JSON object body, or null once answered (413 too large, 400 malformed, nothing when the client left). */
  private async readBody (req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | null> {
    const text = await readText(req, MAX_BODY)
    if (text === TOO_LARGE) {
      res.shouldKeepAlive = false // the rest of the body is not read
      this.fail(res, 413, 'REQUEST_TOO_LARGE', `body over ${MAX_BODY} bytes`)
      return null
    }
    if (text === ABORTED) {
      res.destroy()
      return null
    }
    try {
      return parseJsonObject(text)
    } catch (err) {
      const e = ShoalError.from(err)
      this.fail(res, 400, e.code, e.detail)
      return null
    }
  }

  /** A throw that escaped the handlers (a bug): answered with 500, reported as `request-error`, never re-thrown. */
  private onRequestError (res: ServerResponse, err: unknown): void {
    if (!res.headersSent && !res.destroyed) this.fail(res, 500, 'INTERNAL', 'internal error')
    else res.destroy()
    this.emit('request-error', err)
  }

  private async onLaunch (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.fail(res, 405, 'BAD_REQUEST', 'use POST')
    const body = await this.readBody(req, res)
    if (body === null) return
    const code = typeof body.code === 'string' ? body.code : ''
    if (!(await this.launches.redeem(code))) return this.fail(res, 401, 'UNAUTHORIZED', 'launch code unknown, used or expired')
    return this.reply(res, 200, { token: this.token })
  }

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreSocketError)
    const pathname = targetPath(req.url)
    const verdict = pathname === null
      ? { ok: false as const, status: 400, message: 'malformed request target' }
      : pathname !== WS_PATH
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
    // ws reports protocol violations (oversize frames, bad UTF-8, bad opcodes) as RangeError and
    // closes the socket itself; safetyCatch would re-throw those and take the node down.
    ws.on('error', ignoreSocketError)
    let inFlight = 0
    const answer = (id: number, out: { result: unknown } | { error: { code: string, message: string } }): void => {
      send(ws, JSON.stringify({ type: 'response', id, ...out }))
    }
    const refuse = (id: number, code: ShoalErrorCode, message: string): void => answer(id, { error: apiError(code, message) })
    ws.on('message', (data, isBinary) => {
      if (isBinary) { ws.close(1003, 'text only'); return }
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : (data as Buffer | ArrayBuffer).byteLength
      if (size > MAX_BODY) return refuse(-1, 'REQUEST_TOO_LARGE', `message over ${MAX_BODY} bytes`)
      let msg: Record<string, unknown>
      try {
        msg = parseJsonObject(String(data))
      } catch (err) {
        return refuse(-1, 'BAD_REQUEST', ShoalError.from(err).detail)
      }
      const id = typeof msg.id === 'number' && Number.isSafeInteger(msg.id) ? msg.id : -1
      if (msg.type !== 'request') return refuse(id, 'BAD_REQUEST', 'expected a request')
      if (inFlight >= MAX_IN_FLIGHT) return refuse(id, 'TOO_MANY_REQUESTS', `more than ${MAX_IN_FLIGHT} requests in flight`)
      inFlight++
      dispatch(this.handlers, this.app, msg.method, msg.params) // never rejects
        .then((out) => { inFlight--; answer(id, out) })
        .catch((err: unknown) => this.emit('request-error', err)) // a result that cannot be sent: a bug
    })
  }

  broadcast<E extends EventName> (event: E, data: Events[E]): void {
    const msg = JSON.stringify({ type: 'event', event, data })
    for (const ws of this.wss?.clients ?? []) send(ws, msg)
  }

  private scheduleChanged (): void {
    if (this.changeTimer !== null) return
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null
      this.broadcast('changed', { feeds: this.app.shoal?.trackedCount ?? 0 })
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

  /**
   * Sends the sync status when it changed. Read whole only when the node's status stamp moved: a
   * status lists every identity held, so reading it each second would cost with the follows held.
   */
  private async pushStatus (): Promise<void> {
    const shoal = this.app.shoal
    if (shoal === null || (this.wss?.clients.size ?? 0) === 0) return
    const stamp = shoal.statusStamp()
    if (this.statusReading || (shoal === this.statusOf && stamp === this.lastStamp)) return
    this.statusReading = true
    let s
    try {
      s = await syncStatus(shoal)
    } finally {
      this.statusReading = false
    }
    this.statusOf = shoal
    this.lastStamp = stamp
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

/** Sends to an open socket; a client that stopped reading (over MAX_BUFFERED unread) is cut off. */
function send (ws: WebSocket, msg: string): void {
  if (ws.readyState !== ws.OPEN) return
  if (ws.bufferedAmount > MAX_BUFFERED) ws.terminate()
  else ws.send(msg)
}

/** Socket errors (resets, protocol violations) end that one connection; they say nothing about the node. */
function ignoreSocketError (): void {}
