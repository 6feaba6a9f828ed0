/**
 * Multi-threaded WASM in Node: tfjs-backend-wasm's threaded SIMD build with its pthreads as
 * worker_threads.
 *
 * tfjs 4.22 turns threads off in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when IS_NODE,
 * tfjs #3830) because of how it boots a pthread, which works only in browsers:
 *  1. the pthread script is a Blob URL of `wasmWorkerContents`, but Node's `Worker` takes a
 *     file path or a `data:`/`file:` URL, not `blob:`;
 *  2. each pthread then loads the Emscripten glue from `mainScriptUrlOrBlob`, a Blob of the
 *     factory's source, with `importScripts`, which the worker script emulates in Node by
 *     reading a file (`fs.readFileSync`), and a Blob is not a file.
 * The same Emscripten build already speaks Node in both scripts (worker_threads messages,
 * `require`), so this fills exactly those two gaps: a `Worker` that runs the pthread script
 * as code (`eval`) when given tfjs's blob URL, and a `load` message that names the glue's file
 * on disk (the same Emscripten output, `wasm-out/tfjs-backend-wasm-threaded-simd.js`) instead
 * of the Blob. tfjs's own pool-size rule applies as in the browser (see core/train/wasm-threads.ts).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import workerThreads from 'node:worker_threads';
import type { TF } from '../graph/types.ts';
import { wasmLogicalCoresFor } from '../train/wasm-threads.ts';

const require = createRequire(import.meta.url);

let installed = false;

/** Replace worker_threads.Worker (read by Emscripten when the backend starts) with one that boots tfjs's pthreads. */
function installPthreadWorker(): void {
  if (installed) return;
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  // tfjs escapes the newlines the same way before making its Blob: the script's string
  // literals contain "\n", which the template literal it ships in turned into real newlines.
  const pthreadScript = wasmWorkerContents.replace(/\n/g, '\\n');
  const NodeWorker = workerThreads.Worker;
  class PthreadWorker extends NodeWorker {
    constructor(filename: string | URL, options?: workerThreads.WorkerOptions) {
      const isTfjsPthread = typeof filename === 'string' && filename.startsWith('blob:');
      super(isTfjsPthread ? pthreadScript : filename, isTfjsPthread ? { ...options, eval: true } : options);
      // The pool's threads wait for work forever: they must not keep the command running.
      if (isTfjsPthread) this.ref = () => this;
      if (isTfjsPthread) this.unref();
    }
    override postMessage(message: unknown, transferList?: readonly workerThreads.Transferable[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      super.postMessage(m?.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: glue } : message, transferList as workerThreads.Transferable[]);
    }
  }
  (workerThreads as { Worker: typeof NodeWorker }).Worker = PthreadWorker;
  installed = true;
}

/**
 * Ask the WASM backend (not started yet) for a pool of `threads`. Call after importing
 * '@tensorflow/tfjs-backend-wasm' and before tf.setBackend('wasm'); call the returned
 * function once the backend has started.
 */
export function prepareNodeWasmThreads(tf: TF, wasm: { setThreadsCount(n: number): void }, threads: number): () => void {
  if (threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return () => {};
  }
  installPthreadWorker();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  // tfjs caps the pool at the logical core count / 2, read from os.cpus() while it starts.
  const cpus = os.cpus;
  const cores = wasmLogicalCoresFor(threads);
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: cores }, (_, i) => real[i % real.length]!);
  };
  return () => {
    os.cpus = cpus;
  };
}
