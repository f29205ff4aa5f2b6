import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { shoal, spawnShoal } from './helpers/cli.js'

const CLI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli')

/** Every file main.js loads before its first dynamic import, and every bare package it names. */
function staticGraph (entry: string): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const stack = [entry]
  while (stack.length > 0) {
    const file = stack.pop() as string
    if (files.has(file)) continue
    files.add(file)
    const src = fs.readFileSync(file, 'utf8')
    for (const m of src.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const spec = m[1] ?? m[2]
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(file), spec))
      else packages.add(spec)
    }
  }
  return { files, packages }
}

test('cli thin – the entry loads only the argument table, help, output, errors and the socket client', (t) => {
  const { files, packages } = staticGraph(path.join(CLI_DIR, 'main.js'))
  const names = [...files].map((f) => path.relative(path.dirname(CLI_DIR), f)).sort()
  t.alike(names, ['cli/args.js', 'cli/escape.js', 'cli/help.js', 'cli/main.js', 'cli/output.js', 'cli/suggest.js', 'errors.js', 'node/ipc-client.js', 'node/socket-path.js'])
  // '#fs', '#os', '#path', '#process' are package.json imports that name Node's own modules on Node; b4a is a few lines of JS.
  t.ok([...packages].every((p) => p.startsWith('node:') || ['#fs', '#os', '#path', '#process', 'b4a'].includes(p)), `only Node built-ins and b4a: ${[...packages].join(', ')}`)
})

test('cli thin – commands through a serving node, arguments still checked before anything runs', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  const id = (await shoal(a, ['init', '--name', 'alice', '--json'])).json.id as string
  const serving = spawnShoal(t, a, ['serve', '--json'])
  await serving.ready
  const who = await shoal(a, ['whoami', '--json'])
  t.is(who.code, 0, who.stderr)
  t.is(who.json.id, id)
  const posted = await shoal(a, ['post', 'through the socket', '--json'])
  t.is(posted.code, 0, posted.stderr)
  const feed = await shoal(a, ['feed', '--json'])
  t.alike(feed.json.items.map((i: any) => i.text), ['through the socket'])
  const cases: Array<[string[], number, string]> = [
    [['post', 'x', '--reply', 'not-a-ref', '--json'], 2, 'INVALID_ID'],
    [['post', 'x'.repeat(100_000), '--json'], 1, 'MESSAGE_TOO_LARGE'],
    [['thread', 'nope', '--json'], 2, 'INVALID_ID'],
    [['feed', '--limit', '-3', '--json'], 2, 'USAGE']
  ]
  for (const [args, code, errCode] of cases) {
    const r = await shoal(a, args)
    t.alike([r.code, r.json?.error?.code], [code, errCode], args.join(' ').slice(0, 40))
  }
  const after = await shoal(a, ['feed', '--json'])
  t.is(after.json.items.length, 1, 'nothing was written by the refused commands')
})
