import test, { type Test } from 'brittle'
import { parseBootstrap } from '../src/node/network.js'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { shoal } from './helpers/cli.js'
import { replicate, syncFeed } from './helpers/peers.js'
import { Shoal } from '../src/node/shoal.js'
import { NODE_FLAGS, execArg, entryArgs, entryValue } from '../src/cli/desktop.js'
import { closest, editDistance } from '../src/cli/suggest.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(ROOT, 'bin', 'shoal.js')

/** A storage path that does not exist yet: a command that must not open storage leaves it absent. */
async function fresh (t: any): Promise<string> {
  return path.join(await t.tmp(), 'never-created')
}

async function initPair (t: any): Promise<{ a: string, ida: string, idb: string }> {
  const a = path.join(await t.tmp(), 'a')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'])).json.id
  const idb = (await shoal(path.join(await t.tmp(), 'b'), ['init', '--json'])).json.id
  return { a, ida, idb }
}

test('cli usage – "help COMMAND" and "COMMAND --help" give that command\'s page with placeholders and where to get them', async (t) => {
  const dir = await fresh(t)
  for (const cmd of ['post', 'react', 'follow', 'feed', 'thread', 'sync']) {
    const a = await shoal(dir, ['help', cmd])
    const b = await shoal(dir, [cmd, '--help'])
    t.is(a.code, 0, `help ${cmd} exits 0`)
    t.is(a.stdout, b.stdout, `help ${cmd} = ${cmd} --help`)
    t.ok(a.stdout.startsWith(`usage: shoal ${cmd}`), `${cmd}: usage line first`)
  }
  const post = (await shoal(dir, ['help', 'post'])).stdout
  t.ok(post.includes('usage: shoal post TEXT [--reply REF] [--cw TEXT]'), 'real placeholders in the usage line')
  t.ok(/REF +a message ref .*"shoal feed"/.test(post), 'says where a REF comes from')
  const react = (await shoal(dir, ['react', '-h'])).stdout
  t.ok(react.includes('usage: shoal react REF EMOJI [--remove]'))
  const follow = (await shoal(dir, ['help', 'follow'])).stdout
  t.ok(/ID +an identity id .*"shoal whoami"/.test(follow), 'says where an ID comes from')
  t.ok((await shoal(dir, ['help', 'sync'])).stdout.includes('--timeout SECONDS'), 'value placeholders for flags')
  const top = await shoal(dir, ['help'])
  t.ok(top.stdout.includes('shoal help COMMAND'), 'the overview points to per-command help')
  const json = await shoal(dir, ['help', 'feed', '--json'])
  t.ok(json.json.usage.startsWith('usage: shoal feed'), 'one JSON document with --json')
  const bad = await shoal(dir, ['help', 'thred', '--json'])
  t.is(bad.code, 2)
  t.is(bad.json.error.code, 'USAGE')
  t.ok(bad.json.error.message.includes('did you mean "thread"?'))
  t.absent(fs.existsSync(dir), 'help opens no storage')
})

test('cli usage – --version prints the package version', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const dir = await fresh(t)
  const v = await shoal(dir, ['--version'])
  t.is(v.code, 0)
  t.is(v.stdout, `shoal ${pkg.version}\n`)
  t.alike((await shoal(dir, ['--version', '--json'])).json, { version: pkg.version })
  t.is((await shoal(dir, ['feed', '--version'])).stdout, `shoal ${pkg.version}\n`, 'anywhere on the line')
  t.is((await shoal(dir, ['--', '--version'])).stdout, `shoal ${pkg.version}\n`, 'after npx\'s "--"')
  t.absent(fs.existsSync(dir))
})

test('cli usage – did you mean: mistyped commands and flags', async (t) => {
  const dir = await fresh(t)
  const cases: Array<[string[], string]> = [
    [['fed'], 'unknown command "fed"; did you mean "feed"?'],
    [['folow', 'x'], 'did you mean "follow"?'],
    [['stauts'], 'did you mean "status"?'],
    [['feed', '--limt', '3'], 'unknown flag --limt for "shoal feed"; did you mean --limit?'],
    [['post', 'hi', '--replly', 'x'], 'did you mean --reply?'],
    [['feed', '--jsno'], 'did you mean --json?'],
    [['--verison'], 'did you mean --version?'],
    [['sync', '--timout=5'], 'did you mean --timeout?']
  ]
  for (const [args, text] of cases) {
    const r = await shoal(dir, [...args, '--json'])
    t.is(r.code, 2, `${args.join(' ')} exits 2`)
    t.is(r.json?.error?.code, 'USAGE', `${args.join(' ')} → USAGE`)
    t.ok(r.stderr.includes(text), `${args.join(' ')}: ${r.stderr.trim()}`)
  }
  const none = await shoal(dir, ['xylophone', '--json'])
  t.is(none.code, 2)
  t.absent(none.stderr.includes('did you mean'), 'nothing near: no guess')
  t.is(editDistance('stauts', 'status'), 1, 'a swap is one edit')
  t.is(closest('x'.repeat(100000), ['feed']), null, 'a huge argument is cut before comparing')
  t.absent(fs.existsSync(dir))
})

test('cli usage – out-of-range and malformed values are usage errors before storage or network', async (t) => {
  const cases: Array<[string[], string]> = [
    [['serve', '--port', '99999'], '--port must be a whole number from 0 to 65535'],
    [['desktop', '--port', '70000'], '--port'],
    [['dht', '--port', '65536'], '--port'],
    [['feed', '--limit', '0'], '--limit must be a whole number from 1 to 500'],
    [['feed', '--limit', '501'], '--limit'],
    [['feed', '--limit', '1e3'], '--limit'],
    [['mentions', '--limit', '-5'], '--limit'],
    [['sync', '--timeout', 'abc'], '--timeout must be a whole number from 1 to 86400'],
    [['sync', '--timeout', '0'], '--timeout'],
    [['sync', '--hops', '-1'], '--hops must be a whole number from 0 to 6'],
    [['serve', '--hops', '7'], '--hops'],
    [['serve', '--hops', ' 2'], '--hops'],
    [['sync', '--bootstrap', 'nonsense'], 'bootstrap'],
    [['serve', '--bootstrap', 'host:99999'], 'bootstrap'],
    [['desktop', '--install', '--bootstrap', 'nonsense'], 'bootstrap'],
    // Blank is never "the public DHT" (checked where no network is joined either way).
    [['desktop', '--install', '--bootstrap', ''], 'set but empty'],
    [['desktop', '--install', '--bootstrap', '  '], 'set but empty'],
    [['dht', '--host', '999.1.1.1'], '--host'],
    [['dht', '--host', '0.0.0.0'], '--host'],
    [['json', '--bogus'], 'unknown command']
  ]
  for (const [args, text] of cases) {
    const dir = await fresh(t)
    const r = await shoal(dir, [...args, '--json'], { XDG_DATA_HOME: path.join(path.dirname(dir), 'share') })
    t.is(r.code, 2, `${args.join(' ')} exits 2`)
    t.is(r.json?.error?.code, 'USAGE', `${args.join(' ')} → USAGE`)
    t.ok(r.stderr.includes(text), `${args.join(' ')}: ${r.stderr.trim()}`)
    t.absent(fs.existsSync(dir), `${args.join(' ')}: no storage opened`)
    t.absent(fs.existsSync(path.join(path.dirname(dir), 'share')), `${args.join(' ')}: no menu entry written`)
  }
})

test('cli usage – SHOAL_BOOTSTRAP set but empty is a usage error, not the public DHT', async (t) => {
  t.alike(parseBootstrap(undefined), { kind: 'public' }, 'unset: the public DHT')
  for (const blank of ['', ' ', '\t']) t.exception(() => parseBootstrap(blank), /USAGE/, `${JSON.stringify(blank)}: USAGE`)
  t.alike(parseBootstrap('none'), { kind: 'none' })
  const dir = await fresh(t)
  const share = path.join(path.dirname(dir), 'share')
  const r = await shoal(dir, ['desktop', '--install', '--json'], { SHOAL_BOOTSTRAP: '', XDG_DATA_HOME: share })
  t.is(r.json?.error?.code, 'USAGE', 'an empty SHOAL_BOOTSTRAP refuses the menu entry (it would start on the public DHT)')
  t.absent(fs.existsSync(share), 'no menu entry written')
})

test('cli usage – malformed ids, refs and cursors are usage errors before storage is opened', async (t) => {
  const cases: string[][] = [['follow', 'yyyy'], ['thread', 'not-a-ref'], ['feed', '--before', 'garbage'], ['feed', '--author', 'x'], ['post', 'hi', '--reply', 'nope']]
  for (const args of cases) {
    const dir = await fresh(t)
    const r = await shoal(dir, [...args, '--json'])
    t.is(r.code, 2, `${args.join(' ')} exits 2`)
    t.is(r.json?.error?.code, 'INVALID_ID', `${args.join(' ')} → INVALID_ID`)
    t.absent(fs.existsSync(dir), `${args.join(' ')}: no storage opened`)
  }
})

test('cli usage – a flag missing its value gets Shoal\'s own message', async (t) => {
  const dir = await fresh(t)
  const cases: Array<[string[], string]> = [
    [['feed', '--limit'], '--limit needs a value: --limit N'],
    [['feed', '--author', '--json'], '--author needs a value: --author ID'],
    [['post', 'hi', '--reply'], '--reply needs a value: --reply REF'],
    [['init', '--name'], '--name needs a value: --name NAME'],
    [['feed', '--storage'], '--storage needs a value: --storage DIR'],
    [['feed', '--json=yes'], '--json takes no value']
  ]
  for (const [args, text] of cases) {
    const r = await shoal(dir, args)
    t.is(r.code, 2, `${args.join(' ')} exits 2`)
    t.ok(r.stderr.startsWith(`error: USAGE: ${text}`), `${args.join(' ')}: ${r.stderr.trim()}`)
    t.absent(r.stderr.includes('Option \''), 'not Node\'s parseArgs wording')
  }
  const dash = path.join(await t.tmp(), 'dash')
  await shoal(dash, ['init', '--json'])
  const p = await shoal(dash, ['post', '--json', '--', '-1 is a number'])
  t.is(p.code, 0, 'text that starts with "-" after --')
  t.is((await shoal(dash, ['feed', '--json'])).json.items[0].text, '-1 is a number')
  t.is((await shoal(dash, ['post', '--json', '--', '--version'])).code, 0, 'after --, even --version is text')
  t.is((await shoal(dash, ['feed', '--json'])).json.items[0].text, '--version')
  const neg = await shoal(dash, ['post', '-1', '--json'])
  t.is(neg.code, 2)
  t.ok(neg.stderr.includes('put -- before text that starts with "-"'))
})

test('cli usage – blank posts and edits are refused as in the app (USAGE, exit 2), nothing written', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  await shoal(a, ['init', '--json'])
  const ref = (await shoal(a, ['post', 'real text', '--json'])).json.id
  const before = (await shoal(a, ['feed', '--json'])).json
  for (const blank of ['', '   ', '\n\t', '\u00a0\u2003']) {
    const p = await shoal(a, ['post', blank, '--json'])
    t.is(p.code, 2, `post ${JSON.stringify(blank)} exits 2`)
    t.is(p.json.error.code, 'USAGE')
    t.ok(p.json.error.message.includes('TEXT is blank'))
    const e = await shoal(a, ['edit', ref, blank, '--json'])
    t.is(e.code, 2, `edit ${JSON.stringify(blank)} exits 2`)
    t.is(e.json.error.code, 'USAGE')
  }
  const r = await shoal(a, ['post', ' ', '--cw', 'spoilers', '--json'])
  t.is(r.code, 2, 'a content warning does not make blank text a post')
  t.alike((await shoal(a, ['feed', '--json'])).json, before, 'nothing written')
  t.is((await shoal(a, ['reindex', '--json'])).json.messages, 1, 'only the one real post on the feed')
})

test('cli usage – react --remove of a reaction that does not exist is NOT_REACTED', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  await shoal(a, ['init', '--json'])
  const ref = (await shoal(a, ['post', 'hello', '--json'])).json.id
  const none = await shoal(a, ['react', ref, '👍', '--remove', '--json'])
  t.is(none.code, 1)
  t.is(none.json.error.code, 'NOT_REACTED')
  t.ok(none.stderr.includes(`no 👍 reaction on ${ref}`))
  t.is((await shoal(a, ['react', ref, '👍', '--json'])).code, 0)
  const other = await shoal(a, ['react', ref, '🎉', '--remove', '--json'])
  t.is(other.json.error.code, 'NOT_REACTED', 'another emoji is not the one I put')
  t.is((await shoal(a, ['react', ref, '👍', '--remove', '--json'])).code, 0, 'my reaction is removed')
  t.alike((await shoal(a, ['feed', '--json'])).json.items[0].reactions, {})
  const twice = await shoal(a, ['react', ref, '👍', '--remove', '--json'])
  t.is(twice.json.error.code, 'NOT_REACTED', 'removing twice')
  t.is((await shoal(a, ['reindex', '--json'])).json.messages, 3, 'post, reaction, removal: the refused ones wrote nothing')
})

test('cli usage – follow, unfollow, block and unblock print whom; following someone I block is BLOCKED', async (t) => {
  const dir = await t.tmp()
  const a = path.join(dir, 'a')
  const b = path.join(dir, 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'])).json.id
  const idb = (await shoal(b, ['init', '--name', 'bob', '--json'])).json.id
  const c = path.join(dir, 'c')
  const idc = (await shoal(c, ['init', '--json'])).json.id
  t.ok(ida)
  { // alice learns bob's name from his feed
    const sa = new Shoal(a)
    const sb = new Shoal(b)
    await sa.ready()
    await sb.ready()
    await pull(t, sa, sb)
    await sa.close()
    await sb.close()
  }
  const f = await shoal(a, ['follow', idb])
  t.is(f.code, 0, f.stderr)
  t.is(f.stdout, `following bob (${idb})\n`)
  const fj = await shoal(a, ['unfollow', idb, '--json'])
  t.alike(fj.json.who, { id: idb, name: 'bob' })
  t.ok(typeof fj.json.id === 'string', 'and the ref of the record written')
  t.is((await shoal(a, ['block', idb])).stdout, `blocked bob (${idb})\n`)
  t.is((await shoal(a, ['block', idc])).stdout, `blocked ${idc}\n`, 'no name known: the id alone')

  const count = (await shoal(a, ['reindex', '--json'])).json.messages
  const refused = await shoal(a, ['follow', idb, '--json'])
  t.is(refused.code, 1)
  t.is(refused.json.error.code, 'BLOCKED')
  t.ok(refused.stderr.startsWith(`error: BLOCKED: you block ${idb}; unblock them first`))
  t.is((await shoal(a, ['reindex', '--json'])).json.messages, count, 'nothing written')
  t.is((await shoal(a, ['profile', '--json'])).json.following, 0)

  t.is((await shoal(a, ['unblock', idb])).stdout, `unblocked bob (${idb})\n`)
  t.is((await shoal(a, ['follow', idb])).code, 0, 'after unblocking, following works')
  t.is((await shoal(a, ['profile', '--json'])).json.following, 1)
})

test('cli usage – profile counts, text and --json, leave out someone I block', async (t) => {
  const dir = await t.tmp()
  const a = path.join(dir, 'a')
  const nodes: Shoal[] = []
  { // alice holds bob's and zed's feeds: bob follows zed and alice, zed follows bob
    const sa = (await Shoal.init(a, { name: 'alice' })).shoal
    const sb = (await Shoal.init(path.join(dir, 'b'), { name: 'bob' })).shoal
    const sz = (await Shoal.init(path.join(dir, 'z'), { name: 'zed' })).shoal
    nodes.push(sb, sz)
    await sb.follow(sz.identity)
    await sb.follow(sa.identity)
    await sz.follow(sb.identity)
    for (const other of [sb, sz]) await pull(t, sa, other)
    await sa.close()
    for (const n of nodes) await n.close()
  }
  const [idb, idz] = nodes.map((n) => n.id)
  const before = await shoal(a, ['profile', idb, '--json'])
  t.alike([before.json.following, before.json.followers], [2, 1], 'bob follows 2, 1 follows him')
  t.is((await shoal(a, ['block', idz])).code, 0)
  const json = await shoal(a, ['profile', idb, '--json'])
  t.alike([json.json.following, json.json.followers], [1, 0], '--json: zed counts neither way')
  const text = await shoal(a, ['profile', idb])
  t.ok(text.stdout.includes('\nfollowing 1\nfollowers 0'), text.stdout)
})

test('cli usage – status with no node running says so and shows local state', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  const id = (await shoal(a, ['init', '--json'])).json.id
  const s = await shoal(a, ['status'])
  t.is(s.code, 0, s.stderr)
  t.ok(s.stdout.startsWith('no node is running on this storage'), s.stdout)
  t.ok(s.stdout.includes(id), 'local state: my identity and feed')
  const j = await shoal(a, ['status', '--json'])
  t.is(j.json.running, false)
  t.alike(j.json.peers, [])
})

test('cli usage – reply refs and author ids are printed whole', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  const id = (await shoal(a, ['init', '--name', 'alice', '--json'])).json.id
  const root = (await shoal(a, ['post', 'root', '--json'])).json.id
  const reply = (await shoal(a, ['post', 'reply', '--reply', root, '--json'])).json.id
  for (const args of [['feed'], ['thread', reply]]) {
    const out = (await shoal(a, args)).stdout
    t.ok(out.includes(`reply to ${root}`), `${args[0]}: whole parent ref`)
    t.ok(out.includes(`id ${reply}`), `${args[0]}: whole ref`)
    t.ok(out.includes(`alice (${id})`), `${args[0]}: whole author id`)
    t.absent(out.includes('…'), `${args[0]}: nothing cut`)
  }
})

/** Splits an Exec value the way a freedesktop launcher does (string escapes, then quoting, then %%). */
function parseExec (value: string): string[] {
  const unescaped = value.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', s: ' ', '\\': '\\' } as Record<string, string>)[c] ?? `\\${c}`)
  const args: string[] = []
  let i = 0
  while (i < unescaped.length) {
    if (unescaped[i] === ' ') { i++; continue }
    let arg = ''
    if (unescaped[i] === '"') {
      i++
      while (unescaped[i] !== '"') {
        if (i >= unescaped.length) throw new Error('unterminated quote')
        if (unescaped[i] === '\\') i++
        arg += unescaped[i++]
      }
      i++
    } else {
      while (i < unescaped.length && unescaped[i] !== ' ') arg += unescaped[i++]
    }
    args.push(arg.replace(/%%/g, '%'))
  }
  return args
}

test('cli usage – desktop --install keeps --storage and SHOAL_BOOTSTRAP in a properly quoted Exec line', async (t) => {
  const dir = await t.tmp()
  const share = path.join(dir, 'share')
  const storage = path.join(dir, 'my "odd" $HOME `x` 100% it\'s \\ back')
  const r = await shoal(null, ['desktop', '--install', '--storage', storage, '--hops', '3', '--json'], { XDG_DATA_HOME: share, SHOAL_BOOTSTRAP: '127.0.0.1:49737' })
  t.is(r.code, 0, r.stderr)
  const entry = fs.readFileSync(path.join(share, 'applications', 'shoal.desktop'), 'utf8')
  const exec = entry.split('\n').find((l) => l.startsWith('Exec='))?.slice(5) ?? ''
  t.alike(parseExec(exec), [process.execPath, ...NODE_FLAGS, BIN, 'desktop', '--storage', storage, '--bootstrap', '127.0.0.1:49737', '--hops', '3'], 'round-trips through the launcher\'s rules')
  t.alike(r.json.exec, parseExec(exec))
  t.absent(fs.existsSync(storage), 'installing opens no storage')

  const env = await shoal(path.join(dir, 'env store'), ['desktop', '--install'], { XDG_DATA_HOME: share, SHOAL_BOOTSTRAP: 'none' })
  t.is(env.code, 0, env.stderr)
  const exec2 = fs.readFileSync(path.join(share, 'applications', 'shoal.desktop'), 'utf8').split('\n').find((l) => l.startsWith('Exec='))?.slice(5) ?? ''
  t.alike(parseExec(exec2).slice(2 + NODE_FLAGS.length), ['desktop', '--storage', path.join(dir, 'env store'), '--bootstrap', 'none'], '$SHOAL_STORAGE kept too')

  t.is(execArg('plain/path-1.0'), 'plain/path-1.0', 'nothing to quote')
  t.is(execArg('a b'), '"a b"')
  t.is(entryValue(execArg('new\nline')), '"new\\nline"', 'a newline is a string escape')
  t.alike(parseExec(entryValue(entryArgs({ storage: 'x\ny', bootstrap: null, hops: null, port: null, keepRunning: true }, '/n', '/b').map(execArg).join(' '))),
    ['/n', ...NODE_FLAGS, '/b', 'desktop', '--storage', 'x\ny', '--keep-running'])
})

test('cli usage – nested subcommands: a table key "group sub" parses, helps and suggests', async (t) => {
  const { COMMANDS, parse } = await import('../src/cli/args.js')
  const { commandHelp } = await import('../src/cli/help.js')
  COMMANDS['zz send'] = { summary: 'send a thing', positionals: ['ID', 'TEXT'], flags: { to: { type: 'string', value: 'ID', help: 'whom' } } }
  COMMANDS['zz list'] = { summary: 'list things', positionals: [], flags: { limit: { type: 'int', value: 'N', min: 1, max: 9, help: 'how many' } } }
  t.teardown(() => { delete COMMANDS['zz send']; delete COMMANDS['zz list'] })
  const p = parse(['--storage', '/x', 'zz', 'send', 'someone', 'hi there', '--json'])
  t.is(p.command, 'zz send')
  t.alike(p.positionals, ['someone', 'hi there'])
  t.is(p.storage, '/x')
  t.is(parse(['zz', 'list', '--limit', '3']).flags.limit, '3')
  t.is(parse(['zz', '--help']).command, 'help', 'the group\'s help')
  t.is(parse(['help', 'zz', 'send']).positionals[0], 'zz send')
  t.ok(commandHelp('zz send').startsWith('usage: shoal zz send ID TEXT [--to ID]'))
  t.ok(commandHelp('zz').includes('zz list'), 'the group lists its subcommands')
  t.exception(() => parse(['zz', 'sned', 'a', 'b']), /did you mean "shoal zz send"\?/)
  t.exception(() => parse(['zz']), /needs one of: send, list/)
  t.exception(() => parse(['zz', 'list', '--limit', '10']), /--limit must be a whole number from 1 to 9/)
})

/** `to` fetches and indexes all of `from`'s feed over one in-process replication stream, closed after. */
async function pull (t: Test, to: Shoal, from: Shoal): Promise<void> {
  const stop = replicate(to, from, t)
  try {
    await syncFeed(to, from)
  } finally {
    stop()
  }
}
