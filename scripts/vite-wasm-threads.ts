/**
 * Keeps tfjs-backend-wasm's threaded build working once Vite bundles and minifies it.
 *
 * How tfjs 4.22 starts its pthreads: each pthread is a classic Worker made from the
 * `wasmWorkerContents` string, and it loads the Emscripten glue from a Blob that tfjs builds as
 * `"var WasmBackendModuleThreadedSimd = " + factory.toString()`. So the factory function must be
 * self-contained: its text runs in a fresh worker scope, away from the module it came from.
 *
 * It is not quite: Emscripten wraps it in `(() => { var _scriptDir = …; return function(…) {…} })()`
 * and the factory reads that closure variable, guarded as `typeof _scriptDir !== "undefined"`
 * (tfjs #4528) so that the worker copy, where it does not exist, skips it. A minifier sees that
 * `_scriptDir` is always declared, drops the guard (`e!==void 0&&e`) and renames it, so in the
 * pthread the text throws "ReferenceError: e is not defined" (tfjs #4539) and the pool never
 * starts. Inside a Vite bundle `_scriptDir` is always undefined anyway (module scripts and
 * workers have no `document.currentScript`; browsers have no `__filename`), so this replaces
 * the factory's reads of it by `undefined`: the text then names nothing outside itself.
 */
import type { Plugin } from 'vite';

const THREADED_GLUE = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
/** Where Emscripten's wrapper hands out the factory: everything after it is the factory's text. */
const FACTORY_START = /return \(\s*function\s*\(\s*WasmBackendModuleThreadedSimd\s*\)/;

/**
 * The glue with the factory's reads of the wrapper's `_scriptDir` replaced by `undefined`.
 * Throws when the file no longer looks as expected (a tfjs upgrade), so a build cannot ship a
 * threaded backend that silently fails to start.
 */
export function selfContainedThreadedFactory(code: string): string {
  const start = code.search(FACTORY_START);
  if (start < 0) throw new Error('tfjs-backend-wasm-threaded-simd.js: the Emscripten factory was not found; check scripts/vite-wasm-threads.ts against this tfjs version');
  const head = code.slice(0, start);
  const factory = code.slice(start);
  const reads = factory.match(/\b_scriptDir\b/g)?.length ?? 0;
  if (reads === 0) throw new Error('tfjs-backend-wasm-threaded-simd.js: the factory no longer reads _scriptDir; check scripts/vite-wasm-threads.ts against this tfjs version');
  return head + factory.replace(/\b_scriptDir\b/g, 'undefined');
}

/** The Vite plugin applying {@link selfContainedThreadedFactory} to tfjs's threaded glue. */
export function wasmThreadsSurviveBundling(): Plugin {
  return {
    name: 'gradflow-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!THREADED_GLUE.test(id.split('?')[0]!)) return null;
      return { code: selfContainedThreadedFactory(code), map: null };
    },
  };
}
