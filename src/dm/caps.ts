/**
 * The DM layer's constants that must never drift between versions or peers: record type numbers
 * and versions, KDF labels, sizes and limits. Changing any value here is a protocol break.
 * See docs/DM.md and the `box` and `keys` sections of docs/PROTOCOL.md.
 */

/** Feed record type of an encrypted DM (`box`). */
export const BOX_TYPE = 10
/** Feed record type of a device's DM keys (`keys`). */
export const KEYS_TYPE = 12
export const BOX_VERSION = 1
export const KEYS_VERSION = 1
/** Version of the local (primary-state) encodings of device keys and sessions. */
export const STATE_VERSION = 1

/** Namespace (for `namespaceHash`) of the feed key's signature over a `keys` record. */
export const KEYS_SIGNATURE = 'dm-keys/v1'

/** HKDF info labels, one per derived key, so no two derivations can ever collide. */
export const LABEL = {
  x3dh: 'shoal/dm/x3dh/v1',
  root: 'shoal/dm/root/v1',
  prekeyWrap: 'shoal/dm/prekey-wrap/v1',
  slot: 'shoal/dm/slot/v1',
  messageKey: 'shoal/dm/message-key/v1',
  body: 'shoal/dm/body/v1'
} as const

/** Device key rotation: a new signed prekey every 7 days; a replaced prekey's secret is kept 30 more days. */
export const DEFAULT_KEY_POLICY = { rotateAfter: 7 * 24 * 3600_000, graceAfter: 30 * 24 * 3600_000 } as const

/** Ratchet limits (libsignal-like): the furthest a header may jump ahead, and what we keep. */
export const RATCHET_LIMITS = {
  /** Most message keys one received header may make us skip (derive and store). */
  maxSkip: 2000,
  /** Most skipped message keys kept per session; the oldest are dropped first. */
  maxStoredSkipped: 1000,
  /** Most earlier receiving chains whose skipped keys are kept (each costs a trial key per box). */
  maxSkippedChains: 5
} as const

/**
 * Most sessions kept with one remote device (Sesame's "inactive sessions"). Each costs trial keys
 * per box, and a malicious device could otherwise start a new session with every message.
 */
export const MAX_SESSIONS_PER_DEVICE = 4

/** The fixed size of one key slot in a box, and what it is made of. */
export const SLOT = {
  /** Ratchet header: ratchet public key, previous chain length, message number (uint32 LE each). */
  header: 40,
  /** Plaintext of the slot key box: [ephemeral key ‖ header] or [header ‖ 32 zero bytes]. */
  locator: 72,
  /** The slot key box (locator + MAC) followed by the content-key box (32 + MAC). */
  bytes: 72 + 16 + 32 + 16
} as const

/** Slot counts a box may have: the real slots are padded with random ones up to the next bucket. */
export const SLOT_BUCKETS = [4, 8, 16, 32, 64] as const
/** Whole-block sizes a box may have (envelope included). */
export const SIZE_BUCKETS = [1024, 2048, 4096, 8192, 16384] as const

/** Caps on a DM's content, checked when sealing and again when opening. */
export const DM_CAPS = {
  /** Recipient devices (slots that are real), the sender's own other devices included. */
  devices: 64,
  /** Recipient identities named inside the box. */
  recipients: 16,
  /** Text, in bytes of UTF-8. */
  text: 4096
} as const

/** The coarse clear-text time of a box: milliseconds rounded down to the hour. */
export const COARSE_TIME_MS = 3600_000
