/**
 * Command-line parsing: one table of commands with their flags and positionals. Anything the
 * table does not allow (an unknown flag, a missing argument or value, a number out of range) is a
 * USAGE error, raised before any storage or network is touched. This module and help.ts import
 * nothing heavy, so a thin client can parse and print help without loading the node.
 *
 * Nested commands are table keys with a space ("dm send"): `shoal dm send ...` resolves to them,
 * and `shoal help dm` lists them.
 */
import { ShoalError } from '../errors.js'
import { closest } from './suggest.js'

/** A flag: `int` values are whole numbers checked against `min`..`max` while parsing. */
export interface FlagSpec {
  type: 'string' | 'boolean' | 'int'
  /** Placeholder for the value in help (N, REF, TEXT…). */
  value?: string
  help: string
  min?: number
  max?: number
  short?: string
}

export interface CommandSpec {
  summary: string
  positionals: string[]
  optionalPositionals?: number
  flags: Record<string, FlagSpec>
  /** Extra lines for `shoal help COMMAND`. */
  notes?: string[]
}

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  storage: { type: 'string', value: 'DIR', help: 'storage folder (else $SHOAL_STORAGE, else ~/.shoal)' },
  json: { type: 'boolean', help: 'print exactly one JSON document' },
  help: { type: 'boolean', short: 'h', help: 'show this help' }
}

const NETWORK_FLAGS: Record<string, FlagSpec> = {
  bootstrap: { type: 'string', value: 'HOST:PORT', help: 'DHT bootstrap nodes, comma-separated, or "none" for LAN only (else $SHOAL_BOOTSTRAP, else the public DHT)' },
  hops: { type: 'int', value: 'N', min: 0, max: 6, help: 'replicate follows of follows up to N hops (default 2)' }
}
const PORT: FlagSpec = { type: 'int', value: 'PORT', min: 0, max: 65535, help: 'local API port (default 7647, a free one if taken; 0 = any free port)' }
const LIMIT: FlagSpec = { type: 'int', value: 'N', min: 1, max: 500, help: 'at most N posts (default 50)' }

export const COMMANDS: Record<string, CommandSpec> = {
  init: {
    summary: 'create an identity (or restore one) and this device\'s feed; --new-feed replaces a lost device feed',
    positionals: [],
    flags: {
      name: { type: 'string', value: 'NAME', help: 'my display name' },
      restore: { type: 'string', value: '"WORDS"', help: 'restore my identity from its 24-word recovery phrase (quoted); makes a new device feed' },
      'new-feed': { type: 'boolean', help: 'after DEVICE_FEED_MISSING: start a fresh device feed for my identity' }
    },
    notes: ['The recovery phrase is printed once: write it down and keep it secret.']
  },
  whoami: { summary: 'show my identity, name and device feeds', positionals: [], flags: {} },
  post: {
    summary: 'write a post or a reply',
    positionals: ['TEXT'],
    flags: { reply: { type: 'string', value: 'REF', help: 'reply to the message REF' }, cw: { type: 'string', value: 'TEXT', help: 'content warning shown instead of the text' } },
    notes: ['Quote TEXT that has spaces. "@ID" in the text mentions someone. Prints the new post\'s REF.']
  },
  react: {
    summary: 'react to a message with an emoji',
    positionals: ['REF', 'EMOJI'],
    flags: { remove: { type: 'boolean', help: 'take my EMOJI reaction back' } }
  },
  edit: { summary: 'edit one of my posts', positionals: ['REF', 'TEXT'], flags: {} },
  delete: { summary: 'delete one of my posts', positionals: ['REF'], flags: {} },
  follow: { summary: 'follow an identity', positionals: ['ID'], flags: {}, notes: ['Following someone I block is refused (BLOCKED): unblock them first.'] },
  unfollow: { summary: 'stop following an identity', positionals: ['ID'], flags: {} },
  block: { summary: 'block an identity (their posts are no longer fetched or shown)', positionals: ['ID'], flags: {} },
  unblock: { summary: 'unblock an identity', positionals: ['ID'], flags: {} },
  profile: {
    summary: 'show a profile, or set my name and bio',
    positionals: ['ID'],
    optionalPositionals: 1,
    flags: { name: { type: 'string', value: 'NAME', help: 'set my display name' }, bio: { type: 'string', value: 'TEXT', help: 'set my bio' } },
    notes: ['Without ID: my own profile.']
  },
  feed: {
    summary: 'read the home timeline (or one author\'s posts)',
    positionals: [],
    flags: { limit: LIMIT, before: { type: 'string', value: 'CURSOR', help: 'the next page (the CURSOR printed after "more:")' }, author: { type: 'string', value: 'ID', help: 'only the posts of ID' } },
    notes: ['Each post ends with "id REF": that REF is what react, edit, delete, thread and post --reply take.']
  },
  thread: {
    summary: 'read a thread (a page of replies; --before continues it)',
    positionals: ['REF'],
    flags: { limit: LIMIT, before: { type: 'string', value: 'CURSOR', help: 'the next page of replies (the CURSOR printed after "more:")' } },
    notes: ['REF may be the first post or any reply in the thread.']
  },
  mentions: { summary: 'posts that mention me', positionals: [], flags: { limit: LIMIT } },
  reindex: { summary: 'rebuild every view from the feeds', positionals: [], flags: {} },
  'dm send': {
    summary: 'send an end-to-end encrypted direct message to 1-15 people',
    positionals: ['IDS', 'TEXT'],
    flags: { reply: { type: 'string', value: 'REF', help: 'reply to the DM REF in that conversation' } },
    notes: ['Prints the DM\'s REF and its CONVERSATION. Someone who does not follow you gets it as a message request while you are both online.', 'A DM to someone I block, alone or in a group, is refused (BLOCKED): unblock them first.']
  },
  'dm list': { summary: 'list conversations, with unread counts', positionals: [], flags: {} },
  'dm read': {
    summary: 'read one conversation, newest first (marks it read)',
    positionals: ['CONVERSATION'],
    flags: { limit: LIMIT, before: { type: 'string', value: 'CURSOR', help: 'the next page (the CURSOR printed after "more:")' } }
  },
  'dm requests': { summary: 'message requests from people outside my follows', positionals: [], flags: {} },
  'dm accept': { summary: 'accept a message request (their feed is then replicated)', positionals: ['ID'], flags: {} },
  'dm decline': { summary: 'decline a message request (that sender is ignored from then on)', positionals: ['ID'], flags: {} },
  'room create': { summary: 'create a group room (I am its first admin)', positionals: ['NAME'], flags: {}, notes: ['Prints the ROOM id.'] },
  'room list': { summary: 'my rooms, with my role and unread counts', positionals: [], flags: {} },
  'room invite': {
    summary: 'make an invite code for a room (admins)',
    positionals: ['ROOM'],
    flags: {
      role: { type: 'string', value: 'ROLE', help: 'member (default), moderator or admin' },
      uses: { type: 'int', value: 'N', min: 1, max: 1000, help: 'how many people may join with it (default 1)' },
      expires: { type: 'string', value: 'DURATION', help: 'e.g. 30m, 12h or 7d (default: never)' }
    },
    notes: ['The code is a secret: whoever holds it can join. Send it privately.']
  },
  'room join': {
    summary: 'join a room with an invite code',
    positionals: ['CODE'],
    flags: { timeout: { type: 'int', value: 'SECONDS', min: 1, max: 86400, help: 'give up after SECONDS (default 60)' }, ...NETWORK_FLAGS },
    notes: ['An admin device of the room must be online (over the DHT or on the same LAN).']
  },
  'room post': { summary: 'post in a room', positionals: ['ROOM', 'TEXT'], flags: { reply: { type: 'string', value: 'MSG', help: 'reply to the room message MSG' } } },
  'room react': { summary: 'react to a room message', positionals: ['ROOM', 'MSG', 'EMOJI'], flags: {} },
  'room edit': { summary: 'edit one of my room messages', positionals: ['ROOM', 'MSG', 'TEXT'], flags: {} },
  'room delete': { summary: 'delete a room message (mine; moderators and admins: anyone\'s)', positionals: ['ROOM', 'MSG'], flags: {} },
  'room read': {
    summary: 'read a room, newest first',
    positionals: ['ROOM'],
    flags: { limit: LIMIT, before: { type: 'int', value: 'CURSOR', min: 0, max: Number.MAX_SAFE_INTEGER, help: 'the next page (the CURSOR printed after "more:")' } }
  },
  'room members': { summary: 'a room\'s members with their roles', positionals: ['ROOM'], flags: {} },
  'room role': { summary: 'set a member\'s role (admins)', positionals: ['ROOM', 'ID', 'ROLE'], flags: {} },
  'room remove': { summary: 'remove a member (admins); they read nothing written after it', positionals: ['ROOM', 'ID'], flags: {} },
  'room mute': { summary: 'mute a member (moderators and admins)', positionals: ['ROOM', 'ID'], flags: {} },
  'room status': {
    summary: 'a room\'s counts and the devices whose writes broke its caps on the wire',
    positionals: ['ROOM'],
    flags: {},
    notes: ['oversize: an op over 64 KiB (cleared here once indexed); storage-cap: past the per-device cap (what it writes after is not kept). An admin device\'s blocks are kept.']
  },
  'room leave': {
    summary: 'leave a room: removes me (all my devices) from its members, then forgets it here',
    positionals: ['ROOM'],
    flags: { ...NETWORK_FLAGS },
    notes: ['An admin device then changes the room key: I read nothing written after. The last admin must first make another member admin.']
  },
  serve: {
    summary: 'run the node and its local API until Ctrl-C (other commands then talk to it)',
    positionals: [],
    flags: { ...NETWORK_FLAGS, port: PORT }
  },
  desktop: {
    summary: 'run the node and open the app in a window',
    positionals: [],
    flags: {
      ...NETWORK_FLAGS,
      port: PORT,
      'keep-running': { type: 'boolean', help: 'keep the node running after the window closes' },
      install: { type: 'boolean', help: 'add Shoal to the Linux app menu (keeps --storage and the bootstrap given now)' }
    },
    notes: ['$SHOAL_BROWSER names the browser for the app window.']
  },
  sync: {
    summary: 'replicate everything in scope until caught up, then exit',
    positionals: [],
    flags: { timeout: { type: 'int', value: 'SECONDS', min: 1, max: 86400, help: 'give up after SECONDS (default 60)' }, ...NETWORK_FLAGS }
  },
  status: { summary: 'peers and per-identity sync progress', positionals: [], flags: {}, notes: ['Peers are known only while a node runs ("shoal serve" or "shoal desktop"); otherwise it shows local state.'] },
  dht: {
    summary: 'run a small private DHT and print its bootstrap address',
    positionals: [],
    flags: { host: { type: 'string', value: 'IP', help: 'the IPv4 address peers will reach (default 127.0.0.1)' }, port: { type: 'int', value: 'PORT', min: 0, max: 65535, help: 'UDP port (default: a free one)' } }
  }
}

/** What each positional placeholder means, and where to get one. */
export const PLACEHOLDERS: Record<string, string> = {
  TEXT: 'the text, quoted when it has spaces',
  REF: 'a message ref (z-base32): printed by "shoal post", and after "id" under each post in "shoal feed", "shoal thread" and "shoal mentions"',
  ID: 'an identity id (52 z-base32 characters): "shoal whoami" prints mine; "shoal feed" and "shoal profile" print others\'',
  EMOJI: 'one emoji (or a short word)',
  IDS: 'one or more identity ids, comma-separated (ID,ID,…)',
  CONVERSATION: 'a conversation id: printed by "shoal dm send" and "shoal dm list"',
  NAME: 'a name, quoted when it has spaces',
  ROOM: 'a room id: printed by "shoal room create", "shoal room join" and "shoal room list"',
  CODE: 'an invite code, from "shoal room invite" on an admin\'s device',
  MSG: 'a room message id: printed under each message by "shoal room read"',
  ROLE: 'admin, moderator or member'
}

export interface Parsed {
  command: string
  positionals: string[]
  flags: Record<string, string | boolean | undefined>
  storage: string | undefined
  json: boolean
  help: boolean
}

/** Parses `argv` (without node and script); throws USAGE for anything the table does not allow. */
export function parse (args: string[]): Parsed {
  const argv = args[0] === '--' ? args.slice(1) : args // "npx shoal -- --version": npx passes its "--" on
  const end = argv.indexOf('--')
  const head = end === -1 ? argv : argv.slice(0, end) // after "--" everything is text
  const json = head.includes('--json')
  const at = commandAt(argv)
  if (head.includes('--version') || head.includes('-V')) return bare('version', [], json)
  if (at === -1) {
    const stray = argv.find((a) => a.startsWith('-') && a !== '--' && !['--json', '--help', '-h', '--storage'].includes(a) && !a.startsWith('--storage='))
    if (stray !== undefined && argv[argv.indexOf(stray) - 1] !== '--storage') throw unknownFlag('', stray, { ...GLOBAL_FLAGS, version: { type: 'boolean', help: '' } })
    return bare('help', [], json)
  }
  const resolved = resolve(argv, at)
  if (resolved.name === 'help') return bare('help', topic(resolved.rest), json)
  const spec = COMMANDS[resolved.name]
  const { flags, positionals } = tokens(resolved.name, spec, resolved.rest)
  const help = flags.help === true
  // An empty --storage "$DIR" (DIR unset) must not fall back to ~/.shoal, someone's real identity.
  if (flags.storage === '') throw ShoalError.USAGE('--storage needs a folder, not an empty path')
  if (!help) {
    const required = spec.positionals.length - (spec.optionalPositionals ?? 0)
    if (positionals.length < required || positionals.length > spec.positionals.length) {
      const extra = positionals.length > spec.positionals.length ? ' (quote text that has spaces)' : ''
      throw ShoalError.USAGE(`usage: ${usageLine(resolved.name)}${extra} (see "shoal help ${resolved.name}")`)
    }
  }
  return { command: resolved.name, positionals, flags, storage: str(flags.storage), json, help }
}

/** A positive or bounded whole-number flag (already range-checked by parse), or undefined. */
export function intFlag (v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw ShoalError.USAGE(`--${name} must be a whole number`)
  return Number(v)
}

/** `shoal CMD POSITIONALS [--flag VALUE]…` for one command. */
export function usageLine (command: string): string {
  const spec = COMMANDS[command]
  const optional = spec.positionals.length - (spec.optionalPositionals ?? 0)
  const pos = spec.positionals.map((p, i) => i >= optional ? `[${p}]` : p)
  const flags = Object.entries(spec.flags).map(([k, f]) => f.type === 'boolean' ? `[--${k}]` : `[--${k} ${f.value ?? 'VALUE'}]`)
  return ['shoal', command, ...pos, ...flags, '[--json]', '[--storage DIR]'].join(' ')
}

/** Groups that have subcommands ("dm" when "dm send" exists). */
export function groups (): string[] {
  return [...new Set(Object.keys(COMMANDS).filter((k) => k.includes(' ')).map((k) => k.split(' ')[0]))]
}

function bare (command: string, positionals: string[], json: boolean): Parsed {
  return { command, positionals, flags: {}, storage: undefined, json, help: true }
}

function str (v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** The index of the first argument that is neither a flag nor the value of a global string flag. */
function commandAt (argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1
    if (a === '--storage') { i++; continue }
    if (!a.startsWith('-') || a === '-') return i
  }
  return -1
}

/** The command's table key (one word, or "group sub") and the arguments left to parse. */
function resolve (argv: string[], at: number): { name: string, rest: string[] } {
  const word = argv[at]
  const before = argv.slice(0, at).filter((a) => a !== '--')
  if (word === 'help') return { name: 'help', rest: argv.slice(at + 1) }
  if (groups().includes(word)) {
    const next = argv[at + 1] // the subcommand comes right after its group: "shoal dm send ..."
    const sub = next === undefined || next.startsWith('-') ? undefined : next
    if (sub !== undefined && COMMANDS[`${word} ${sub}`] !== undefined) {
      return { name: `${word} ${sub}`, rest: [...before, ...argv.slice(at + 2)] }
    }
    if (COMMANDS[word] === undefined) {
      if (sub === undefined && (argv.includes('--help') || argv.includes('-h'))) return { name: 'help', rest: [word] }
      throw groupUsage(word, sub)
    }
  }
  if (COMMANDS[word] === undefined) throw unknownCommand(word)
  return { name: word, rest: [...before, ...argv.slice(at + 1)] }
}

function groupUsage (group: string, sub: string | undefined): ShoalError {
  const subs = Object.keys(COMMANDS).filter((k) => k.startsWith(group + ' ')).map((k) => k.slice(group.length + 1))
  if (sub === undefined) return ShoalError.USAGE(`"shoal ${group}" needs one of: ${subs.join(', ')} (see "shoal help ${group}")`)
  const guess = closest(sub, subs)
  return ShoalError.USAGE(`unknown command "shoal ${group} ${sub}"${guess !== null ? `; did you mean "shoal ${group} ${guess}"?` : ''} (see "shoal help ${group}")`)
}

function unknownCommand (word: string): ShoalError {
  const guess = closest(word, [...Object.keys(COMMANDS).filter((k) => !k.includes(' ')), ...groups(), 'help'])
  return ShoalError.USAGE(`unknown command "${word}"${guess !== null ? `; did you mean "${guess}"?` : ''} (see "shoal help")`)
}

/** `shoal help [COMMAND [SUB]]`: the command named, checked against the table. */
function topic (rest: string[]): string[] {
  const words = rest.filter((a) => !a.startsWith('-'))
  if (words.length === 0) return []
  const two = words.slice(0, 2).join(' ')
  if (words.length > 1 && COMMANDS[two] !== undefined) return [two]
  if (COMMANDS[words[0]] !== undefined || groups().includes(words[0])) {
    if (words.length > 1 && COMMANDS[words[0]] === undefined) throw groupUsage(words[0], words[1])
    return [words[0]]
  }
  throw unknownCommand(words[0])
}

/** Splits flags from positionals: `--flag VALUE`, `--flag=VALUE`, `-h`, and `--` before text that starts with "-". */
function tokens (command: string, spec: CommandSpec, args: string[]): { flags: Record<string, string | boolean | undefined>, positionals: string[] } {
  const table: Record<string, FlagSpec> = { ...GLOBAL_FLAGS, ...spec.flags }
  const flags: Record<string, string | boolean | undefined> = {}
  const positionals: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--') { positionals.push(...args.slice(i + 1)); break }
    if (!a.startsWith('-') || a === '-') { positionals.push(a); continue }
    let name: string
    let inline: string | undefined
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      name = eq === -1 ? a.slice(2) : a.slice(2, eq)
      inline = eq === -1 ? undefined : a.slice(eq + 1)
    } else {
      const short = Object.entries(table).find(([, f]) => f.short !== undefined && `-${f.short}` === a)
      if (short === undefined) throw unknownFlag(command, a, table)
      name = short[0]
    }
    const f = table[name]
    if (f === undefined || name === '') throw unknownFlag(command, a, table)
    if (f.type === 'boolean') {
      if (inline !== undefined) throw ShoalError.USAGE(`--${name} takes no value (see "shoal help ${command}")`)
      flags[name] = true
      continue
    }
    let value = inline
    if (value === undefined) {
      const next = args[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2) || next === '-h') throw missingValue(command, name, f)
      value = next
      i++
    }
    if (f.type === 'int') checkInt(name, f, value)
    flags[name] = value
  }
  return { flags, positionals }
}

function unknownFlag (command: string, flag: string, table: Record<string, FlagSpec>): ShoalError {
  const name = flag.replace(/^-+/, '').split('=')[0]
  const guess = name.length > 0 ? closest(name, Object.keys(table)) : null
  const hint = guess !== null ? `; did you mean --${guess}?` : /^-[0-9]/.test(flag) ? ' (put -- before text that starts with "-")' : ''
  const where = command === '' ? '' : ` for "shoal ${command}"`
  return ShoalError.USAGE(`unknown flag ${flag.split('=')[0]}${where}${hint} (see "shoal help${command === '' ? '' : ' ' + command}")`)
}

function missingValue (command: string, name: string, f: FlagSpec): ShoalError {
  return ShoalError.USAGE(`--${name} needs a value: --${name} ${f.value ?? 'VALUE'} (see "shoal help ${command}")`)
}

function checkInt (name: string, f: FlagSpec, value: string): void {
  const min = f.min ?? 0
  const max = f.max ?? Number.MAX_SAFE_INTEGER
  const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN
  if (!(n >= min && n <= max)) {
    const shown = value.length > 40 ? value.slice(0, 40) + '…' : value
    throw ShoalError.USAGE(`--${name} must be a whole number from ${min} to ${max}, not "${shown}"`)
  }
}
