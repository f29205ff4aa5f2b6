/**
 * Command-line parsing: one table of commands with their flags and positionals. Anything the
 * table does not allow (an unknown flag, a missing argument, a non-number limit) is a USAGE error.
 */
import { parseArgs } from 'node:util'
import { ShoalError } from '../errors.js'

type FlagSpec = { type: 'string' | 'boolean', short?: string }

export interface CommandSpec {
  summary: string
  positionals: string[]
  optionalPositionals?: number
  flags: Record<string, FlagSpec>
}

const GLOBAL: Record<string, FlagSpec> = {
  storage: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

export const COMMANDS: Record<string, CommandSpec> = {
  init: { summary: 'create an identity (or restore one) and this device\'s feed; --new-feed replaces a lost device feed', positionals: [], flags: { name: { type: 'string' }, restore: { type: 'string' }, 'new-feed': { type: 'boolean' } } },
  whoami: { summary: 'show my identity, name and device feeds', positionals: [], flags: {} },
  post: { summary: 'write a post or a reply', positionals: ['TEXT'], flags: { reply: { type: 'string' }, cw: { type: 'string' } } },
  react: { summary: 'react to a message with an emoji', positionals: ['REF', 'EMOJI'], flags: { remove: { type: 'boolean' } } },
  edit: { summary: 'edit one of my posts', positionals: ['REF', 'TEXT'], flags: {} },
  delete: { summary: 'delete one of my posts', positionals: ['REF'], flags: {} },
  follow: { summary: 'follow an identity', positionals: ['ID'], flags: {} },
  unfollow: { summary: 'stop following an identity', positionals: ['ID'], flags: {} },
  block: { summary: 'block an identity', positionals: ['ID'], flags: {} },
  unblock: { summary: 'unblock an identity', positionals: ['ID'], flags: {} },
  profile: { summary: 'show a profile, or set my name and bio', positionals: ['ID'], optionalPositionals: 1, flags: { name: { type: 'string' }, bio: { type: 'string' } } },
  feed: { summary: 'read the home timeline (or one author\'s posts)', positionals: [], flags: { limit: { type: 'string' }, before: { type: 'string' }, author: { type: 'string' } } },
  thread: { summary: 'read a thread (a page of replies; --before continues it)', positionals: ['REF'], flags: { limit: { type: 'string' }, before: { type: 'string' } } },
  mentions: { summary: 'posts that mention me', positionals: [], flags: { limit: { type: 'string' } } },
  reindex: { summary: 'rebuild every view from the feeds', positionals: [], flags: {} },
  serve: { summary: 'run the node and its local API until Ctrl-C (other commands then talk to it)', positionals: [], flags: { bootstrap: { type: 'string' }, hops: { type: 'string' }, port: { type: 'string' } } },
  desktop: { summary: 'run the node and open the app in a window', positionals: [], flags: { bootstrap: { type: 'string' }, hops: { type: 'string' }, port: { type: 'string' }, 'keep-running': { type: 'boolean' }, install: { type: 'boolean' } } },
  sync: { summary: 'replicate everything in scope until caught up, then exit', positionals: [], flags: { timeout: { type: 'string' }, bootstrap: { type: 'string' }, hops: { type: 'string' } } },
  status: { summary: 'peers and per-identity sync progress', positionals: [], flags: {} },
  dht: { summary: 'run a small private DHT and print its bootstrap address', positionals: [], flags: { host: { type: 'string' }, port: { type: 'string' } } }
}

export interface Parsed {
  command: string
  positionals: string[]
  flags: Record<string, string | boolean | undefined>
  storage: string | undefined
  json: boolean
  help: boolean
}

export function parse (argv: string[]): Parsed {
  const json = argv.includes('--json')
  const command = findCommand(argv)
  const wantsHelp = argv.includes('--help') || argv.includes('-h')
  if (command === undefined || command === 'help') {
    return { command: 'help', positionals: [], flags: {}, storage: undefined, json, help: true }
  }
  const spec = COMMANDS[command]
  if (spec === undefined) throw ShoalError.USAGE(`unknown command "${command}" (see "shoal help")`)
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    const rest = [...argv]
    rest.splice(argv.indexOf(command), 1)
    const out = parseArgs({ args: rest, options: { ...GLOBAL, ...spec.flags }, allowPositionals: true, strict: true })
    values = out.values as Record<string, string | boolean | undefined>
    positionals = out.positionals
  } catch (err) {
    const first = (err as Error).message.split('. ')[0]
    throw new ShoalError('USAGE', `${first} (see "shoal ${command} --help")`, { cause: err })
  }
  if (!wantsHelp) {
    const required = spec.positionals.length - (spec.optionalPositionals ?? 0)
    if (positionals.length < required || positionals.length > spec.positionals.length) {
      throw ShoalError.USAGE(`usage: ${usageLine(command)}${positionals.length > spec.positionals.length ? ' (quote text that has spaces)' : ''}`)
    }
  }
  return { command, positionals, flags: values, storage: values.storage as string | undefined, json, help: wantsHelp }
}

export function usageLine (command: string): string {
  const spec = COMMANDS[command]
  const pos = spec.positionals.map((p, i) => i >= spec.positionals.length - (spec.optionalPositionals ?? 0) ? `[${p}]` : p)
  const flags = Object.entries(spec.flags).map(([k, f]) => f.type === 'boolean' ? `[--${k}]` : `[--${k} ${k.toUpperCase()}]`)
  return ['shoal', command, ...pos, ...flags, '[--json]', '[--storage DIR]'].join(' ')
}

export function helpText (): string {
  const lines = ['shoal: a peer-to-peer social messenger', '', 'usage: shoal COMMAND [ARGS] [--json] [--storage DIR]', '']
  for (const name of Object.keys(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${COMMANDS[name].summary}`)
  lines.push('', 'Storage: --storage DIR, else $SHOAL_STORAGE, else ~/.shoal.',
    'Network: --bootstrap host:port[,…] or $SHOAL_BOOTSTRAP; "none" means LAN only; unset means the public DHT.', 'Ids and refs are z-base32 strings. Exit status: 0 ok, 1 error, 2 usage error.')
  return lines.join('\n')
}

/** A positive integer flag, or a USAGE error naming the flag. */
export function intFlag (v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw ShoalError.USAGE(`--${name} must be a whole number`)
  return Number(v)
}

/** The first argument that is neither a flag nor the value of a global string flag. */
function findCommand (argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--storage') { i++; continue }
    if (!a.startsWith('-')) return a
  }
  return undefined
}
