import type { Item } from '../protocol.ts'
import { PostCard } from './PostCard.tsx'

export interface ReplyTreeProps {
  /** Replies by the id of the message they answer, oldest first. */
  tree: Map<string, Item[]>
  parent: string
  focus: string | null
  onChanged: () => void
}

/** The replies to one message, each followed by its own replies, nested. */
export function ReplyTree ({ tree, parent, focus, onChanged }: ReplyTreeProps) {
  const replies = tree.get(parent)
  if (replies === undefined || replies.length === 0) return null
  return (
    <ol className='replies'>
      {replies.map((item) => (
        <li key={item.id}>
          <PostCard item={item} inThread highlight={item.id === focus} onChanged={onChanged} />
          <ReplyTree tree={tree} parent={item.id} focus={focus} onChanged={onChanged} />
        </li>
      ))}
    </ol>
  )
}
