/**
 * The room's Autobase `apply`: a dispatcher of deterministic handlers, one per op type. Every op is
 * decoded, gated by the room version, attributed to its author from the view and validated; an
 * invalid op (or a handler failure) changes nothing and never throws (a throw closes the base).
 * No clock, randomness or local secrets: every replica computes the same view.
 */
import b4a from 'b4a'
import safetyCatch from 'safety-catch'
import type Hyperbee from 'hyperbee'
import type Autobase from 'autobase'
import { OP_VERSION, ROOM_CAPS, ROOM_VERSION, VIEW_RUNS_VERSION } from './room-caps.js'
import { decodeOp, OP, OP_CODECS, type OpType, type OpBodies } from './room-schema.js'
import { getInfo } from './room-view.js'
import { readActor } from './room-rules.js'
import type { ApplyContext, Author, Handler } from './room-apply-context.js'
import * as m from './room-ops-membership.js'
import * as c from './room-ops-messages.js'

const HANDLERS: { [K in OpType]: Handler<OpBodies[K]> } = {
  [OP.create]: m.create,
  [OP.addMember]: m.addMember,
  [OP.addDevice]: m.addDevice,
  [OP.removeMember]: m.removeMember,
  [OP.setRole]: m.setRole,
  [OP.rotateEpoch]: m.rotateEpoch,
  [OP.post]: c.post,
  [OP.react]: c.react,
  [OP.edit]: c.edit,
  [OP.delete]: c.del,
  [OP.mute]: c.mute,
  [OP.inviteAdd]: c.inviteAdd,
  [OP.inviteDel]: c.inviteDel,
  [OP.roomVersion]: c.roomVersion,
  [OP.leave]: m.leave,
  [OP.memberName]: m.memberName
}

/** Ops whose handlers touch only the view (no host calls) and write nothing when they return false. */
const VIEW_ONLY: ReadonlySet<OpType> = new Set<OpType>([OP.post, OP.react, OP.edit, OP.delete, OP.inviteAdd, OP.inviteDel])

type Op = NonNullable<ReturnType<typeof decodeOp>>

/** The op a node carries, or null when it is none this build applies (over the cap, malformed, newer envelope). */
function decodeNode (node: Autobase.Node): Op | null {
  const value = node.value
  if (value === null || value.byteLength > ROOM_CAPS.op) return null
  const op = decodeOp(value)
  if (op === null || op.version !== OP_VERSION) return null // newer envelopes: kept in the log, skipped
  return op
}

/** What the handler of `op` sees, or null when the room version does not allow the op (yet). */
async function context (batch: Hyperbee.Batch, node: Autobase.Node, op: Op, host: Autobase.Host, supportedVersion: number): Promise<ApplyContext | null> {
  const info = await getInfo(batch)
  if (info === null ? op.type !== OP.create : OP_CODECS[op.type].since > info.version) return null
  return {
    batch,
    host,
    discoveryKey: host.discoveryKey,
    id: { writer: node.from.key, length: node.length },
    info,
    author: await readActor(batch, node.from.key),
    supportedVersion,
    interrupted: false
  }
}

async function applyOp (node: Autobase.Node, op: Op, view: Hyperbee, host: Autobase.Host, supportedVersion: number): Promise<boolean> {
  const batch = view.batch()
  let ctx: ApplyContext | null = null
  let ok = false
  try {
    ctx = await context(batch, node, op, host, supportedVersion)
    if (ctx === null) return false
    const handler = HANDLERS[op.type] as Handler<typeof op.body>
    ok = await handler(ctx, op.body)
    if (ok) await batch.flush()
    return ok
  } catch (err) {
    ok = false
    if (ctx?.interrupted === true) throw err
    return false // invalid input that got past validation: skip the op, keep the base alive
  } finally {
    if (!ok) await batch.close().catch(safetyCatch)
  }
}

/**
 * Applies one node; true when the op was valid and written. Never throws, except Autobase's own
 * interrupt (a `room-version` this build cannot apply), which must reach Autobase to stop the base.
 */
export async function applyNode (node: Autobase.Node, view: Hyperbee, host: Autobase.Host, supportedVersion = ROOM_VERSION): Promise<boolean> {
  const op = decodeNode(node)
  return op !== null && await applyOp(node, op, view, host, supportedVersion)
}

/**
 * Applies consecutive view-only ops in one view batch (room version VIEW_RUNS_VERSION on), so each
 * reads the tree its predecessors wrote from memory instead of from storage. The view gets the same
 * entries, in the same order, as when each op had a batch of its own: an op whose handler returns
 * false wrote nothing, and if a handler throws, the batch is dropped and the run is applied again
 * one op per batch. Autobase calls apply once per append batch of a writer (recorded in its
 * nodes), so every replica groups the same ops into runs.
 */
async function applyRun (run: Array<{ node: Autobase.Node, op: Op }>, view: Hyperbee, host: Autobase.Host, supportedVersion: number): Promise<void> {
  // a run holds no room-version op, so the version read here holds for all of it
  const info = await getInfo(view)
  if (info === null || info.version < VIEW_RUNS_VERSION) {
    for (const { node, op } of run) await applyOp(node, op, view, host, supportedVersion)
    return
  }
  const batch = view.batch()
  let written = false
  // view-only ops write no member or device record, and only through putInfo the info: both are
  // carried from op to op instead of read again
  let current = info
  let author: { writer: Uint8Array, author: Author | null } | null = null
  try {
    for (const { node, op } of run) {
      if (OP_CODECS[op.type].since > current.version) continue
      if (author === null || !b4a.equals(author.writer, node.from.key)) author = { writer: node.from.key, author: await readActor(batch, node.from.key) }
      const ctx: ApplyContext = {
        batch,
        host,
        discoveryKey: host.discoveryKey,
        id: { writer: node.from.key, length: node.length },
        info: current,
        author: author.author,
        supportedVersion,
        interrupted: false
      }
      if (await (HANDLERS[op.type] as Handler<typeof op.body>)(ctx, op.body)) {
        written = true
        current = ctx.info!
      }
    }
    if (written) await batch.flush()
  } catch {
    // a handler threw after its checks (or the flush failed): redo the run one op per batch, as alone
    await batch.close().catch(safetyCatch)
    for (const { node, op } of run) await applyOp(node, op, view, host, supportedVersion)
    return
  }
  if (!written) await batch.close().catch(safetyCatch)
}

/** The Autobase `apply` of a room, for a build that applies room versions up to `supportedVersion`. */
export function roomApply (supportedVersion = ROOM_VERSION): (nodes: Autobase.Node[], view: Hyperbee, host: Autobase.Host) => Promise<void> {
  return async (nodes, view, host) => {
    let run: Array<{ node: Autobase.Node, op: Op }> = []
    const flushRun = async (): Promise<void> => {
      if (run.length === 1) await applyOp(run[0]!.node, run[0]!.op, view, host, supportedVersion)
      else if (run.length > 1) await applyRun(run, view, host, supportedVersion)
      run = []
    }
    for (const node of nodes) {
      const op = decodeNode(node)
      if (op !== null && VIEW_ONLY.has(op.type)) {
        run.push({ node, op })
        continue
      }
      await flushRun()
      if (op !== null) await applyOp(node, op, view, host, supportedVersion)
    }
    await flushRun()
  }
}
