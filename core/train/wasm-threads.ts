/**
 * How many threads the WASM backend's XNNPACK pool gets, and how to make tfjs give it that many.
 *
 * tfjs-backend-wasm 4.22 caps the pool at min(requested, 8, logicalCores / 2): the halving
 * assumes two hardware threads per core. On a CPU without SMT (the project's 2-core EPYC
 * machines report 2 logical CPUs, one thread per core) that leaves one thread. That is also
 * Gradflow's default, in the app and on the command line: measured in the app on such a
 * machine, a second pool thread trained no faster (the page's own thread competes with it for
 * the second core) and cost the UI's share of the time (README, "Threads"). A count asked for
 * (the run bar's Threads, `--threads`) wins; tfjs is made to accept it by presenting
 * `2 × threads` logical cores while the backend initializes (see `wasmLogicalCoresFor`).
 */

/** tfjs-backend-wasm pre-starts 8 pthreads (PTHREAD_POOL_SIZE) and caps its pool there. */
export const WASM_MAX_THREADS = 8;

/**
 * The XNNPACK pool size for a machine with `logicalCpus` logical processors
 * (navigator.hardwareConcurrency, os.availableParallelism()): `requested` (1..8) when given,
 * else {@link tfjsThreadCount}.
 */
export function wasmThreadCount(logicalCpus: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > WASM_MAX_THREADS) {
      throw new RangeError(`WASM threads must be a whole number from 1 to ${WASM_MAX_THREADS}, got ${requested}`);
    }
    return requested;
  }
  return tfjsThreadCount(logicalCpus);
}

/**
 * The pool size tfjs-backend-wasm picks by itself: logical CPUs / 2 (one thread per physical
 * core where each core runs two hardware threads), from 1 to 8; Gradflow's default.
 */
export function tfjsThreadCount(logicalCpus: number): number {
  const cpus = Number.isFinite(logicalCpus) && logicalCpus >= 1 ? Math.floor(logicalCpus) : 1;
  return Math.min(WASM_MAX_THREADS, Math.max(1, Math.floor(cpus / 2)));
}

/** The logical-core count to present to tfjs-backend-wasm so that its cap (cores / 2) allows `threads`. */
export function wasmLogicalCoresFor(threads: number): number {
  return 2 * threads;
}
