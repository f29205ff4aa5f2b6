/**
 * The API's room methods (protocol.ts `room*`), each validating its params before the node
 * (src/node/room-service.ts) checks them again.
 */
import { ShoalError } from '../errors.js'
import { identityToString } from '../ids.js'
import type { ShoalApp } from '../node/app.js'
import { parseRole } from '../node/room-service.js'
import type { Method } from './protocol.js'
import { bool } from './request-input.js'

type Params = Record<string, unknown>
type Handler = (app: ShoalApp, p: Params) => Promise<unknown>

function str (p: Params, name: string, opts: { optional?: boolean, max?: number } = {}): string | undefined {
  const v = p[name]
  if (v === undefined || v === null) {
    if (opts.optional === true) return undefined
    throw ShoalError.BAD_REQUEST(`${name} is required`)
  }
  if (typeof v !== 'string') throw ShoalError.BAD_REQUEST(`${name} must be a string`)
  if (v.length > (opts.max ?? 8192)) throw ShoalError.BAD_REQUEST(`${name} is too long`)
  return v
}

function int (p: Params, name: string, min: number, max: number): number | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw ShoalError.BAD_REQUEST(`${name} must be an integer ${min}..${max}`)
  return v
}

const need = (p: Params, name: string): string => str(p, name, { max: 200 }) as string
const empty = {}

export const roomHandlers: { [M in Extract<Method, `room${string}`>]: Handler } = {
  roomList: (app) => app.need().rooms.list(),
  roomCreate: (app, p) => app.need().rooms.create(str(p, 'name', { max: 200 }) as string),
  roomInvite: async (app, p) => {
    const role = str(p, 'role', { optional: true, max: 16 })
    const uses = int(p, 'uses', 1, 1000)
    const expires = int(p, 'expires', 1, 365 * 86_400_000)
    return app.need().rooms.invite(need(p, 'room'), {
      ...(role === undefined ? {} : { role: parseRole(role) }),
      ...(uses === undefined ? {} : { uses }),
      ...(expires === undefined ? {} : { expires: Date.now() + expires })
    })
  },
  roomJoin: (app, p) => {
    const timeout = int(p, 'timeout', 1, 600_000)
    return app.need().rooms.join(need(p, 'code'), timeout === undefined ? {} : { timeout })
  },
  roomRead: (app, p) => {
    const limit = int(p, 'limit', 1, 1000)
    const before = int(p, 'before', 0, Number.MAX_SAFE_INTEGER)
    return app.need().rooms.read(need(p, 'room'), { ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }) })
  },
  roomPost: (app, p) => {
    const reply = str(p, 'reply', { optional: true, max: 200 })
    return app.need().rooms.post(need(p, 'room'), str(p, 'text') as string, reply === undefined ? {} : { reply })
  },
  roomReact: async (app, p) => { await app.need().rooms.react(need(p, 'room'), need(p, 'id'), str(p, 'emoji', { max: 64 }) as string, !bool(p, 'remove')); return empty },
  roomEdit: async (app, p) => { await app.need().rooms.edit(need(p, 'room'), need(p, 'id'), str(p, 'text') as string); return empty },
  roomDelete: async (app, p) => { await app.need().rooms.delete(need(p, 'room'), need(p, 'id')); return empty },
  roomMembers: async (app, p) => {
    const shoal = app.need()
    return { ...(await shoal.rooms.members(need(p, 'room'))), me: identityToString(shoal.identity) }
  },
  roomSetRole: async (app, p) => { await app.need().rooms.setRole(need(p, 'room'), need(p, 'member'), parseRole(need(p, 'role'))); return empty },
  roomRemove: async (app, p) => { await app.need().rooms.remove(need(p, 'room'), need(p, 'member')); return empty },
  roomMute: async (app, p) => { await app.need().rooms.mute(need(p, 'room'), need(p, 'member'), p.muted === undefined || p.muted === null ? true : bool(p, 'muted')); return empty },
  roomLeave: (app, p) => app.need().rooms.leave(need(p, 'room')),
  roomStatus: (app, p) => app.need().rooms.status(need(p, 'room'))
}
