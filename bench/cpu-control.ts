/**
 * A fixed amount of pure CPU work, calibrated to a target duration. Timed alongside a query, its
 * p99/p50 spread shows how much of a latency tail comes from the machine (other processes,
 * CPU steal) rather than from the code under test.
 */

function work (iterations: number): number {
  let x = 0
  for (let i = 0; i < iterations; i++) x += Math.sqrt(i + x % 7)
  return x
}

export class CpuControl {
  private iterations = 10_000
  sink = 0

  /** Scales the work so that one run takes about `ms` on this machine now. */
  calibrate (ms: number): void {
    for (let round = 0; round < 5; round++) {
      const times: number[] = []
      for (let i = 0; i < 9; i++) {
        const start = performance.now()
        this.sink += work(this.iterations)
        times.push(performance.now() - start)
      }
      times.sort((a, b) => a - b)
      this.iterations = Math.max(1000, Math.round(this.iterations * (ms / Math.max(times[4], 0.001))))
    }
  }

  run (): void {
    this.sink += work(this.iterations)
  }
}
