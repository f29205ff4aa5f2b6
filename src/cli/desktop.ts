/**
 * `shoal desktop`: runs the node and opens the UI in an app window of an installed
 * Chromium-family browser (its own profile in the storage folder), falling back to the default
 * browser, and printing the URL when nothing can be opened. The browser's command line carries
 * only the path of an owner-only launch page (src/api/launch.ts), never the token or anything
 * that can be traded for it (other users can read process arguments in /proc).
 */
import { parseBootstrap } from '../node/network.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import safetyCatch from 'safety-catch'
import { LAUNCH_TTL } from '../api/launch.js'
import type { ApiServer } from '../api/server.js'
import { escapeText } from './escape.js'
import { ShoalError } from '../errors.js'
import type { Parsed } from './args.js'
import type { Result } from './commands.js'
import { startNode, untilSignal } from './network-commands.js'
import { NODE_FLAGS } from './node-flags.js'

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome', 'brave-browser', 'microsoft-edge', 'vivaldi']
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export { NODE_FLAGS }

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

/** How the window was opened: `child` is the app window's browser when we can tell when it closes. */
interface Opened { child: ChildProcess | null, how: string, noSandbox: boolean, error: ShoalError | null }

/** The app-window arguments; `--no-sandbox` as root, where Chromium refuses to start without it. */
export function browserArgs (pageUrl: string, profile: string, uid: number | null): string[] {
  const args = [`--app=${pageUrl}`, `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--class=Shoal']
  if (uid === 0) args.push('--no-sandbox')
  return args
}

/**
 * Opens an app window on a fresh launch page and waits until it has traded the page's code for
 * the token; a browser that cannot be started, or exits first, is a BROWSER_FAILED error.
 */
async function openWindow (api: ApiServer, profile: string, launchDir: string, env: NodeJS.ProcessEnv): Promise<Opened> {
  if (!hasDisplay(env)) return { child: null, how: 'no display', noSandbox: false, error: null }
  const uid = typeof process.getuid === 'function' ? process.getuid() : null
  const candidates = env.SHOAL_BROWSER ? [env.SHOAL_BROWSER] : BROWSERS
  for (const name of candidates) {
    const bin = which(name, env)
    if (bin === null) continue
    const page = await api.launchPage(launchDir)
    const child = spawn(bin, browserArgs(page.url, profile, uid), { stdio: ['ignore', 'ignore', 'pipe'] })
    const error = await started(child, name, api, page.id)
    if (error !== null && child.exitCode === null) child.kill('SIGTERM')
    return { child: error === null ? child : null, how: name, noSandbox: uid === 0, error }
  }
  const opener = which(process.platform === 'darwin' ? 'open' : 'xdg-open', env)
  if (opener !== null) {
    const page = await api.launchPage(launchDir)
    spawn(opener, [page.url], { stdio: 'ignore', detached: true }).on('error', safetyCatch).unref()
    return { child: null, how: 'default browser', noSandbox: false, error: null }
  }
  return { child: null, how: 'none', noSandbox: false, error: null }
}

/**
 * Resolves to null once the window traded launch `id`, or to BROWSER_FAILED when the browser
 * cannot be spawned, exits non-zero (or by a signal) first, or the code expires unused (a
 * browser that handed the page to an already running instance exits 0 and is waited for).
 */
function started (child: ChildProcess, name: string, api: ApiServer, id: string): Promise<ShoalError | null> {
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => { tail = (tail + d).slice(-2000) }) // also keeps the pipe drained
  return new Promise((resolve) => {
    const done = (err: ShoalError | null): void => {
      api.off('launched', onLaunched)
      child.off('exit', onExit)
      clearTimeout(timer)
      resolve(err)
    }
    const said = (): string => {
      const lines = tail.trim().split('\n').filter(Boolean).slice(-3).join(' | ')
      return lines === '' ? '' : `: ${lines}`
    }
    const onLaunched = (launched: string): void => { if (launched === id) done(null) }
    const onExit = (code: number | null, signal: string | null): void => {
      if (code !== 0) done(ShoalError.BROWSER_FAILED(`${name} exited with ${signal ?? `code ${String(code)}`} before the window opened${said()}`))
    }
    const timer = setTimeout(() => done(ShoalError.BROWSER_FAILED(`${name} did not open the window within ${LAUNCH_TTL / 1000} s${said()}`)), LAUNCH_TTL)
    api.on('launched', onLaunched)
    child.on('exit', onExit)
    child.once('error', (err) => done(ShoalError.BROWSER_FAILED(`cannot start ${name}: ${err.message}`, err)))
  })
}

/** What the menu entry keeps of this invocation: the storage folder and the network. */
export interface EntryOptions { storage: string | null, bootstrap: string | null, hops: string | null, port: string | null, keepRunning: boolean }

/**
 * One argument of a freedesktop Exec line: double-quoted when it holds a reserved character, with
 * `"`, `` ` ``, `$` and `\` backslash-escaped inside the quotes, and `%` doubled (field codes).
 */
export function execArg (arg: string): string {
  const quoted = /^[A-Za-z0-9_\-+=.,/:@]+$/.test(arg) ? arg : `"${arg.replace(/["`$\\]/g, (c) => `\\${c}`)}"`
  return quoted.replace(/%/g, '%%')
}

/** A desktop-entry string value: backslashes doubled and control characters escaped (the escape applied before the Exec quoting). */
export function entryValue (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')
}

/** The Exec line's arguments: node with bin/shoal.js's flags, bin/shoal.js, desktop, then the storage and network given now. */
export function entryArgs (o: EntryOptions, execPath = process.execPath, bin = path.join(ROOT, 'bin', 'shoal.js')): string[] {
  const args = [execPath, ...NODE_FLAGS, bin, 'desktop']
  if (o.storage !== null) args.push('--storage', o.storage)
  if (o.bootstrap !== null) args.push('--bootstrap', o.bootstrap)
  if (o.hops !== null) args.push('--hops', o.hops)
  if (o.port !== null) args.push('--port', o.port)
  if (o.keepRunning) args.push('--keep-running')
  return args
}

/** Writes a freedesktop entry so Shoal appears in the Linux app menu, started as it was asked now. */
export async function installDesktopEntry (env: NodeJS.ProcessEnv, o: EntryOptions): Promise<string> {
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  const dir = path.join(dataHome, 'applications')
  const file = path.join(dir, 'shoal.desktop')
  const entry = [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Shoal',
    'Comment=Peer-to-peer social messenger',
    `Exec=${entryValue(entryArgs(o).map(execArg).join(' '))}`,
    `Icon=${entryValue(path.join(ROOT, 'assets', 'shoal.svg'))}`,
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

/**
 * Runs the node and its window until the window closes (or SIGINT/SIGTERM); resolves to the exit
 * status: 1 when the browser failed to start (reported as BROWSER_FAILED, the URL printed instead).
 */
export async function desktop (storage: string, p: Parsed, env: NodeJS.ProcessEnv, ready: (r: Result) => void): Promise<number> {
  if (p.flags.install === true) {
    const explicit = p.storage !== undefined || Boolean(env.SHOAL_STORAGE)
    const flag = (k: string): string | null => typeof p.flags[k] === 'string' ? p.flags[k] as string : null
    const o: EntryOptions = { storage: explicit ? storage : null, bootstrap: flag('bootstrap') ?? env.SHOAL_BOOTSTRAP ?? null, hops: flag('hops'), port: flag('port'), keepRunning: p.flags['keep-running'] === true }
    if (o.bootstrap !== null) parseBootstrap(o.bootstrap) // a bad or blank value fails now, not at every start
    const file = await installDesktopEntry(env, o)
    ready({ json: { installed: file, exec: entryArgs(o) }, text: `installed ${file}\nstarts: ${entryArgs(o).join(' ')}` })
    return 0
  }
  const node = await startNode(storage, p, env)
  try {
    const profile = path.join(storage, 'browser-profile')
    await fs.mkdir(profile, { recursive: true, mode: 0o700 })
    const stopped = untilSignal()
    const opened = await Promise.race([openWindow(node.api, profile, path.join(storage, 'launch'), env), stopped.then(() => null)])
    if (opened === null) return 0 // Ctrl-C while the window was opening
    const { child, how, noSandbox, error } = opened
    const keep = p.flags['keep-running'] === true
    const root = noSandbox ? `Running as root: started ${how} with --no-sandbox (Chromium's sandbox does not run as root).\n` : ''
    if (error !== null) process.stderr.write(`error: ${escapeText(error.message)}\n`)
    ready({
      json: { url: node.api.url, port: node.api.port, window: error === null ? how : 'failed', noSandbox, ...(error !== null ? { error: { code: error.code, message: error.detail } } : {}) },
      text: error !== null
        ? `${root}Could not open an app window (${error.message}). Open ${node.api.url}\nCtrl-C stops the node.`
        : child !== null
          ? `${root}Shoal opened in ${how}. ${keep ? 'The node keeps running after the window closes; Ctrl-C stops it.' : 'Closing the window stops the node.'}\nAlso reachable at ${node.api.url}`
          : `Could not open an app window (${how}). Open ${node.api.url}\nCtrl-C stops the node.`
    })
    const closed = child === null || keep
      ? new Promise<void>(() => {})
      : new Promise<void>((resolve) => child.once('exit', () => resolve()))
    await Promise.race([stopped, closed])
    if (child !== null && child.exitCode === null) child.kill('SIGTERM')
    return error === null ? 0 : 1
  } finally {
    await node.close()
  }
}
