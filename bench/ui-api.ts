/** Calls a running node's local API (POST /api/call) from the bench, as a script would. */
import http from 'node:http'

export interface ApiTarget { port: number, token: string }

/** Reads the port and token out of a `#token=` URL (the ready line of `shoal serve` / `desktop`). */
export function apiTarget (url: string): ApiTarget {
  const u = new URL(url)
  const token = new URLSearchParams(u.hash.slice(1)).get('token')
  if (token === null) throw new Error(`no #token= in ${url}`)
  return { port: Number(u.port), token }
}

/** One call; resolves with its result, rejects with the API's coded error. */
export function apiCall<T = unknown> (target: ApiTarget, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const body = JSON.stringify({ method, params })
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: target.port,
      method: 'POST',
      path: '/api/call',
      headers: { Host: `127.0.0.1:${target.port}`, Authorization: `Bearer ${target.token}`, 'Content-Type': 'application/json' }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => {
        let msg: { result?: T, error?: { code: string, message: string } }
        try {
          msg = JSON.parse(text)
        } catch {
          reject(new Error(`${method}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`))
          return
        }
        if (msg.error !== undefined) reject(new Error(`${method}: ${msg.error.code}: ${msg.error.message}`))
        else resolve(msg.result as T)
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}
