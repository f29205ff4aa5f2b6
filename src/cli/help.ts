/**
 * Help text: the overview (`shoal help`), one command's page (`shoal help COMMAND`,
 * `shoal COMMAND --help`) and a group's list of subcommands. Built from the table in args.ts;
 * imports nothing heavy.
 */
import { COMMANDS, GLOBAL_FLAGS, PLACEHOLDERS, groups, usageLine, type FlagSpec } from './args.js'

/** The overview: every command with its summary, and where storage and the network come from. */
export function helpText (): string {
  const lines = ['shoal: a peer-to-peer social messenger', '', 'usage: shoal COMMAND [ARGS] [--json] [--storage DIR]', '']
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2
  for (const name of Object.keys(COMMANDS)) lines.push(`  ${name.padEnd(width)}${COMMANDS[name].summary}`)
  lines.push('',
    '"shoal help COMMAND" (or "shoal COMMAND --help") explains one command; "shoal --version" prints the version.',
    'Storage: --storage DIR, else $SHOAL_STORAGE, else ~/.shoal.',
    'Network: --bootstrap host:port[,…] or $SHOAL_BOOTSTRAP; "none" means LAN only; unset means the public DHT.',
    'Ids (ID) and message refs (REF) are z-base32 strings: "shoal whoami" prints my ID, "shoal feed" prints each post\'s REF.',
    'Exit status: 0 ok, 1 error, 2 usage error.')
  return lines.join('\n')
}

/** One command's page, or a group's list of subcommands; `name` must be in the table or a group. */
export function commandHelp (name: string): string {
  const spec = COMMANDS[name]
  if (spec === undefined) return groupHelp(name)
  const lines = [`usage: ${usageLine(name)}`, '', `  ${spec.summary}`]
  const pos = [...new Set([...spec.positionals, ...Object.values(spec.flags).map((f) => f.value ?? '')])].filter((p) => PLACEHOLDERS[p] !== undefined)
  if (pos.length > 0) {
    lines.push('')
    for (const p of pos) lines.push(`  ${p.padEnd(8)}${PLACEHOLDERS[p]}`)
  }
  lines.push('', 'flags:')
  const flags = Object.entries({ ...spec.flags, ...GLOBAL_FLAGS })
  const shown = flags.map(([k, f]) => [flagLabel(k, f), describe(f)])
  const width = Math.max(...shown.map(([l]) => l.length)) + 2
  for (const [label, text] of shown) lines.push(`  ${label.padEnd(width)}${text}`)
  if (spec.notes !== undefined) lines.push('', ...spec.notes)
  const sub = groups().includes(name) ? groupList(name) : []
  if (sub.length > 0) lines.push('', ...sub)
  return lines.join('\n')
}

function groupHelp (group: string): string {
  return [`usage: shoal ${group} SUBCOMMAND [ARGS]`, '', ...groupList(group), '', `"shoal help ${group} SUBCOMMAND" explains one.`].join('\n')
}

function groupList (group: string): string[] {
  const names = Object.keys(COMMANDS).filter((k) => k.startsWith(group + ' '))
  const width = Math.max(...names.map((k) => k.length)) + 2
  return names.map((k) => `  ${k.padEnd(width)}${COMMANDS[k].summary}`)
}

function flagLabel (name: string, f: FlagSpec): string {
  const short = f.short !== undefined ? `-${f.short}, ` : ''
  return f.type === 'boolean' ? `${short}--${name}` : `${short}--${name} ${f.value ?? 'VALUE'}`
}

function describe (f: FlagSpec): string {
  return f.type === 'int' ? `${f.help} [${f.min ?? 0}–${f.max ?? '∞'}]` : f.help
}
