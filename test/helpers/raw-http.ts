import crypto from 'node:crypto'
import net from 'node:net'

/**
 * Writes `bytes` as-is to 127.0.0.1:port, half-closes, and resolves with everything the server
 * sent before it closed (an empty string when it just hung up). For inputs no HTTP client would send.
 */
export function rawExchange (port: number, bytes: Uint8Array | string, opts: { keepOpen?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', () => {}) // a reset is an answer too: the caller looks at what arrived
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.write(bytes, () => { if (opts.keepOpen !== true) socket.end() })
  })
}

/** The status codes of every HTTP response in `raw`, in order. */
export function statuses (raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
}

/** A WebSocket handshake request for `/api/ws` with the token. */
export function upgradeRequest (port: number, token: string, target = '/api/ws'): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
    `Sec-WebSocket-Protocol: shoal, shoal.${token}\r\n\r\n`
}

/** One client frame; `mask: false` and odd lengths make protocol violations on purpose. */
export function frame (opcode: number, payload: Uint8Array, opts: { fin?: boolean, mask?: boolean, rsv?: number, lengthOverride?: bigint } = {}): Buffer {
  const mask = opts.mask ?? true
  const len = opts.lengthOverride ?? BigInt(payload.byteLength)
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)]
  const m = mask ? 0x80 : 0
  let ext = Buffer.alloc(0)
  if (len < 126n) head.push(m | Number(len))
  else if (len < 65536n) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)) } else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len) }
  const key = mask ? crypto.randomBytes(4) : Buffer.alloc(0)
  const body = Buffer.from(payload)
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4]
  return Buffer.concat([Buffer.from(head), ext, key, body])
}
