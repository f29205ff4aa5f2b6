/**
 * Which kinds of reaction (emoji) a post has, held in memory for posts with more kinds than their
 * summary row lists (SUMMARY_KINDS), so that a reaction of a new kind needs no read of its count
 * row to learn it is absent.
 *
 * A post is admitted when its summary row overflows in this process: at that moment the summary
 * listed every kind with a count, so the set is exact. From then on every count row the views
 * create goes through `added` (apply.ts changeCount), so the set holds at least every kind with a
 * count row: a kind may stay after its count went back to 0, or after a batch that was never
 * committed, and that only costs a read. A post overflowed before this process started is not
 * held: its reactions read their count rows as before.
 *
 * Memory is bounded by `cap` kinds over all posts: the posts admitted first are let go first, and
 * a post with more kinds than `cap` is not held at all.
 */
export class ReactionKinds {
  private readonly posts = new Map<string, Set<string>>()
  private held = 0

  /** `cap`: the most kinds held over all posts (an emoji is at most 32 bytes: CAPS.emoji). */
  constructor (private readonly cap = REACTION_KINDS_CAP) {}

  /** `post`'s summary overflowed listing exactly `kinds` (`post`: its summary row's slot). */
  admit (post: string, kinds: string[]): void {
    this.forget(post)
    if (kinds.length > this.cap) return
    this.posts.set(post, new Set(kinds))
    this.held += kinds.length
    this.trim(post)
  }

  /** A count row was written for `kind` on `post`: a held post holds it from now on. */
  added (post: string, kind: string): void {
    const kinds = this.posts.get(post)
    if (kinds === undefined || kinds.has(kind)) return
    kinds.add(kind)
    this.held++
    this.trim(post)
  }

  /** True when `post` is held and has no `kind`: its count row is then known absent. */
  absent (post: string, kind: string): boolean {
    const kinds = this.posts.get(post)
    return kinds !== undefined && !kinds.has(kind)
  }

  /** Lets every post go (the views were wiped). */
  clear (): void {
    this.posts.clear()
    this.held = 0
  }

  /** Kinds held over all posts. */
  get size (): number {
    return this.held
  }

  private forget (post: string): void {
    const kinds = this.posts.get(post)
    if (kinds === undefined) return
    this.held -= kinds.size
    this.posts.delete(post)
  }

  /** Lets the earliest posts go until at most `cap` kinds are held; `post` goes last. */
  private trim (post: string): void {
    for (const p of this.posts.keys()) {
      if (this.held <= this.cap) return
      if (p !== post) this.forget(p)
    }
    if (this.held > this.cap) this.forget(post)
  }
}

/** ReactionKinds' default cap: 65,536 kinds (at most 32 bytes each: 7.2 MiB of heap held at most, measured with 32-byte emoji). */
export const REACTION_KINDS_CAP = 65_536
