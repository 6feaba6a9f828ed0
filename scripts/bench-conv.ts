/**
 * Convolution speed on one backend (default wasm), in one process: TensorFlow.js's own
 * kernels against Gradflow's Conv2D and MaxPool2D gradients (core/graph/kinds/conv.ts) on
 * LeNet's layers at batch 64, then the LeNet example's training throughput.
 * A measurement, not a test. Run: npm run bench:conv [-- --backend cpu] [-- --steps 30]
 *
 * Times are CPU time of this process per call (median of the rounds), so that other work on
 * a shared machine counts less than with wall-clock times; both are printed for training.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type * as tfTypes from '@tensorflow/tfjs';
import { nodeTf } from '../core/cli/node-runtime.ts';
import { loadMnistNode } from '../core/data/mnist-node.ts';
import { conv2d, maxPool, type Padding } from '../core/graph/kinds/conv.ts';
import type { TF, Tensor } from '../core/graph/types.ts';
import { profileSteps } from '../core/cli/bench.ts';
import { loadGraph } from '../core/io/load.ts';
import { Trainer } from '../core/train/trainer.ts';

const { values } = parseArgs({ options: { backend: { type: 'string' }, steps: { type: 'string' }, rounds: { type: 'string' } } });
const { tf, choice } = await nodeTf([values.backend ?? 'wasm']);
const t = tf as unknown as typeof tfTypes;
const rounds = Number(values.rounds ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median CPU milliseconds of one call of f (tensors read back, then disposed); null when it throws. */
function cpuMs(f: () => Tensor | Tensor[]): number | null {
  const once = () => {
    const r = t.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    for (const x of list) x.dataSync();
    t.dispose(list);
  };
  try {
    once();
  } catch {
    return null;
  }
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c0 = process.cpuUsage();
    once();
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1000);
  }
  return median(times);
}
const show = (ms: number | null) => (ms === null ? 'missing'.padStart(9) : `${ms.toFixed(1)} ms`.padStart(9));

console.log(`backend ${choice.backend}; CPU ms per call, median of ${rounds}`);
console.log(`${'layer (batch 64)'.padEnd(44)}${'native'.padStart(9)}${'Gradflow'.padStart(9)}`);
const layers: { name: string; x: number[]; k: number[]; stride: number; padding: Padding }[] = [
  { name: 'conv1 [28,28,1] * 5×5×6 same', x: [64, 28, 28, 1], k: [5, 5, 1, 6], stride: 1, padding: 'same' },
  { name: 'conv2 [14,14,6] * 5×5×16 valid', x: [64, 14, 14, 6], k: [5, 5, 6, 16], stride: 1, padding: 'valid' },
];
for (const l of layers) {
  const x = t.randomNormal(l.x).as4D(l.x[0]!, l.x[1]!, l.x[2]!, l.x[3]!);
  const k = t.randomNormal(l.k).as4D(l.k[0]!, l.k[1]!, l.k[2]!, l.k[3]!);
  const native = (a: Tensor, b: Tensor) => t.conv2d(a as tfTypes.Tensor4D, b as tfTypes.Tensor4D, l.stride, l.padding);
  const ours = (a: Tensor, b: Tensor) => conv2d(tf as TF, a, b, l.stride, l.padding);
  const row = (what: string, n: number | null, o: number | null) => console.log(`${`${l.name}, ${what}`.padEnd(44)}${show(n)}${show(o)}`);
  row('forward', cpuMs(() => native(x, k)), cpuMs(() => ours(x, k)));
  row('forward + dx', cpuMs(() => t.grad((a: Tensor) => t.sum(native(a, k)))(x)), cpuMs(() => t.grad((a: Tensor) => t.sum(ours(a, k)))(x)));
  row('forward + dx + dW', cpuMs(() => t.grads((a: Tensor, b: Tensor) => t.sum(native(a, b)))([x, k])), cpuMs(() => t.grads((a: Tensor, b: Tensor) => t.sum(ours(a, b)))([x, k])));
  // A training step's layer: + bias, then ReLU. Left: Gradflow's convolution with tfjs's add
  // and relu after it; right: bias and ReLU fused into its kernel. Then, both fused: with and
  // without dL/dx (a first layer fed by the data needs none).
  const bias = t.randomNormal([l.k[3]!]);
  const separate = (a: Tensor, b: Tensor, c: Tensor) => t.relu(t.add(ours(a, b), c));
  const fused = (a: Tensor, b: Tensor, c: Tensor, gradX: boolean) => conv2d(tf as TF, a, b, l.stride, l.padding, { bias: c, activation: 'relu', gradX });
  row('+ bias + ReLU: separate | fused', cpuMs(() => t.grads((a: Tensor, b: Tensor, c: Tensor) => t.sum(separate(a, b, c)))([x, k, bias])), cpuMs(() => t.grads((a: Tensor, b: Tensor, c: Tensor) => t.sum(fused(a, b, c, true)))([x, k, bias])));
  row('fused: with dx | without dx', cpuMs(() => t.grads((a: Tensor, b: Tensor, c: Tensor) => t.sum(fused(a, b, c, true)))([x, k, bias])), cpuMs(() => t.grads((b: Tensor, c: Tensor) => t.sum(fused(x, b, c, false)))([k, bias])));
  t.dispose([x, k, bias]);
}
for (const shape of [
  [64, 28, 28, 6],
  [64, 10, 10, 16],
]) {
  const x = t.randomNormal(shape).as4D(shape[0]!, shape[1]!, shape[2]!, shape[3]!);
  const native = cpuMs(() => t.grad((a: Tensor) => t.sum(t.maxPool(a as tfTypes.Tensor4D, 2, 2, 'valid')))(x));
  const ours = cpuMs(() => t.grad((a: Tensor) => t.sum(maxPool(tf as TF, a as tfTypes.Tensor4D, [2, 2], 2, 'valid')))(x));
  console.log(`${`maxPool 2×2 of [${shape.slice(1).join(',')}], forward + dx`.padEnd(44)}${show(native)}${show(ours)}`);
  t.dispose(x);
}

const steps = Number(values.steps ?? 30);
const loaded = loadGraph(readFileSync(new URL('../examples/mnist-lenet.nngraph', import.meta.url), 'utf8'));
if (!loaded.ok) throw new Error(loaded.error.message);
const mnist = await loadMnistNode();
for (const instrument of [true, false]) {
  const warm = Trainer.create(tf, loaded.document, { mnist, backend: choice.backend, instrument, maxSteps: 3 });
  await warm.run();
  warm.dispose();
  const trainer = Trainer.create(tf, loaded.document, { mnist, backend: choice.backend, instrument, maxSteps: steps });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await trainer.run();
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  trainer.dispose();
  const samples = steps * 64;
  console.log(
    `LeNet training, instrumentation ${instrument ? 'on ' : 'off'}: ${(samples / ((c.user + c.system) / 1e6)).toFixed(0)} samples per CPU second, ${(samples / wall).toFixed(0)} samples/s wall (${steps} steps of 64)`,
  );
}
// Where a LeNet step's time goes, kernel by kernel: a slow path shows as one kernel far above
// the convolutions (as transposed matMuls did on WASM before matmul.ts).
const prof = await profileSteps(tf, loaded.document, mnist, choice.backend, Math.min(steps, 20), null);
console.log(`profile of an uninstrumented LeNet step (${prof.msPerStep.toFixed(1)} ms per step while profiled):`);
for (const r of prof.rows.slice(0, 12)) console.log(`  ${r.kernel.padEnd(28)}${r.msPerStep.toFixed(2).padStart(8)} ms ${r.callsPerStep.toFixed(1).padStart(6)} calls`);
