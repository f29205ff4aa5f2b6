/**
 * Test-only reference XSalsa20-Poly1305 secretbox (NaCl `crypto_secretbox_easy` layout: MAC ‖
 * ciphertext), written from the Salsa20 and Poly1305 specifications so the DM differential tests
 * do not depend on sodium for the cipher. Slow and simple on purpose; never use it for real data.
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]

function rotl (v: number, c: number): number { return ((v << c) | (v >>> (32 - c))) >>> 0 }

function u32 (b: Uint8Array, i: number): number { return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0 }

function rounds (x: number[]): void {
  const qr = (a: number, b: number, c: number, d: number): void => {
    x[b] ^= rotl((x[a] + x[d]) >>> 0, 7)
    x[c] ^= rotl((x[b] + x[a]) >>> 0, 9)
    x[d] ^= rotl((x[c] + x[b]) >>> 0, 13)
    x[a] ^= rotl((x[d] + x[c]) >>> 0, 18)
  }
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11)
    qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14)
  }
}

function input (key: Uint8Array, w6: number, w7: number, w8: number, w9: number): number[] {
  return [
    SIGMA[0], u32(key, 0), u32(key, 4), u32(key, 8), u32(key, 12), SIGMA[1], w6, w7,
    w8, w9, SIGMA[2], u32(key, 16), u32(key, 20), u32(key, 24), u32(key, 28), SIGMA[3]
  ]
}

function hsalsa20 (key: Uint8Array, n16: Uint8Array): Uint8Array {
  const x = input(key, u32(n16, 0), u32(n16, 4), u32(n16, 8), u32(n16, 12))
  rounds(x)
  const out = new Uint8Array(32)
  const view = new DataView(out.buffer)
  ;[0, 5, 10, 15, 6, 7, 8, 9].forEach((w, i) => view.setUint32(i * 4, x[w] >>> 0, true))
  return out
}

function xsalsa20Stream (key: Uint8Array, nonce: Uint8Array, length: number): Uint8Array {
  const sub = hsalsa20(key, nonce.subarray(0, 16))
  const out = new Uint8Array(length)
  for (let block = 0; block * 64 < length; block++) {
    const init = input(sub, u32(nonce, 16), u32(nonce, 20), block >>> 0, Math.floor(block / 0x100000000))
    const x = init.slice()
    rounds(x)
    const bytes = new Uint8Array(64)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < 16; i++) view.setUint32(i * 4, (x[i] + init[i]) >>> 0, true)
    out.set(bytes.subarray(0, Math.min(64, length - block * 64)), block * 64)
  }
  return out
}

function le (b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}

function poly1305 (key: Uint8Array, msg: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn
  const s = le(key.subarray(16, 32))
  let acc = 0n
  for (let i = 0; i < msg.length; i += 16) {
    const chunk = msg.subarray(i, i + 16)
    acc = ((acc + le(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p
  }
  let tag = (acc + s) & ((1n << 128n) - 1n)
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) { out[i] = Number(tag & 0xffn); tag >>= 8n }
  return out
}

/** secretbox(key 32, nonce 24, plain) → MAC 16 ‖ ciphertext. */
export function refSecretbox (key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Uint8Array {
  const stream = xsalsa20Stream(key, nonce, 32 + plain.length)
  const cipher = plain.map((b, i) => b ^ stream[32 + i])
  const out = new Uint8Array(16 + plain.length)
  out.set(poly1305(stream.subarray(0, 32), cipher))
  out.set(cipher, 16)
  return out
}

/** Opens a secretbox; null when the MAC does not verify. */
export function refSecretboxOpen (key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Uint8Array | null {
  if (box.length < 16) return null
  const stream = xsalsa20Stream(key, nonce, box.length + 16)
  const tag = poly1305(stream.subarray(0, 32), box.subarray(16))
  let diff = 0
  for (let i = 0; i < 16; i++) diff |= tag[i] ^ box[i]
  if (diff !== 0) return null
  return box.subarray(16).map((b, i) => b ^ stream[32 + i])
}
