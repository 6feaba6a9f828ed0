/**
 * How many threads the WASM backend's XNNPACK pool gets, and how to make tfjs give it that many.
 *
 * tfjs-backend-wasm 4.22 caps the pool at min(requested, 8, logicalCores / 2): the halving
 * assumes two hardware threads per core. On a CPU without SMT (the project's 2-core EPYC
 * machines report 2 logical CPUs, one thread per core) that leaves one thread, so the threaded
 * build runs exactly like the single-threaded one. Gradflow keeps tfjs's rule (one thread per
 * physical core on SMT machines, at most the 8 pthreads tfjs pre-starts) but never goes below
 * two threads on a machine with two or more logical CPUs (the app's default), and tells tfjs
 * so by presenting `2 × threads` logical cores while the backend initializes (see
 * `wasmLogicalCoresFor`). The command line keeps tfjs's own count unless asked (`--threads`).
 */

/** tfjs-backend-wasm pre-starts 8 pthreads (PTHREAD_POOL_SIZE) and caps its pool there. */
export const WASM_MAX_THREADS = 8;

/**
 * The XNNPACK pool size for a machine with `logicalCpus` logical processors
 * (navigator.hardwareConcurrency, os.availableParallelism()); `requested` overrides it (1..8).
 */
export function wasmThreadCount(logicalCpus: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > WASM_MAX_THREADS) {
      throw new RangeError(`WASM threads must be a whole number from 1 to ${WASM_MAX_THREADS}, got ${requested}`);
    }
    return requested;
  }
  const cpus = Number.isFinite(logicalCpus) && logicalCpus >= 1 ? Math.floor(logicalCpus) : 1;
  if (cpus < 2) return 1;
  return Math.min(WASM_MAX_THREADS, Math.max(2, Math.floor(cpus / 2)));
}

/**
 * The pool size tfjs-backend-wasm picks by itself: logical CPUs / 2 (one thread per physical
 * core where each core runs two hardware threads), from 1 to 8. The command line's default: on
 * a shared machine a second thread can cost more than it gives (README, "Threads").
 */
export function tfjsThreadCount(logicalCpus: number): number {
  const cpus = Number.isFinite(logicalCpus) && logicalCpus >= 1 ? Math.floor(logicalCpus) : 1;
  return Math.min(WASM_MAX_THREADS, Math.max(1, Math.floor(cpus / 2)));
}

/** The logical-core count to present to tfjs-backend-wasm so that its cap (cores / 2) allows `threads`. */
export function wasmLogicalCoresFor(threads: number): number {
  return 2 * threads;
}
