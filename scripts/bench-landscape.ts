/**
 * Loss-landscape speed on one backend (default wasm), in one process: the 2-D surface of the
 * MNIST MLP example (784-256-128-10, trained here for 2 epochs) on a seeded subset, evaluated
 * with the fast path (the first Dense computed once per direction, core/experiments/
 * directions.ts LinearLayerCache) and with a full forward pass at every point, over the same
 * points, directions and examples; then the largest loss difference between the two.
 * A measurement, not a test. Run: npm run bench:landscape [-- --grid 25 --samples 2000 --backend cpu]
 *
 * Both wall-clock and CPU time of this process are printed: on a shared machine the CPU time
 * counts other work less.
 */
import { parseArgs } from 'node:util';
import { nodeTf } from '../core/cli/node-runtime.ts';
import { createRng } from '../core/data/rng.ts';
import { loadMnistNode } from '../core/data/mnist-node.ts';
import { evaluateAlong, filterNormalizedDirection, linspace, type Evaluation } from '../core/experiments/directions.ts';
import type { ExperimentContext } from '../core/experiments/framework.ts';
import { loadGraph } from '../core/io/load.ts';
import { Trainer } from '../core/train/trainer.ts';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({ options: { backend: { type: 'string' }, grid: { type: 'string' }, samples: { type: 'string' } } });
const { tf, choice } = await nodeTf([values.backend ?? 'wasm']);
const grid = Number(values.grid ?? 25);
const samples = Number(values.samples ?? 2000);
const loaded = loadGraph(readFileSync(new URL('../examples/mnist-mlp.nngraph', import.meta.url)));
if (!loaded.ok) throw loaded.error;
const mnist = await loadMnistNode();
const trainer = Trainer.create(tf, loaded.document, { mnist, instrument: false, epochs: 2, backend: choice.backend });
await trainer.run();
const set = trainer.evaluationSet(samples, 7);
const theta = trainer.cloneTrainable();
const rng = createRng(1);
const directions = [filterNormalizedDirection(tf, theta, rng), filterNormalizedDirection(tf, theta, rng)];
const xs = linspace(-1, 1, grid);
const coords = xs.flatMap((b) => xs.map((a) => [a, b]));
const ctx = { tf, checkpoint: async () => {}, progress: () => {} } as unknown as ExperimentContext;

async function surface(precompute: boolean): Promise<{ wall: number; cpu: number; values: Evaluation[] }> {
  const out: Evaluation[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await evaluateAlong(ctx, trainer, set, theta, directions, coords, (_d, vs) => vs.forEach(({ index, value }) => (out[index] = value)), { precompute });
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, values: out };
}

console.log(`backend ${choice.backend}; MNIST MLP, ${grid} × ${grid} surface, ${set.n} examples per point`);
const fast = await surface(true);
console.log(`fast path (first Dense once per direction): ${fast.wall.toFixed(1)} s wall, ${fast.cpu.toFixed(1)} s CPU`);
const plain = await surface(false);
console.log(`full forward pass at every point:          ${plain.wall.toFixed(1)} s wall, ${plain.cpu.toFixed(1)} s CPU`);
const diff = Math.max(...fast.values.map((v, i) => Math.abs(v.loss - plain.values[i]!.loss) / Math.max(1, Math.abs(plain.values[i]!.loss))));
console.log(`plain / fast: ${(plain.wall / fast.wall).toFixed(2)}× wall, ${(plain.cpu / fast.cpu).toFixed(2)}× CPU; largest loss difference ${diff.toExponential(2)} (relative)`);
for (const t of [set.x, set.y, ...theta, ...directions.flat()]) t.dispose();
trainer.dispose();
