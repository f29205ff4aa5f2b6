/** Serves the built UI (ui/dist) with strict headers; nothing outside that folder. */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2'
}

/** The headers of every answer: a strict CSP naming only this port, no framing, no referrer. */
export function securityHeaders (port: number): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    Vary: 'Origin'
  }
}

/**
 * Answers GET/HEAD for `decoded` (the request path, already percent-decoded by the caller) from
 * `root`; anything outside `root` is 404. Never throws for any path.
 */
export async function serveStatic (root: string, decoded: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end()
    return
  }
  let rel = decoded
  if (rel === '/' || !path.extname(rel)) rel = '/index.html'
  const file = path.join(root, path.normalize(rel))
  if (!file.startsWith(path.resolve(root) + path.sep)) {
    res.writeHead(404, headers).end()
    return
  }
  let body: Buffer
  try {
    body = await fs.readFile(file)
  } catch {
    const missing = rel === '/index.html'
    res.writeHead(missing ? 503 : 404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(missing ? 'The UI is not built: run "npm run build:ui".\n' : 'not found\n')
    return
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Cache-Control': rel === '/index.html' ? 'no-store' : 'public, max-age=3600'
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
