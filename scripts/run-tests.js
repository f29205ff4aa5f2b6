// npm test / npm run test:bare — runs compiled brittle test files one process each (a test that
// leaks a timer or a socket cannot stall or slow the files after it), prints each file's TAP as
// it comes, and ends with one line summing brittle's own totals:
//   node scripts/run-tests.js node [NAME ...]   → `# tests = PASS/TOTAL pass` (every dist/test file)
//   node scripts/run-tests.js bare [NAME ...]   → `# bare tests = PASS/TOTAL pass` (the portable suites)
// A file that dies before its totals counts its printed results plus one failure for the crash.
// Exit status 1 on any failure. Run after `tsc -p .`.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TIMEOUT = 180000

// Portable layers under Bare: schema, views, swarm, fuzz, DM and rooms core, the wire, LAN packets,
// the Bare example. (The Node-only files spawn processes, drive a browser or use the CLI.)
const BARE_SUITES = [
  'schema', 'device-feed', 'views', 'views-keys', 'views-block', 'views-cost', 'reaction-kinds', 'views-order', 'views-home', 'views-follows', 'fuzz',
  'swarm', 'key-index', 'wire-caps', 'wire-vectors', 'wire-client', 'peer-handshake', 'peer-abuse', 'sync-timeout', 'swarm-key', 'swarm-discovery', 'mdns-packet', 'lan-core',
  'dm-box', 'dm-keys', 'dm-ratchet', 'dm-fuzz', 'dm-vectors', 'dm-reference',
  'room-core', 'room-wire-caps', 'room-invites', 'room-permissions', 'room-removal', 'room-leave', 'room-fuzz', 'room-posts', 'room-apply-runs', 'room-run-fallback', 'room-rules-table',
  'bare-example'
]

const [runtime, ...only] = process.argv.slice(2)
if (runtime !== 'node' && runtime !== 'bare') {
  console.error('usage: node scripts/run-tests.js node|bare [NAME ...]')
  process.exit(2)
}
const all = runtime === 'bare'
  ? BARE_SUITES
  : fs.readdirSync(path.join(ROOT, 'dist', 'test')).filter((f) => f.endsWith('.test.js')).map((f) => f.slice(0, -'.test.js'.length)).sort()
const names = only.length > 0 ? only : all
const label = runtime === 'bare' ? '# bare tests' : '# tests'

let pass = 0
let total = 0
const failed = []
const failures = []
for (const name of names) {
  const file = path.join(ROOT, 'dist', 'test', `${name}.test.js`)
  const { code, out } = runtime === 'bare'
    ? await run(path.join(ROOT, 'node_modules', '.bin', 'bare'), [path.join(ROOT, 'test', 'bare', 'run-file.js'), String(TIMEOUT), file])
    : await run(process.execPath, [path.join(ROOT, 'node_modules', 'brittle', 'brittle-node.js'), '-t', String(TIMEOUT), path.relative(ROOT, file)])
  const totals = /^# tests = (\d+)\/(\d+) pass/m.exec(out)
  const p = totals ? Number(totals[1]) : (out.match(/^ok \d+/gm) ?? []).length
  let n = totals ? Number(totals[2]) : p + (out.match(/^not ok \d+/gm) ?? []).length + 1 // +1: the crash itself
  if (code !== 0 && p === n) n++ // exited badly after passing tests (an error at teardown)
  pass += p
  total += n
  if (p !== n) { failed.push(name); failures.push({ name, detail: failureDetail(out) }) }
  console.log(`${label.slice(0, -'tests'.length)}file ${name}: ${p}/${n} pass`)
}
// The failures again at the end, so a log cut to its tail (CI) still shows what failed and why.
for (const { name, detail } of failures) console.log(`${label.slice(0, -'tests'.length)}failure in ${name}:\n${detail}`)
if (failed.length > 0) console.log(`${label.slice(0, -'tests'.length)}failed: ${failed.join(', ')}`)
console.log(`${label} = ${pass}/${total} pass`)
process.exitCode = failed.length > 0 ? 1 : 0

/**
 * A failed file's `not ok` lines with their YAML diagnostics and the test headers they sit under
 * (the header carries a random test's seed), or, if it printed none (a crash), its last 30 lines.
 */
function failureDetail (out) {
  const lines = out.split('\n')
  const keep = []
  let header = null
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('# ')) header = lines[i]
    if (!/^\s*not ok \d+/.test(lines[i])) continue
    if (header !== null) { keep.push(header); header = null }
    keep.push(lines[i])
    const indent = /^\s*/.exec(lines[i])[0].length
    while (i + 1 < lines.length && (/^\s*$/.test(lines[i + 1]) === false) && /^\s*/.exec(lines[i + 1])[0].length > indent) keep.push(lines[++i])
  }
  return (keep.length > 0 ? keep : lines.filter((l) => l.trim() !== '').slice(-30)).map((l) => '  ' + l).join('\n')
}

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
