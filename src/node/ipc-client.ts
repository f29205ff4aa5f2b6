/**
 * The client side of the local socket (ipc.ts): sends one CLI command to the node serving a
 * storage folder. It imports nothing of the node's stack, so a CLI call through a running
 * `shoal serve` starts as fast as Node itself.
 */
import net from 'node:net'
import { ShoalError, type ShoalErrorCode } from '../errors.js'
import { fitsSocketPath } from './socket-path.js'

export type IpcReply = { ok: true, json: unknown, text: string } | { ok: false, error: { code: ShoalErrorCode, message: string } }

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

/** Connects to a unix socket; rejects when nothing listens there. */
export function connect (path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path)
    socket.once('connect', () => { socket.off('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}

