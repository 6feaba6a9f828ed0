/**
 * `gradflow bench`: training throughput of the MNIST MLP (784-256-128-10, ReLU, softmax
 * cross-entropy, Adam, batch 128) on one backend, in one process: (a) Gradflow's trainer
 * with instrumentation at its default rate, (b) the same without instrumentation, (c) a
 * tf.LayersModel of the same architecture trained with model.fit. Prints samples/s and
 * the ratios a/c and a/b; with --torch also PyTorch on one CPU thread; with --json one
 * object for scripts. A measurement, not a test: it asserts nothing.
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
import { printedHelp, UsageError, type Io } from './main.ts';
import { NODE_BACKEND_CHOICES, nodeTfOrReport, threadsOption } from './node-runtime.ts';
import { findTorch, torchRate } from './torch-bench.ts';

const HELP = `Usage: gradflow bench [--backend wasm|cpu|webgpu] [--threads T] [--steps N] [--rounds R] [--json] [--torch] [--profile]

Trains the MNIST MLP for N steps (default 100) after a warm-up, R rounds (default 3),
and prints the median samples/s of Gradflow's trainer with (a) and without (b)
instrumentation and of tf.LayersModel.fit (c), with their ratios.

  --threads   the WASM backend's thread pool, 1 to 8 (default: as tfjs picks, logical
              CPUs / 2, so 1 on a 2-CPU machine)
  --json      print one JSON object (backend, threads, each measurement's median,
              range and rounds, the ratios) instead of the table
  --torch     also train the same MLP with PyTorch on one CPU thread (needs Python with
              torch: $GRADFLOW_PYTHON, /usr/bin/python3 or python3) and print (a)/torch
  --profile   also print where an uninstrumented step's time goes, kernel by kernel`;

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

/** One measurement over the rounds: samples/s per round, their median and spread. */
export interface Measurement {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

const measurement = (xs: number[]): Measurement => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs });

/** What `gradflow bench --json` prints: one object. */
export interface BenchReport {
  model: string;
  backend: string;
  fallbacks: string[];
  /** The WebGPU adapter (name; hardware or software), null on other backends. */
  adapter: string | null;
  /** Threads the backend computes on (wasm: XNNPACK's pool; 1 on cpu; null where not known). */
  threads: number | null;
  machine: { cpus: number; model: string; node: string };
  steps: number;
  rounds: number;
  batch: number;
  a: Measurement;
  b: Measurement;
  c: Measurement;
  torch: (Measurement & { version: string; threads: number }) | { unavailable: string } | null;
  ratios: { aOverC: number; aOverB: number; aOverTorch: number | null };
  /** With --profile: kernel time per step of an uninstrumented run, by kernel, largest first. */
  profile?: ProfileRow[];
}

export interface ProfileRow {
  kernel: string;
  msPerStep: number;
  callsPerStep: number;
}

/**
 * Where an uninstrumented step's time goes, kernel by kernel (tf.profile times each kernel on
 * its own, which costs some speed, so only the shares mean something, not the total).
 */
export async function profileSteps(tf: TF, doc: GraphDocument, mnist: MnistData, backend: string, steps: number, instrumentEvery: number | null): Promise<{ rows: ProfileRow[]; msPerStep: number }> {
  const warm = Trainer.create(tf, doc, { mnist, backend, instrument: false, maxSteps: 5 });
  await warm.run();
  warm.dispose();
  const t = Trainer.create(tf, doc, { mnist, backend, instrument: instrumentEvery !== null, instrumentEvery: instrumentEvery ?? 1, maxSteps: steps });
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await t.run();
  });
  const msPerStep = (performance.now() - t0) / steps;
  t.dispose();
  const by = new Map<string, { ms: number; n: number }>();
  // A composite op (a custom gradient's forward, a fused op's fallback) is listed as well as
  // the kernels it runs; count only the backend's own kernels, so nothing is counted twice.
  for (const k of info.kernels) {
    if (!tf.getKernel(k.name, backend)) continue;
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.n++;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].map(([kernel, e]) => ({ kernel, msPerStep: e.ms / steps, callsPerStep: e.n / steps })).sort((x, y) => y.msPerStep - x.msPerStep);
  return { rows, msPerStep };
}

export async function runBench(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      backend: { type: 'string' },
      threads: { type: 'string' },
      steps: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean' },
      torch: { type: 'boolean' },
      profile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (printedHelp(values, HELP, io)) return 0;
  const steps = Number(values.steps ?? 100);
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps must be a whole number ≥ 1, got '${values.steps}'`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a whole number ≥ 1, got '${values.rounds}'`);
  if (values.backend !== undefined && !(NODE_BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    throw new UsageError(`--backend must be ${NODE_BACKEND_CHOICES.join(', ')}, got '${values.backend}'`);
  }
  const wasmThreads = threadsOption(values.threads);
  const runtime = await nodeTfOrReport(values.backend, io, { wasmThreads });
  if (!runtime) return 1;
  const { tf, choice, threads, adapter } = runtime;
  const { loadMnistNode } = await import('../data/mnist-node.ts');
  const mnist = await loadMnistNode();
  const doc = mnistMlp();
  const warmup = Math.max(5, Math.round(steps / 10));
  const json = values.json === true;
  const say = (t: string) => {
    if (!json) io.out(t);
  };
  const torch = values.torch ? findTorch() : null;
  say(`gradflow bench: MNIST MLP 784-256-128-10, Adam, batch ${BATCH}, ${steps} steps x ${rounds} rounds\n`);
  say(`backend: ${choice.backend}${adapter ? ` (adapter ${adapter})` : ''}${choice.fallbacks.length ? ` (${choice.fallbacks.join('; ')})` : ''}, threads: ${threads ?? 'n/a'}; machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`);
  if (torch) say(torch.ok ? `PyTorch ${torch.version} (${torch.python}), 1 thread\n` : `${torch.reason}\n`);
  say('\n');
  const trainRows = torch?.ok ? buildDataset({ source: 'mnist', samples: 10_000, noise: 0, classes: 10, fn: 'sin', validationFraction: 0.2, batchSize: BATCH, seed: 1, targetEncoding: 'onehot' }, mnist).train : null;
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const p: number[] = [];
  let torchThreads = 1;
  // Interleave the measurements so that drift in the machine's speed affects them alike.
  for (let r = 0; r < rounds; r++) {
    a.push(await gradflowRate(tf, doc, mnist, choice.backend, steps, warmup, true));
    b.push(await gradflowRate(tf, doc, mnist, choice.backend, steps, warmup, false));
    c.push(await layersRate(tf, mnist, steps, warmup));
    if (torch?.ok && trainRows) {
      const t = torchRate(torch.python, trainRows, steps, warmup, BATCH);
      p.push(t.samplesPerSecond);
      torchThreads = t.threads;
    }
    say(`round ${r + 1}: a ${a[r]!.toFixed(0)}  b ${b[r]!.toFixed(0)}  c ${c[r]!.toFixed(0)}${p.length ? `  torch ${p[r]!.toFixed(0)}` : ''} samples/s\n`);
  }
  const [ma, mb, mc] = [median(a), median(b), median(c)];
  const mp = p.length ? median(p) : null;
  const report: BenchReport = {
    model: 'MNIST MLP 784-256-128-10, ReLU, softmax cross-entropy, Adam 0.001',
    backend: choice.backend,
    adapter,
    fallbacks: choice.fallbacks,
    threads,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'cpu', node: process.version },
    steps,
    rounds,
    batch: BATCH,
    a: measurement(a),
    b: measurement(b),
    c: measurement(c),
    torch: torch === null ? null : torch.ok ? { ...measurement(p), version: torch.version, threads: torchThreads } : { unavailable: torch.reason },
    ratios: { aOverC: ma / mc, aOverB: ma / mb, aOverTorch: mp === null ? null : ma / mp },
  };
  if (values.profile) {
    const prof = await profileSteps(tf, doc, mnist, choice.backend, Math.min(steps, 50), null);
    report.profile = prof.rows;
    say(`\nprofile of an uninstrumented step (${prof.msPerStep.toFixed(1)} ms per step while profiled):\n`);
    for (const row of prof.rows.slice(0, 15)) say(`  ${row.kernel.padEnd(28)}${row.msPerStep.toFixed(2).padStart(8)} ms ${row.callsPerStep.toFixed(1).padStart(6)} calls\n`);
  }
  if (json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const spread = (xs: number[]) => (xs.length > 1 ? `  (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '');
  io.out(`\n${'measurement'.padEnd(48)}samples/s (median, range)\n`);
  io.out(`${'(a) Gradflow trainer, instrumentation on'.padEnd(48)}${ma.toFixed(0)}${spread(a)}\n`);
  io.out(`${'(b) Gradflow trainer, instrumentation off'.padEnd(48)}${mb.toFixed(0)}${spread(b)}\n`);
  io.out(`${'(c) tf.LayersModel.fit'.padEnd(48)}${mc.toFixed(0)}${spread(c)}\n`);
  if (mp !== null) io.out(`${`PyTorch ${torch!.ok ? torch!.version : ''}, ${torchThreads} thread`.padEnd(48)}${mp.toFixed(0)}${spread(p)}\n`);
  io.out(`\n(a)/(c) = ${(ma / mc).toFixed(2)}   target >= 3\n(a)/(b) = ${(ma / mb).toFixed(2)}   target >= 0.95\n`);
  if (mp !== null) io.out(`(a)/torch = ${(ma / mp).toFixed(2)}   target >= 0.25\n`);
  else if (torch && !torch.ok) io.out(`(a)/torch: not measured, ${torch.reason}\n`);
  return 0;
}
