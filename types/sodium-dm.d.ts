// The sodium-universal functions the DM core (src/dm) uses, beyond those in holepunch.d.ts.
// Functions only: repeated declarations merge as overloads, so this file never conflicts.
declare module 'sodium-universal' {
  export function crypto_hash_sha256 (out: Uint8Array, input: Uint8Array): void
  export function crypto_hash_sha256_init (state: Uint8Array): void
  export function crypto_hash_sha256_update (state: Uint8Array, input: Uint8Array): void
  export function crypto_hash_sha256_final (state: Uint8Array, out: Uint8Array): void
  export function crypto_scalarmult (q: Uint8Array, n: Uint8Array, p: Uint8Array): void
  export function crypto_scalarmult_base (q: Uint8Array, n: Uint8Array): void
  export function crypto_secretbox_easy (c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void
  export function crypto_secretbox_open_easy (m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean
  export function sodium_memzero (buf: Uint8Array): void
}
