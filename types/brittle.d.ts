// Minimal declarations for brittle, limited to what Shoal's tests use.
declare module 'brittle' {
  interface Test {
    plan (n: number): void
    pass (msg?: string): void
    fail (msg?: string): void
    ok (value: unknown, msg?: string): void
    absent (value: unknown, msg?: string): void
    is (actual: unknown, expected: unknown, msg?: string): void
    not (actual: unknown, expected: unknown, msg?: string): void
    alike (actual: unknown, expected: unknown, msg?: string): void
    unlike (actual: unknown, expected: unknown, msg?: string): void
    exception (fn: Promise<unknown> | (() => unknown), expected?: RegExp | ErrorConstructor, msg?: string): Promise<void>
    execution (fn: Promise<unknown> | (() => unknown), msg?: string): Promise<void>
    comment (msg: string): void
    teardown (fn: () => unknown | Promise<unknown>, opts?: { order?: number }): void
    tmp (): Promise<string>
    timeout (ms: number): void
    test (name: string, fn: (t: Test) => unknown): Promise<void>
  }
  interface TestFn {
    (name: string, fn: (t: Test) => unknown): Promise<void>
    skip (name: string, fn: (t: Test) => unknown): Promise<void>
    solo (name: string, fn: (t: Test) => unknown): Promise<void>
  }
  const test: TestFn & { configure (opts: { timeout?: number, serial?: boolean }): void }
  export default test
  export type { Test }
}
