/**
 * Where a room's secrets live: primary local state kept by the room's owner, never in the view.
 * Names used by Room: `room-key` (the Autobase encryption key), `box-public` / `box-secret` (this
 * device's X25519 pair), `epoch/<n>` (a cached epoch key with the hash of the share it came from).
 */
import b4a from 'b4a'

/** A small async key-value store of secrets for one room on one device. */
export interface RoomKeyStore {
  get (name: string): Promise<Uint8Array | null>
  put (name: string, value: Uint8Array): Promise<void>
}

/** An in-memory RoomKeyStore (tests, ephemeral rooms). Values are copied in and out. */
export class MemoryRoomKeyStore implements RoomKeyStore {
  readonly #map = new Map<string, Uint8Array>()

  async get (name: string): Promise<Uint8Array | null> {
    const v = this.#map.get(name)
    return v === undefined ? null : b4a.from(v)
  }

  async put (name: string, value: Uint8Array): Promise<void> {
    this.#map.set(name, b4a.from(value))
  }
}
