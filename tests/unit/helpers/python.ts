/**
 * Debian's Python with torch, onnx and numpy, for the export tests. CI installs it and sets
 * GRADFLOW_PYTHON_TESTS=1, which makes a missing module a failure instead of a skip.
 */
import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

let cached: boolean | null = null;

/** Whether /usr/bin/python3 can import the given modules (torch, onnx, numpy). */
export function havePython(): boolean {
  if (cached !== null) return cached;
  const r = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
  cached = r.status === 0;
  if (!cached && process.env.GRADFLOW_PYTHON_TESTS === '1') {
    throw new Error(`GRADFLOW_PYTHON_TESTS=1 but ${PYTHON} cannot import torch, onnx and numpy: ${r.stderr || r.error?.message}`);
  }
  return cached;
}

/** Run a Python script; returns stdout, throws with stderr when it fails. */
export function python(args: string[], opts: { cwd?: string; input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): string {
  const r = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    cwd: opts.cwd,
    input: opts.input,
    timeout: opts.timeoutMs ?? 300_000,
    // One BLAS thread: CI has two cores and vitest runs two workers.
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...opts.env },
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
