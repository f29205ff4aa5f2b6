/**
 * Shoal embedded in a Bare app (also runs on Node). After `npm run build`:
 *
 *   bare dist/examples/bare/main.js --storage DIR --bootstrap HOST:PORT [--name NAME] [--post TEXT] [--follow ID]...
 *
 * `--bootstrap` (or SHOAL_BOOTSTRAP) is required: a private DHT such as `shoal dht` prints, "none"
 * for LAN only, or "public" for the public HyperDHT. Prints one JSON object: my identity, the
 * posted message, what the sync brought, and the newest timeline items.
 */
import process from '#process'
import { ShoalError } from '../../src/errors.js'
import { runExample, type ExampleOptions } from './embed.js'

function parseArgs (argv: string[]): ExampleOptions {
  const opts: ExampleOptions = { storage: '', bootstrap: process.env.SHOAL_BOOTSTRAP, follow: [] }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = argv[++i]
    if (value === undefined) throw ShoalError.USAGE(`${flag} needs a value`)
    if (flag === '--storage') opts.storage = value
    else if (flag === '--bootstrap') opts.bootstrap = value
    else if (flag === '--name') opts.name = value
    else if (flag === '--post') opts.post = value
    else if (flag === '--follow') opts.follow!.push(value)
    else if (flag === '--timeout') opts.timeout = Number(value)
    else throw ShoalError.USAGE(`unknown flag ${flag}`)
  }
  if (opts.storage === '') throw ShoalError.USAGE('--storage DIR is required')
  return opts
}

const entry = process.argv.findIndex((a) => a.endsWith('main.js'))
try {
  const result = await runExample(parseArgs(process.argv.slice(entry + 1)))
  console.log(JSON.stringify(result))
} catch (err) {
  console.error(`${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`)
  process.exitCode = 1
}
