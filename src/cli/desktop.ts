/**
 * `shoal desktop`: runs the node and opens the UI in an app window of an installed
 * Chromium-family browser (its own profile in the storage folder), falling back to the default
 * browser, and printing the URL when nothing can be opened. The browser's command line carries
 * only a single-use launch code, never the token (other users can read process arguments).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import type { Parsed } from './args.js'
import type { Result } from './commands.js'
import { startNode, untilSignal } from './network-commands.js'

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome', 'brave-browser', 'microsoft-edge', 'vivaldi']
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

function which (cmd: string, env: NodeJS.ProcessEnv): string | null {
  if (cmd.includes('/')) return cmd
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, cmd)
    if (spawnSync('test', ['-x', full]).status === 0) return full
  }
  return null
}

function hasDisplay (env: NodeJS.ProcessEnv): boolean {
  return process.platform !== 'linux' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY)
}

/** Opens an app window; returns the browser process when we can tell when the window closes. */
function openWindow (url: string, profile: string, env: NodeJS.ProcessEnv): { child: ChildProcess | null, how: string } {
  if (!hasDisplay(env)) return { child: null, how: 'no display' }
  const candidates = env.SHOAL_BROWSER ? [env.SHOAL_BROWSER] : BROWSERS
  for (const name of candidates) {
    const bin = which(name, env)
    if (bin === null) continue
    const child = spawn(bin, [`--app=${url}`, `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--class=Shoal'], { stdio: 'ignore' })
    child.on('error', safetyCatch)
    return { child, how: name }
  }
  const opener = which(process.platform === 'darwin' ? 'open' : 'xdg-open', env)
  if (opener !== null) {
    spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', safetyCatch).unref()
    return { child: null, how: 'default browser' }
  }
  return { child: null, how: 'none' }
}

/** Writes a freedesktop entry so Shoal appears in the Linux app menu. */
export async function installDesktopEntry (env: NodeJS.ProcessEnv): Promise<string> {
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  const dir = path.join(dataHome, 'applications')
  const file = path.join(dir, 'shoal.desktop')
  const bin = path.join(ROOT, 'bin', 'shoal.js')
  const entry = [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Shoal',
    'Comment=Peer-to-peer social messenger',
    `Exec=${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} desktop`,
    `Icon=${path.join(ROOT, 'assets', 'shoal.svg')}`,
    'Terminal=false',
    'Categories=Network;Chat;InstantMessaging;',
    'StartupWMClass=Shoal',
    ''
  ].join('\n')
  try {
    await fs.mkdir(dir, { recursive: true })
    await fs.writeFile(file, entry, { mode: 0o644 })
  } catch (err) {
    throw ShoalError.STORAGE_ERROR(`cannot write ${file}`, err)
  }
  return file
}

export async function desktop (storage: string, p: Parsed, env: NodeJS.ProcessEnv, ready: (r: Result) => void): Promise<void> {
  if (p.flags.install === true) {
    const file = await installDesktopEntry(env)
    ready({ json: { installed: file }, text: `installed ${file}` })
    return
  }
  const node = await startNode(storage, p, env)
  try {
    const profile = path.join(storage, 'browser-profile')
    await fs.mkdir(profile, { recursive: true, mode: 0o700 })
    const { child, how } = openWindow(node.api.launchUrl(), profile, env)
    const keep = p.flags['keep-running'] === true
    const stopped = untilSignal()
    ready({
      json: { url: node.api.url, port: node.api.port, window: how },
      text: child !== null
        ? `Shoal opened in ${how}. ${keep ? 'The node keeps running after the window closes; Ctrl-C stops it.' : 'Closing the window stops the node.'}\nAlso reachable at ${node.api.url}`
        : `Could not open an app window (${how}). Open ${node.api.url}\nCtrl-C stops the node.`
    })
    const closed = child === null || keep
      ? new Promise<void>(() => {})
      : new Promise<void>((resolve) => child.once('exit', () => resolve()))
    await Promise.race([stopped, closed])
    if (child !== null && child.exitCode === null) child.kill('SIGTERM')
  } finally {
    await node.close()
  }
}
