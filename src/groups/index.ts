// The portable rooms core: re-exports only.
export { Room, type RoomOptions, type RoomEvents, type InviteOptions } from './room.js'
export type { RoomMessage, RoomMember } from './room-read.js'
export { ROLE, ROOM_VERSION, LEAVE_VERSION, MEMBER_NAME_VERSION, ROOM_CAPS, type Role } from './room-caps.js'
export { MemoryRoomKeyStore, type RoomKeyStore } from './room-keys.js'
export { memoryChannelPair, requestPairing, answerPairing, type MessageChannel, type PairingHost, type PairingResult } from './room-pairing.js'
export type { MessageId, DeviceAttestation, RoomInfo } from './room-schema.js'
export { DEFAULT_STORAGE_PER_WRITER, checkStoragePerWriter, type WriterReport, type WriterIssue, type WriterFlag } from './room-writer-watch.js'
