import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { shoal, spawnShoal } from './helpers/cli.js'

const FAKE = fileURLToPath(new URL('./fixtures/fake-browser.js', import.meta.url))

test('desktop – opens an app window with a launch code (never the token) and stops when it closes', async (t) => {
  const dir = await t.tmp()
  const storage = path.join(dir, 'store')
  const out = path.join(dir, 'browser.json')
  const browser = path.join(dir, 'chromium')
  fs.writeFileSync(browser, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE)} "$@"\n`, { mode: 0o755 })
  await shoal(storage, ['init', '--name', 'alice', '--json'])
  const run = spawnShoal(t, storage, ['desktop', '--port', '0', '--json'], { DISPLAY: ':99', SHOAL_BROWSER: browser, FAKE_BROWSER_OUT: out, SHOAL_BOOTSTRAP: '127.0.0.1:9' })
  const ready = JSON.parse(await run.ready)
  t.is(ready.window, browser, 'opened the configured browser')
  t.is(await run.exited, 0, 'the node stopped when the window closed')
  const seen = JSON.parse(fs.readFileSync(out, 'utf8'))
  const app = seen.argv.find((a: string) => a.startsWith('--app='))
  t.ok(app.includes('#launch='), 'the window opens the launch URL')
  t.absent(seen.argv.join(' ').includes(seen.token), 'the token is not on the browser\'s command line')
  t.is(seen.status, 200, 'the launch code was traded for the token')
  t.ok(ready.url.endsWith(`#token=${seen.token}`), 'the same token the printed URL holds')
  t.ok(seen.argv.some((a: string) => a === `--user-data-dir=${path.join(storage, 'browser-profile')}`), 'its own profile in the storage')
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
