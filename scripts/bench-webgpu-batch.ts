/**
 * Is WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE = 1 (core/train/backend.ts) needed, and what does it
 * cost? Trains a graph (default: the MNIST MLP example) on WebGPU in Node (the npm `webgpu`
 * package, Dawn) once per batch size, and prints samples/s and whether the step losses agree
 * to the bit with batch size 1. One prepared script for a machine with a hardware GPU:
 *
 *   npx tsx scripts/bench-webgpu-batch.ts [FILE] [--steps N]
 *
 * Each batch size runs in its own process (tfjs reads the flag per dispatch, but a fresh
 * process keeps the runs independent). A measurement, not a test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SIZES = [1, 15] as const;

async function child(file: string, steps: number, batchSize: number): Promise<void> {
  const { nodeTf } = await import('../core/cli/node-runtime.ts');
  const { loadGraph } = await import('../core/io/load.ts');
  const { Trainer } = await import('../core/train/trainer.ts');
  const { tf, choice, adapter } = await nodeTf(['webgpu']);
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batchSize);
  const loaded = loadGraph(readFileSync(file, 'utf8'));
  if (!loaded.ok) throw new Error(`${file}: ${loaded.error.message}`);
  const warm = Trainer.create(tf, loaded.document, { backend: choice.backend, maxSteps: 5 });
  await warm.run();
  warm.dispose();
  const t = Trainer.create(tf, loaded.document, { backend: choice.backend, maxSteps: steps, readEvery: 10 });
  const t0 = performance.now();
  await t.run();
  const seconds = (performance.now() - t0) / 1000;
  const record = t.runRecord('completed');
  const samples = Number(record.settings.batchSize) * steps;
  process.stdout.write(`${JSON.stringify({ batchSize, adapter, samplesPerSecond: samples / seconds, stepLoss: record.stepLoss })}\n`);
  t.dispose();
  process.exit(0);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { steps: { type: 'string' }, child: { type: 'string' } } });
const file = positionals[0] ?? fileURLToPath(new URL('../examples/mnist-mlp.nngraph', import.meta.url));
const steps = Number(values.steps ?? 200);
if (values.child) {
  await child(file, steps, Number(values.child));
} else {
  type Result = { batchSize: number; adapter: string; samplesPerSecond: number; stepLoss: number[] };
  const results: Result[] = SIZES.map((b) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), file, '--steps', String(steps), '--child', String(b)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.trim().split('\n').pop()!) as Result;
  });
  const base = results[0]!;
  console.log(`adapter: ${base.adapter}; ${file}, ${steps} steps`);
  for (const r of results) {
    const same = r.stepLoss.length === base.stepLoss.length && r.stepLoss.every((l, i) => Object.is(l, base.stepLoss[i]));
    const zeros = r.stepLoss.filter((l) => l === 0).length;
    console.log(`WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE ${String(r.batchSize).padStart(2)}: ${r.samplesPerSecond.toFixed(0)} samples/s, step losses ${same ? 'identical to batch size 1' : 'DIFFER from batch size 1'}${zeros ? `, ${zeros} read back as 0` : ''}`);
  }
}
