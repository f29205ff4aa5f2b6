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
import { ShoalError } from '../errors.js'
import { checkSocketPath, secureSocketDir } from './storage.js'
import { connect, type IpcReply } from './ipc-client.js'

export { callServer, type IpcReply } from './ipc-client.js'

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

async function ping (path: string): Promise<boolean> {
  try {
    const s = await connect(path)
    s.destroy()
    return true
  } catch {
    return false // not listening
  }
}
