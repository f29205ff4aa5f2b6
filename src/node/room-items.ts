/** What the rooms service returns to the CLI and the API (shared with the UI: no imports here). */

/** A room in my list: id (z-base32 room key), name, my role, messages I have not read. */
export interface RoomListItem { id: string, name: string, role: string, unread: number }
export interface RoomMessageItem {
  id: string
  author: string
  /** The author's profile name if held, else the name it set in the room, else a short id. */
  authorName: string
  text: string | null
  timestamp: number | null
  parent: string | null
  reactions: Record<string, number>
  edited: boolean
}
/** A member; `name` as RoomMessageItem.authorName (never null). */
export interface RoomMemberItem { id: string, name: string, role: string, muted: boolean }

/**
 * A writer of another device flagged on the wire: its key (z-base32), the member it is a device
 * of (null: none in the view), the bytes its log states, the blocks cleared here, whether they
 * are kept instead (an admin device's: Autobase needs them), and each issue (flag oversize or
 * storage-cap, a sentence, when in ms since the epoch).
 */
export interface RoomWriterItem {
  writer: string
  member: string | null
  memberName: string | null
  bytes: number
  clearedBlocks: number
  kept: boolean
  issues: Array<{ flag: string, detail: string, at: number }>
}
/** A room's state as `shoal room status` shows it: counts, the per-writer cap, flagged writers. */
export interface RoomStatusItem { id: string, name: string, members: number, messages: number, storagePerWriter: number, writers: RoomWriterItem[] }
