/** The UI's one door to the API contract shared with the server (src/api/protocol.ts). */
export * from '../../src/api/protocol.ts'
