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
