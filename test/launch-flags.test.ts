import test from 'brittle'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS } from '../src/cli/node-flags.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

test('launch flags – bin/shoal.js\'s shebang passes exactly the node flags of every launch', async (t) => {
  const first = fs.readFileSync(path.join(ROOT, 'bin', 'shoal.js'), 'utf8').split('\n')[0]
  t.is(first, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`)
})

test('launch flags – npm start runs the node with every launch flag', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.ok(pkg.scripts.start.startsWith(`node ${NODE_FLAGS.join(' ')} bin/shoal.js`), pkg.scripts.start)
})

test('launch flags – this node accepts every one (node refuses a flag it does not know)', async (t) => {
  const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', 'console.log(JSON.stringify(process.execArgv))'], { encoding: 'utf8' })
  t.is(run.status, 0, run.stderr)
  t.alike((JSON.parse(run.stdout) as string[]).slice(0, NODE_FLAGS.length), NODE_FLAGS)
  t.not(spawnSync(process.execPath, ['--heap-growing-percent-typo=50', '-e', '0']).status, 0, 'an unknown flag fails the launch')
})
