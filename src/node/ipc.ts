/**
 * The local socket of a running node. While `shoal serve` runs, other CLI commands on the same
 * storage send their arguments here and the serving node runs them, instead of opening the
 * storage a second time. One JSON line in, one JSON line out. The socket lives in the storage
 * folder (or, for a long storage path, in an owner-only folder named in storage.ts) with
 * owner-only permissions; anyone who can reach it can already read the storage.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { ShoalError, type ShoalErrorCode } from '../errors.js'
import { checkSocketPath, fitsSocketPath, secureSocketDir } from './storage.js'

export type IpcReply = { ok: true, json: unknown, text: string } | { ok: false, error: { code: ShoalErrorCode, message: string } }

export type IpcHandler = (argv: string[]) => Promise<IpcReply>

const MAX_REQUEST = 1024 * 1024

export class IpcServer extends ReadyResource {
  private server: net.Server | null = null
  private readonly sockets = new Set<net.Socket>()

  constructor (readonly path: string, private readonly handler: IpcHandler) {
    super()
  }

  protected override async _open (): Promise<void> {
    checkSocketPath(this.path)
    if (await ping(this.path)) throw ShoalError.STORAGE_LOCKED(`a node is already serving (${this.path})`)
    await secureSocketDir(this.path)
    await fs.rm(this.path, { force: true }) // a stale socket of a node that did not shut down
    const server = net.createServer((socket) => this.onSocket(socket))
    this.server = server
    const oldMask = process.umask(0o177)
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.path, () => { server.off('error', reject); resolve() })
      })
    } finally {
      process.umask(oldMask)
    }
    await fs.chmod(this.path, 0o600)
  }

  protected override async _close (): Promise<void> {
    const server = this.server
    if (server === null) return
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await fs.rm(this.path, { force: true })
  }

  private onSocket (socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', safetyCatch)
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_REQUEST) { socket.destroy(); return }
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      const line = buf.slice(0, nl)
      buf = ''
      this.answer(line).then((reply) => socket.end(JSON.stringify(reply) + '\n'), safetyCatch)
    })
  }

  private async answer (line: string): Promise<IpcReply> {
    let argv: unknown
    try {
      argv = JSON.parse(line)?.argv
    } catch {
      argv = null // answered below as a usage error
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
      return { ok: false, error: { code: 'USAGE', message: 'request must be {"argv":[strings]}' } }
    }
    try {
      return await this.handler(argv)
    } catch (err) {
      const e = ShoalError.from(err)
      return { ok: false, error: { code: e.code, message: e.detail } }
    }
  }
}

/** Sends one command to the node serving at `path`; null when no node is listening there. */
export async function callServer (path: string, argv: string[]): Promise<IpcReply | null> {
  if (!fitsSocketPath(path)) return null // no node can listen there (IpcServer refuses such a path)
  let socket: net.Socket
  try {
    socket = await connect(path)
  } catch {
    return null // nothing is serving this storage: the caller opens it itself
  }
  return new Promise((resolve, reject) => {
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => { buf += d })
    socket.on('error', (err) => reject(ShoalError.STORAGE_ERROR('lost the connection to the serving node', err)))
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buf) as IpcReply)
      } catch (err) {
        reject(ShoalError.STORAGE_ERROR('the serving node sent a malformed reply', err))
      }
    })
    socket.write(JSON.stringify({ argv }) + '\n')
  })
}

function connect (path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path)
    socket.once('connect', () => { socket.off('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}

async function ping (path: string): Promise<boolean> {
  try {
    const s = await connect(path)
    s.destroy()
    return true
  } catch {
    return false // not listening
  }
}
