// Node only (it spawns processes): the example's real entry point, run by the `bare` binary from
// npm against a local testnet, as a Bare app would run it.
import test from 'brittle'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BARE = path.join(ROOT, 'node_modules', '.bin', 'bare')
const MAIN = path.join(ROOT, 'dist', 'examples', 'bare', 'main.js')

function bare (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(BARE, [MAIN, ...args], { env: { ...process.env, SHOAL_BOOTSTRAP: '' }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

test('bare example – main.js under the bare binary syncs with a Node peer over a local testnet', async (t) => {
  const testnet = await createLocalDht(t)
  const alice = await createSwarmPeer(t, testnet, { name: 'alice' })
  await alice.post({ text: 'hello bare' })
  const aliceId = (await alice.whoami()).id
  const storage = await t.tmp()
  const { host, port } = testnet.bootstrap[0]

  const run = await bare(['--storage', storage, '--bootstrap', `${host}:${port}`, '--name', 'bob', '--post', 'hi from bare', '--follow', aliceId])
  t.is(run.code, 0, run.stderr)
  if (run.code !== 0) return // its stderr says why; no JSON to read
  const out = JSON.parse(run.stdout) as { id: string, synced: { peers: number }, timeline: Array<{ text: string, author: string }> }
  t.is(out.synced.peers, 1)
  t.alike(out.timeline.map((i) => i.text).sort(), ['hello bare', 'hi from bare'])
})

test('bare example – main.js refuses to pick a DHT for you', async (t) => {
  const run = await bare(['--storage', await t.tmp()])
  t.is(run.code, 1)
  t.ok(run.stderr.startsWith('USAGE:'), run.stderr)
})
