/**
 * The long-running node behind `shoal serve` and `shoal desktop`: a storage folder that may not
 * have an identity yet (first run), the Shoal opened and joined to the network once it does.
 */
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import { Shoal, type JoinOptions } from './shoal.js'
import { hasIdentity, secureStorage } from './storage.js'

export interface AppOptions { join: JoinOptions }

export class ShoalApp extends ReadyResource {
  private node: Shoal | null = null
  private joining: Promise<void> | null = null

  constructor (readonly storage: string, private readonly opts: AppOptions) {
    super()
  }

  protected override async _open (): Promise<void> {
    await secureStorage(this.storage)
    if (await hasIdentity(this.storage)) await this.start(new Shoal(this.storage))
  }

  protected override async _close (): Promise<void> {
    if (this.node) await this.node.close()
  }

  /** The open node, or null before the identity exists. */
  get shoal (): Shoal | null {
    return this.node
  }

  /** The open node, or NO_IDENTITY. */
  need (): Shoal {
    if (this.node === null) throw ShoalError.NO_IDENTITY('no identity yet: create one first (shoal init, or the app\'s first-run screen)')
    return this.node
  }

  /** First run: creates the identity, opens the node and joins the network. */
  async init (opts: { name?: string, restore?: string } = {}): Promise<{ shoal: Shoal, phrase: string | null }> {
    if (this.node !== null) throw ShoalError.IDENTITY_EXISTS(`${this.storage} already has an identity`)
    const { shoal, phrase } = await Shoal.init(this.storage, opts)
    await this.start(shoal)
    this.emit('identity', shoal)
    return { shoal, phrase }
  }

  /**
   * Resolves once the node has joined the network and a first discovery round is done (or
   * failed). Nothing waits on it to serve: the views answer at once. Emits `network` when joined.
   */
  networkReady (): Promise<void> {
    return this.joining ?? Promise.resolve()
  }

  private async start (shoal: Shoal): Promise<void> {
    try {
      await shoal.ready()
    } catch (err) {
      await shoal.close()
      throw err
    }
    shoal.on('error', (err: Error) => this.emit('error', err))
    this.node = shoal
    // The views answer at once; joining the DHT can take a while and must not hold up the UI.
    this.joining = shoal.joinNetwork(this.opts.join).then((r) => {
      if (shoal.health.rolledBack !== null) {
        // My feed lost blocks: each new peer may hold them (see Shoal.restoreFeed).
        r.on('peer', () => { shoal.restoreFeed().catch(safetyCatch) })
      }
      this.emit('network', shoal)
      return r.flush()
    })
    this.joining.catch((err) => {
      if (!this.closing) this.emit('error', ShoalError.NETWORK_ERROR('could not join the network', err))
    })
  }
}
