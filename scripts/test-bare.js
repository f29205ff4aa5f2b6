// npm run test:bare — runs the portable suites under Bare (the `bare` from npm), one compiled test
// file at a time through test/bare/run-file.js, and sums brittle's TAP totals into one last line
// `# bare tests = PASS/TOTAL pass` (exit 1 on any failure). Run from Node after `tsc -p .`.
// Usage: node scripts/test-bare.js [NAME ...]   (default: every suite below)
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BARE = path.join(ROOT, 'node_modules', '.bin', 'bare')
const TIMEOUT = 180000

// Portable layers: schema, views, swarm, fuzz, DM and rooms core, the wire, LAN packets, the Bare example.
const SUITES = [
  'schema', 'views', 'views-keys', 'views-block', 'views-cost', 'views-order', 'fuzz',
  'swarm', 'wire-caps', 'wire-vectors', 'wire-client', 'peer-handshake', 'peer-abuse', 'mdns-packet', 'lan-core',
  'dm-box', 'dm-keys', 'dm-ratchet', 'dm-fuzz', 'dm-vectors', 'dm-reference',
  // room-fuzz is left out: its convergence check stalls now and then on Node too (a rebuilt
  // replica stops short of one writer, depending on the random keys), which is a rooms issue.
  'room-core', 'room-invites', 'room-permissions', 'room-removal',
  'bare-example'
]

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : SUITES
let pass = 0
let total = 0
const failed = []
for (const name of names) {
  const file = path.join(ROOT, 'dist', 'test', `${name}.test.js`)
  const { code, out } = await run(BARE, [path.join(ROOT, 'test', 'bare', 'run-file.js'), String(TIMEOUT), file])
  const totals = /^# tests = (\d+)\/(\d+) pass/m.exec(out)
  let p = totals ? Number(totals[1]) : (out.match(/^ok \d+/gm) ?? []).length
  let n = totals ? Number(totals[2]) : p + (out.match(/^not ok \d+/gm) ?? []).length + 1 // +1: the crash itself
  if (code !== 0 && p === n) n++ // exited badly after passing tests (an error at teardown)
  pass += p
  total += n
  if (p !== n) failed.push(name)
  console.log(`# bare ${name}: ${p}/${n} pass`)
}
if (failed.length > 0) console.log(`# bare failed: ${failed.join(', ')}`)
console.log(`# bare tests = ${pass}/${total} pass`)
process.exitCode = failed.length > 0 ? 1 : 0

function run (cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d) })
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d) })
    child.on('error', (err) => { out += String(err); resolve({ code: 1, out }) })
    child.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}
