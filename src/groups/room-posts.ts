/**
 * Posts made together go out in one Autobase append. A post needs the current epoch key, read from
 * the view; if each post read it on its own, the first post of a burst would finish its reads first
 * and append alone, and the rest would follow in a second append: two Autobase updates (drain,
 * linearize, apply, flush) where one would do. Here the posts that arrive while the key is being
 * read wait for that one read, are sealed under the key it returned and appended as one batch.
 * The key is still read from the view for every batch: a post made after a rotation is applied
 * is sealed under the new epoch.
 */
import safetyCatch from 'safety-catch'
import type { MessageId } from './room-schema.js'

/** What the queue needs from its room. */
export interface PostSink {
  /** The current epoch and its key, read from the view (ROOM_KEY_MISSING without one). */
  currentKey (): Promise<{ epoch: number, key: Uint8Array }>
  /** The encoded post op of `text` sealed under `key` (MESSAGE_TOO_LARGE over the op cap). */
  encode (epoch: number, key: Uint8Array, text: string, replyTo: MessageId | null): Uint8Array
  /** Appends `blocks` in order as one batch; resolves with the writer's length after the last. */
  append (blocks: Uint8Array[]): Promise<number>
}

interface Pending {
  text: string
  replyTo: MessageId | null
  resolve: (length: number) => void
  reject: (err: unknown) => void
}

export class PostQueue {
  readonly #sink: PostSink
  #pending: Pending[] = []
  #reading: Promise<void> | null = null

  constructor (sink: PostSink) {
    this.#sink = sink
  }

  /** Queues a post; resolves with its writer length (its message id's length), in call order. */
  push (text: string, replyTo: MessageId | null): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#pending.push({ text, replyTo, resolve, reject })
      if (this.#reading === null) this.#reading = this.#flush()
    })
  }

  /** Resolves once no key read is in flight (appends already made are awaited by their posts). */
  async idle (): Promise<void> {
    while (this.#reading !== null) await this.#reading
  }

  /** Takes every pending post; from here on, a new post starts a new key read. */
  #take (): Pending[] {
    this.#reading = null
    return this.#pending.splice(0)
  }

  async #flush (): Promise<void> {
    let current: { epoch: number, key: Uint8Array }
    try {
      current = await this.#sink.currentKey()
    } catch (err) {
      for (const p of this.#take()) p.reject(err)
      return
    }
    const posts: Pending[] = []
    const blocks: Uint8Array[] = []
    for (const p of this.#take()) {
      try {
        blocks.push(this.#sink.encode(current.epoch, current.key, p.text, p.replyTo))
        posts.push(p)
      } catch (err) {
        p.reject(err)
      }
    }
    if (blocks.length === 0) return
    // not awaited: posts made meanwhile read the key again and append behind this batch
    this.#sink.append(blocks).then(
      last => { for (let i = 0; i < posts.length; i++) posts[i]!.resolve(last - (posts.length - 1 - i)) },
      err => { for (const p of posts) p.reject(err) }
    ).catch(safetyCatch)
  }
}
