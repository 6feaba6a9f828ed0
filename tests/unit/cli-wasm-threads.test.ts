/**
 * Multi-threaded WASM in Node (core/cli/wasm-threads-node.ts): `--threads` gives the backend a
 * pool of that many threads through worker_threads, the run says how many it used, and the
 * numbers do not change with the thread count. Each run is its own process: the pool is sized
 * once, when the backend starts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'gradflow.mjs');
const MLP = join(ROOT, 'examples', 'mnist-mlp.nngraph');

interface Run {
  backend: string;
  threads: number | null;
  stepLoss: number[];
  final: { valLoss: number; valAccuracy: number };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradflow-threads-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function train(threads: number): Promise<Run> {
  const out = join(dir, `run-${threads}.json`);
  // The MNIST MLP's 128×784·784×256 products are large enough for XNNPACK to split them.
  await promisify(execFile)(process.execPath, [BIN, 'train', MLP, '--backend', 'wasm', '--threads', String(threads), '--steps', '15', '--read-every', '1', '--out', out], { cwd: ROOT });
  return JSON.parse(readFileSync(out, 'utf8')) as Run;
}

describe('gradflow train --threads', () => {
  it('runs the WASM backend on a pool of 2 threads in Node, with the same losses as on 1', async () => {
    const one = await train(1);
    const two = await train(2);
    expect(one.backend).toBe('wasm');
    expect(two.backend).toBe('wasm');
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.stepLoss).toHaveLength(15);
    // XNNPACK splits each product's output tiles over the threads, so every number is
    // computed in the same order: the curves agree to the bit.
    expect(two.stepLoss).toEqual(one.stepLoss);
    expect(two.final).toEqual(one.final);
    expect(two.stepLoss[14]!).toBeLessThan(two.stepLoss[0]!);
  });

  it.each(['0', '9', '1.5', 'many'])('refuses --threads %s with the range', async (v) => {
    let err = '';
    const io: Io = { out: () => {}, err: (t) => void (err += t), isTTY: false };
    expect(await main(['bench', '--threads', v], io)).toBe(2);
    expect(err).toContain(`--threads must be a whole number from 1 to 8, got '${v}'`);
  });
});
