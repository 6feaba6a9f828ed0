/**
 * How often a time-paced run (the app's, `intervalMs`) may instrument a step, so that the
 * instrumentation costs at most a share of the training time whatever the graph.
 *
 * An instrumented step runs unfused with a probe on every edge and reduces norms and
 * histograms of every layer: on the MNIST MLP it costs about one more plain step (15 ms on
 * WASM), on a convolutional net with large activations far more. A fixed 5 Hz would spend
 * 7 % of the MLP's time on it and more on bigger graphs. Instead, after an instrumented
 * step that took `extra` ms longer than a plain step that also read back, the next one
 * waits until `extra / share` ms have passed, so instrumentation's part of the wall time
 * stays at or under `share`; cheap graphs keep the caller's pace.
 *
 * Both sides of the comparison are read-back steps: on a GPU backend a step returns before
 * its work is done and the read-back waits for everything queued, so only a read-back step
 * measures the step's real cost. The first instrumented step is not measured (it compiles
 * its kernels: seconds on a GPU backend), and until a plain read-back step has been seen, a
 * due step is left plain once to measure it.
 */
export class InstrumentBudget {
  private plainMs: number | null = null;
  private seen = 0;
  private last: { start: number; ms: number } | null = null;

  /** @param share the part of the wall time instrumentation may take, in (0, 1]. */
  constructor(readonly share = 0.05) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`instrumentation share must be in (0, 1], got ${share}`);
  }

  /** Whether a step that is due to be read back at time `at` (ms) may be instrumented. */
  allows(at: number): boolean {
    if (this.seen === 0) return true;
    if (this.plainMs === null) return false;
    const gap = this.minIntervalMs;
    return gap === null || at >= this.last!.start + gap;
  }

  /** A read-back step without instrumentation took `ms` (from its start to its read-back). */
  plain(ms: number): void {
    // A moving average: one slow step (a GC pause, the OS) does not decide alone.
    this.plainMs = this.plainMs === null ? ms : 0.8 * this.plainMs + 0.2 * ms;
  }

  /** An instrumented read-back step started at `start` (ms) and took `ms`. */
  instrumented(start: number, ms: number): void {
    if (++this.seen > 1) this.last = { start, ms };
  }

  /**
   * The shortest time (ms) from one instrumented step's start to the next one's: its extra
   * cost over a plain read-back step, divided by the share. Null until both are measured
   * (the first instrumented step, a warm-up, does not count).
   */
  get minIntervalMs(): number | null {
    if (this.last === null || this.plainMs === null) return null;
    return Math.max(0, this.last.ms - this.plainMs) / this.share;
  }
}
