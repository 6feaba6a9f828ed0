import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { selfContainedThreadedFactory } from '../../scripts/vite-wasm-threads.ts';

const require = createRequire(import.meta.url);
const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const glue = readFileSync(gluePath, 'utf8');

/** Run the CommonJS glue and return what it exports: Emscripten's factory. */
function factoryOf(code: string): (...args: unknown[]) => unknown {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', code)(module, module.exports);
  return module.exports as (...args: unknown[]) => unknown;
}

describe('the threaded WASM glue survives bundling', () => {
  it('the factory tfjs hands to each pthread as source text reads nothing from its wrapper', () => {
    // The untouched factory reads the wrapper's _scriptDir: a minifier renames it, and the
    // pthread's copy then throws "e is not defined".
    expect(factoryOf(glue).toString()).toMatch(/\b_scriptDir\b/);
    const fixed = factoryOf(selfContainedThreadedFactory(glue));
    const text = fixed.toString();
    expect(text).not.toMatch(/\b_scriptDir\b/);
    // tfjs's own wrapping of that text (backend_wasm.ts) still parses as a script.
    expect(() => new Function(`var WasmBackendModuleThreadedSimd = ${text}; return WasmBackendModuleThreadedSimd;`)).not.toThrow();
    // Only the factory changes: the wrapper before it is kept byte for byte.
    const cut = glue.search(/return \(\s*function\s*\(\s*WasmBackendModuleThreadedSimd\s*\)/);
    expect(selfContainedThreadedFactory(glue).slice(0, cut)).toBe(glue.slice(0, cut));
  });

  it('refuses a glue file that no longer looks as expected, naming the plugin to check', () => {
    expect(() => selfContainedThreadedFactory('var x = 1;')).toThrow(/factory was not found; check scripts\/vite-wasm-threads\.ts/);
    expect(() => selfContainedThreadedFactory('return (\nfunction(WasmBackendModuleThreadedSimd) { return 1; })')).toThrow(/no longer reads _scriptDir/);
  });
});
