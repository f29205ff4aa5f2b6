import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { shoal, spawnShoal } from './helpers/cli.js'

const FAKE = fileURLToPath(new URL('./fixtures/fake-browser.js', import.meta.url))
const ROOT = process.getuid?.() === 0

function fakeBrowser (dir: string): string {
  const browser = path.join(dir, 'chromium')
  fs.writeFileSync(browser, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE)} "$@"\n`, { mode: 0o755 })
  return browser
}

test('desktop – the browser gets only an owner-only launch page; its code is traded once and the page deleted', async (t) => {
  const dir = await t.tmp()
  const storage = path.join(dir, 'store')
  const out = path.join(dir, 'browser.json')
  const browser = fakeBrowser(dir)
  await shoal(storage, ['init', '--name', 'alice', '--json'])
  const run = spawnShoal(t, storage, ['desktop', '--port', '0', '--json'], { DISPLAY: ':99', SHOAL_BROWSER: browser, FAKE_BROWSER_OUT: out, FAKE_BROWSER_ROOT_CHECK: '1', SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  const ready = JSON.parse(await run.ready)
  t.is(ready.window, browser, 'opened the configured browser')
  t.is(await run.exited, 0, 'the node stopped when the window closed')
  const seen = JSON.parse(fs.readFileSync(out, 'utf8'))
  const cmdline = seen.argv.join(' ')
  const app = seen.argv.find((a: string) => a.startsWith('--app='))
  t.ok(app.startsWith('--app=file://'), 'the window opens a local launch page')
  t.absent(cmdline.includes('#launch=') || cmdline.includes(seen.code), 'no launch code on the browser\'s command line (readable by every user in /proc)')
  t.absent(cmdline.includes(seen.token), 'no token on the browser\'s command line')
  t.is(seen.fileMode, 0o600, 'the launch page is owner-only')
  t.is(seen.dirMode, 0o700, 'in an owner-only folder')
  t.is(path.dirname(seen.file), path.join(storage, 'launch'))
  if (ROOT) {
    t.ok(seen.otherUser.status !== 0 && /EACCES/.test(seen.otherUser.stderr), 'another user (uid 65534) cannot read the launch page')
  }
  t.is(seen.status, 200, 'the launch code was traded for the token')
  t.ok(ready.url.endsWith(`#token=${seen.token}`), 'the same token the printed URL holds')
  t.is(seen.pageLeft, false, 'the launch page was deleted before the token was handed out')
  t.alike(fs.readdirSync(path.join(storage, 'launch')), [], 'no launch page left behind')
  t.ok(seen.argv.some((a: string) => a === `--user-data-dir=${path.join(storage, 'browser-profile')}`), 'its own profile in the storage')
  t.is(ready.noSandbox, ROOT, ROOT ? 'as root, started with --no-sandbox' : 'not root: the sandbox stays on')
  t.is(seen.argv.includes('--no-sandbox'), ROOT)
})

const rootTest = ROOT ? test : test.skip

rootTest('desktop – as root the output says the browser runs with --no-sandbox', async (t) => {
  const dir = await t.tmp()
  const storage = path.join(dir, 'store')
  await shoal(storage, ['init', '--json'])
  const run = spawnShoal(t, storage, ['desktop', '--port', '0'], { DISPLAY: ':99', SHOAL_BROWSER: fakeBrowser(dir), FAKE_BROWSER_OUT: path.join(dir, 'b.json'), FAKE_BROWSER_ROOT_CHECK: '1', SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  t.ok((await run.ready).startsWith('Running as root: started'), 'first line says so')
  t.is(await run.exited, 0)
})

test('desktop – a browser that fails to start: BROWSER_FAILED with its message, the URL printed, non-zero exit', async (t) => {
  const dir = await t.tmp()
  const storage = path.join(dir, 'store')
  await shoal(storage, ['init', '--json'])
  const run = spawnShoal(t, storage, ['desktop', '--port', '0', '--json'], { DISPLAY: ':99', SHOAL_BROWSER: fakeBrowser(dir), FAKE_BROWSER_OUT: path.join(dir, 'b.json'), FAKE_BROWSER_FAIL: '1', SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  const ready = JSON.parse(await run.ready)
  t.is(ready.window, 'failed')
  t.is(ready.error.code, 'BROWSER_FAILED')
  t.ok(ready.error.message.includes('exited with code 1') && ready.error.message.includes('Running as root without --no-sandbox'), ready.error.message)
  t.ok(/^http:\/\/127\.0\.0\.1:[0-9]+\/#token=/.test(ready.url), 'the URL to open instead')
  t.ok(run.stderr().includes('error: BROWSER_FAILED: '), 'reported on stderr')
  t.is(await run.stop('SIGINT'), 1, 'the node served until Ctrl-C, then exited non-zero')

  const missing = spawnShoal(t, storage, ['desktop', '--port', '0', '--json'], { DISPLAY: ':99', SHOAL_BROWSER: path.join(dir, 'no-such-browser'), SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  const r2 = JSON.parse(await missing.ready)
  t.is(r2.error.code, 'BROWSER_FAILED')
  t.ok(r2.error.message.startsWith('cannot start'), r2.error.message)
  t.is(await missing.stop('SIGTERM'), 1)
})

test('desktop – with no display it prints the URL; --install writes a .desktop entry', async (t) => {
  const dir = await t.tmp()
  const storage = path.join(dir, 'store')
  await shoal(storage, ['init', '--json'])
  const run = spawnShoal(t, storage, ['desktop', '--port', '0', '--json'], { DISPLAY: '', WAYLAND_DISPLAY: '', SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  const ready = JSON.parse(await run.ready)
  t.is(ready.window, 'no display')
  t.ok(/^http:\/\/127\.0\.0\.1:[0-9]+\/#token=/.test(ready.url))
  t.is(await run.stop('SIGINT'), 0)

  const install = await shoal(storage, ['desktop', '--install', '--json'], { XDG_DATA_HOME: path.join(dir, 'share') })
  t.is(install.code, 0, install.stderr)
  const entry = fs.readFileSync(path.join(dir, 'share', 'applications', 'shoal.desktop'), 'utf8')
  t.ok(entry.includes('[Desktop Entry]') && entry.includes('Exec=') && entry.includes(' desktop'))
})
