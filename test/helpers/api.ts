import http from 'node:http'
import type { Test } from 'brittle'
import WebSocket from 'ws'
import { ApiServer } from '../../src/api/server.js'
import { ShoalApp } from '../../src/node/app.js'
import type { Testnet } from './swarm.js'

/** A node with its local API on a free 127.0.0.1 port, joined to the local testnet. */
export async function createApiNode (t: Test, testnet: Testnet, opts: { name?: string, storage?: string, uiDir?: string, port?: number } = {}): Promise<{ app: ShoalApp, api: ApiServer }> {
  const storage = opts.storage ?? await t.tmp()
  const app = new ShoalApp(storage, { join: { dht: testnet.createNode() } })
  await app.ready()
  if (opts.name !== undefined && app.shoal === null) await app.init({ name: opts.name })
  const api = new ApiServer(app, { port: opts.port ?? 0, strictPort: opts.port !== undefined, network: 'private', uiDir: opts.uiDir })
  await api.ready()
  t.teardown(async () => { await api.close(); await app.close() }, { order: 1 })
  return { app, api }
}

export interface RawResponse { status: number, headers: http.IncomingHttpHeaders, body: string }

/** An HTTP request with full control over Host, Origin and the rest (fetch would fix them up). */
export function request (port: number, opts: { method?: string, path?: string, headers?: Record<string, string>, body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Calls a method over POST /api/call with the right token and Host. */
export async function call (api: ApiServer, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const r = await request(api.port, {
    method: 'POST',
    path: '/api/call',
    headers: { Host: `127.0.0.1:${api.port}`, Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ method, params })
  })
  return JSON.parse(r.body)
}

/** Tries a WebSocket upgrade; resolves with the HTTP status it was refused with, or 101 when it opened. */
export function tryUpgrade (port: number, opts: { host?: string, origin?: string, protocols?: string[] }): Promise<{ status: number, ws: WebSocket | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, opts.protocols ?? [], {
      headers: { Host: opts.host ?? `127.0.0.1:${port}` },
      ...(opts.origin !== undefined ? { origin: opts.origin } : {})
    })
    ws.on('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0, ws: null }); ws.terminate() })
    ws.on('open', () => resolve({ status: 101, ws }))
    ws.on('error', () => resolve({ status: 0, ws: null }))
  })
}
