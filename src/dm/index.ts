// The portable DM crypto core: device keys, X3DH, Double Ratchet with header encryption, boxes.
export * from './caps.js'
export { systemRng, type KeyPair, type Rng } from './primitives.js'
export * from './keys-record.js'
export * from './device-keys.js'
export * from './x3dh.js'
export * from './ratchet.js'
export * from './session.js'
export * from './envelope.js'
