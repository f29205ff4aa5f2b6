// Runs one compiled brittle test file under Bare: `bare test/bare/run-file.js TIMEOUT_MS FILE`.
// brittle-bare does not run on the Bare that npm ships (1.31), so this does what it would:
// configure brittle's per-test timeout, then load the file. @noble (used by reference tests only)
// wants the WHATWG TextEncoder/TextDecoder globals, which Bare leaves to bare-encoding.
import brittle from 'brittle'
import encoding from 'bare-encoding'

globalThis.TextEncoder ??= encoding.TextEncoder
globalThis.TextDecoder ??= encoding.TextDecoder

const [timeout, file] = Bare.argv.slice(-2)
brittle.configure({ timeout: Number(timeout) })
await import(file)
