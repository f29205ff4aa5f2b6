/**
 * An identity id as the node prints it: a 32-byte public key in z-base32, 52 characters. 52 × 5
 * bits is 260, so the last character carries one bit and four zero bits: it is `y` or `o`.
 */
const IDENTITY_ID = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{51}[yo]$/

export function isIdentityId (value: string): boolean {
  return IDENTITY_ID.test(value)
}

/** The first characters of an id, for places without a name. */
export function shortId (id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id
}

export function displayName (name: string | null, id: string): string {
  return name !== null && name.trim() !== '' ? name : shortId(id)
}
