/**
 * `gradflow bench`: training throughput of the MNIST MLP (784-256-128-10, ReLU, softmax
 * cross-entropy, Adam, batch 128) on one backend, in one process: (a) Gradflow's trainer
 * with instrumentation at its default rate, (b) the same without instrumentation, (c) a
 * tf.LayersModel of the same architecture trained with model.fit. Prints samples/s and
 * the ratios a/c and a/b. A measurement, not a test: it asserts nothing.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type * as tfTypes from '@tensorflow/tfjs';
import { buildDataset } from '../data/dataset.ts';
import type { MnistData } from '../data/mnist.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { GraphDocument } from '../graph/document.ts';
import type { TF } from '../graph/types.ts';
import { Trainer } from '../train/trainer.ts';
import { UsageError, type Io } from './main.ts';
import { nodeTf } from './node-runtime.ts';

const HELP = `Usage: gradflow bench [--backend cpu|wasm] [--steps N] [--rounds R]

Trains the MNIST MLP for N steps (default 100) after a warm-up, R rounds (default 3),
and prints the median samples/s of Gradflow's trainer with and without instrumentation
and of tf.LayersModel.fit, with their ratios.`;

const BATCH = 128;

export function mnistMlp(samples = 10_000): GraphDocument {
  const g = new GraphBuilder('MNIST MLP (bench)');
  g.add('dataset', 'data', { source: 'mnist', samples, validationFraction: 0.2, batchSize: BATCH, seed: 1 });
  const out = g.chain('data.x', [
    ['flatten', 'flatten'],
    ['dense', 'fc1', { units: 256, initializer: 'heNormal' }],
    ['relu', 'relu1'],
    ['dense', 'fc2', { units: 128, initializer: 'heNormal' }],
    ['relu', 'relu2'],
    ['dense', 'fc3', { units: 10 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.001, epochs: 1000 }).wire('loss.loss', 'optimizer.loss');
  return g.build();
}

/** Samples per second of Gradflow's trainer for `steps` steps after `warmup` steps. */
async function gradflowRate(tf: TF, doc: GraphDocument, mnist: MnistData, backend: string, steps: number, warmup: number, instrument: boolean): Promise<number> {
  // A throwaway run first warms up the kernels and the JIT; only the second run is timed.
  const warm = Trainer.create(tf, doc, { mnist, backend, instrument, maxSteps: warmup });
  await warm.run();
  warm.dispose();
  const timed = Trainer.create(tf, doc, { mnist, backend, instrument, maxSteps: steps });
  const t0 = performance.now();
  await timed.run();
  const seconds = (performance.now() - t0) / 1000;
  timed.dispose();
  return (steps * BATCH) / seconds;
}

/** Samples per second of model.fit on the same data and architecture. */
async function layersRate(tf: TF, mnist: MnistData, steps: number, warmup: number): Promise<number> {
  const t = tf as unknown as typeof tfTypes;
  const data = buildDataset({ source: 'mnist', samples: 10_000, noise: 0, classes: 10, fn: 'sin', validationFraction: 0.2, batchSize: BATCH, seed: 1, targetEncoding: 'onehot' }, mnist);
  const model = t.sequential({
    layers: [
      t.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: 'heNormal' }),
      t.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
      t.layers.dense({ units: 10 }),
    ],
  });
  model.compile({ optimizer: t.train.adam(0.001), loss: (y: tfTypes.Tensor, p: tfTypes.Tensor) => t.losses.softmaxCrossEntropy(y, p) });
  const rows = (n: number) => {
    const need = n * BATCH;
    const idx = t.tensor1d(Int32Array.from({ length: need }, (_, i) => i % data.train.n), 'int32');
    const xAll = t.tensor2d(data.train.x, [data.train.n, 784]);
    const yAll = t.tensor2d(data.train.y, [data.train.n, 10]);
    const x = t.gather(xAll, idx);
    const y = t.gather(yAll, idx);
    t.dispose([idx, xAll, yAll]);
    return { x, y };
  };
  const w = rows(warmup);
  await model.fit(w.x, w.y, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
  t.dispose([w.x, w.y]);
  const m = rows(steps);
  const t0 = performance.now();
  await model.fit(m.x, m.y, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - t0) / 1000;
  t.dispose([m.x, m.y]);
  model.dispose();
  return (steps * BATCH) / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runBench(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { backend: { type: 'string' }, steps: { type: 'string' }, rounds: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const steps = Number(values.steps ?? 100);
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps must be a whole number ≥ 1, got '${values.steps}'`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a whole number ≥ 1, got '${values.rounds}'`);
  if (values.backend !== undefined && !['cpu', 'wasm'].includes(values.backend)) throw new UsageError(`--backend must be cpu or wasm, got '${values.backend}'`);
  const { tf, choice } = await nodeTf(values.backend ? [values.backend] : undefined);
  const { loadMnistNode } = await import('../data/mnist-node.ts');
  const mnist = await loadMnistNode();
  const doc = mnistMlp();
  const warmup = Math.max(5, Math.round(steps / 10));
  io.out(`gradflow bench: MNIST MLP 784-256-128-10, Adam, batch ${BATCH}, ${steps} steps x ${rounds} rounds\n`);
  io.out(`backend: ${choice.backend}${choice.fallbacks.length ? ` (${choice.fallbacks.join('; ')})` : ''}; machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n\n`);
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  // Interleave the three so that drift in the machine's speed affects them alike.
  for (let r = 0; r < rounds; r++) {
    a.push(await gradflowRate(tf, doc, mnist, choice.backend, steps, warmup, true));
    b.push(await gradflowRate(tf, doc, mnist, choice.backend, steps, warmup, false));
    c.push(await layersRate(tf, mnist, steps, warmup));
    io.out(`round ${r + 1}: a ${a[r]!.toFixed(0)}  b ${b[r]!.toFixed(0)}  c ${c[r]!.toFixed(0)} samples/s\n`);
  }
  const [ma, mb, mc] = [median(a), median(b), median(c)];
  io.out(`\n${'measurement'.padEnd(48)}samples/s (median)\n`);
  io.out(`${'(a) Gradflow trainer, instrumentation on'.padEnd(48)}${ma.toFixed(0)}\n`);
  io.out(`${'(b) Gradflow trainer, instrumentation off'.padEnd(48)}${mb.toFixed(0)}\n`);
  io.out(`${'(c) tf.LayersModel.fit'.padEnd(48)}${mc.toFixed(0)}\n`);
  io.out(`\n(a)/(c) = ${(ma / mc).toFixed(2)}   target >= 1.00\n(a)/(b) = ${(ma / mb).toFixed(2)}   target >= 0.95\n`);
  return 0;
}
