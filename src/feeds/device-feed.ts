/**
 * This device's own feed: a Hypercore in the Corestore whose block 0 is the attested header.
 * Only this device ever appends to it (a restore makes a new one), so it never forks.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { DEVICE_FEED_NAME } from '../caps.js'
import { ShoalError } from '../errors.js'
import type { FeedKey, MessageRef } from '../ids.js'
import { createHeader, readHeader } from './header.js'
import type { IdentityKeyPair } from './identity.js'
import { encodeRecord, type DmRecord, type MessageRecord } from './schema.js'

export interface DeviceFeedOptions {
  device?: string
  now?: () => number
  /** Write the header when the feed is empty (default true; false when the feed lost its blocks). */
  create?: boolean
}

export class DeviceFeed extends ReadyResource {
  readonly core: Hypercore
  private readonly now: () => number
  private readonly device: string
  private readonly create: boolean

  constructor (store: Corestore, private readonly identity: IdentityKeyPair, opts: DeviceFeedOptions = {}) {
    super()
    this.core = store.get({ name: DEVICE_FEED_NAME })
    this.now = opts.now ?? Date.now
    this.device = opts.device ?? ''
    this.create = opts.create ?? true
  }

  get key (): FeedKey {
    return this.core.key as FeedKey
  }

  get length (): number {
    return this.core.length
  }

  protected override async _open (): Promise<void> {
    await this.core.ready()
    if (this.core.length === 0) {
      if (!this.create) return
      await this.core.append(encodeRecord(createHeader(this.identity, this.key, this.device, this.now())))
      return
    }
    const block = await this.core.get(0)
    if (block === null) throw ShoalError.STORAGE_ERROR('device feed has no block 0')
    const header = readHeader(block, this.key)
    if (!b4a.equals(header.identity, this.identity.publicKey)) {
      throw ShoalError.STORAGE_ERROR('this storage\'s device feed belongs to a different identity')
    }
  }

  protected override async _close (): Promise<void> {
    await this.core.close()
  }

  /** Validates, encodes and appends one message; resolves to its ref. */
  async append (rec: MessageRecord | DmRecord): Promise<MessageRef> {
    const block = encodeRecord(rec)
    const { length } = await this.core.append(block)
    return { feed: this.key, seq: length - 1 }
  }

  timestamp (): number {
    return this.now()
  }
}
