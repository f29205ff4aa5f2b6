/**
 * Node flags of every Shoal launch: bin/shoal.js's shebang, `npm start` and the desktop entry's
 * Exec line carry the same list (test/launch-flags.test.ts checks them). They bound the V8 heap
 * of a node that indexes a large backlog (ARCHITECTURE.md "Memory"):
 * - a 2 MiB young generation (Node's default grows it to 16 MiB, nearly all indexing garbage);
 * - the old generation collected once it is 1.5x what the last full collection left
 *   (V8 lets it grow to about 3.5x: 60-70 MiB with 18 MiB live while indexing 3,000 feeds).
 */
export const NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=50']
