import { describe, expect, it } from 'vitest';
import { tfjsThreadCount, WASM_MAX_THREADS, wasmLogicalCoresFor, wasmThreadCount } from '../../core/train/wasm-threads.ts';

describe('WASM thread count', () => {
  it.each([
    [1, 1],
    [2, 1], // one per core on a 2-core CPU without SMT: the page keeps the other (README, "Threads")
    [3, 1],
    [4, 2],
    [8, 4],
    [16, 8],
    [64, 8],
    [0, 1],
    [Number.NaN, 1],
  ])('by default (app and command line) %d logical CPUs give %d threads', (cpus, threads) => {
    expect(wasmThreadCount(cpus)).toBe(threads);
  });

  it.each([
    [1, 1],
    [2, 1],
    [4, 2],
    [16, 8],
    [64, 8],
    [0, 1],
  ])('the command line keeps tfjs’s own count: %d logical CPUs give %d', (cpus, threads) => {
    expect(tfjsThreadCount(cpus)).toBe(threads);
  });

  it('a requested count wins, within tfjs-backend-wasm’s 1..8', () => {
    expect(wasmThreadCount(2, 1)).toBe(1);
    expect(wasmThreadCount(2, WASM_MAX_THREADS)).toBe(8);
    expect(() => wasmThreadCount(2, 0)).toThrow('WASM threads must be a whole number from 1 to 8, got 0');
    expect(() => wasmThreadCount(2, 9)).toThrow(/got 9/);
    expect(() => wasmThreadCount(2, 1.5)).toThrow(/got 1.5/);
  });

  it('presents twice the threads as logical cores, since tfjs caps its pool at cores / 2', () => {
    for (const t of [1, 2, 5, 8]) expect(Math.min(t, 8, Math.floor(wasmLogicalCoresFor(t) / 2))).toBe(t);
  });
});
