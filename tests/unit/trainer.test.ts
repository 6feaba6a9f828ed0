/**
 * The trainer as a user relies on it: the examples learn; Dropout, DropConnect, BatchNorm,
 * noise and label smoothing switch between training and inference as the course says; every
 * optimizer and schedule takes the step its formula gives; a run is reproducible from file +
 * seed + backend; a NaN stops the run with a message and keeps finite weights; tensor
 * memory stays flat; instrumentation arrives on time and adds up; pause / step / resume /
 * stop and early stopping behave; trained weights survive a save and load; backends are
 * chosen with reasons.
 *
 * Small graphs train on the cpu backend (deterministic, fast enough); MNIST and the deep
 * spirals MLP on wasm, which is several times faster in Node.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/compile/plan.ts';
import { Program } from '../../core/compile/program.ts';
import { loadMnistNode } from '../../core/data/mnist-node.ts';
import { createRng } from '../../core/data/rng.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { EpochRecord, GraphDocument, RunRecord, WeightsBlock } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import { decodeFloat32, encodeFloat32 } from '../../core/io/base64.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { NoBackendError, selectBackend } from '../../core/train/backend.ts';
import { learningRateAt, type Schedule } from '../../core/train/schedule.ts';
import { NotTrainableError, Trainer, type TrainerOptions, type TrainEvent } from '../../core/train/trainer.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// ---------------------------------------------------------------------------------------
// Helpers

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function example(name: string): GraphDocument {
  const r = loadGraph(readFileSync(join(ROOT, 'examples', `${name}.nngraph`)));
  if (!r.ok) throw r.error;
  return r.document;
}

type Layer = [kind: string, id: string, params?: Record<string, ParamValue>];

/** Dataset -> layers -> loss (target through `targetPath`) -> loss-path nodes -> optimizer. */
function graph(o: {
  data: Record<string, ParamValue>;
  layers: Layer[];
  loss?: string;
  optimizer?: [string, Record<string, ParamValue>];
  lossPath?: Layer[];
  targetPath?: Layer[];
}): GraphDocument {
  const g = new GraphBuilder('test graph');
  g.add('dataset', 'data', o.data);
  const out = g.chain('data.x', o.layers);
  let target = 'data.y';
  for (const [kind, id, params] of o.targetPath ?? []) {
    g.add(kind, id, params ?? {}).wire(target, `${id}.y`);
    target = `${id}.y`;
  }
  g.add(o.loss ?? 'softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire(target, 'loss.target');
  let prev = 'loss.loss';
  for (const [kind, id, params] of o.lossPath ?? []) {
    g.add(kind, id, params ?? {}).wire(prev, `${id}.loss`);
    prev = `${id}.loss`;
  }
  const [opt, optParams] = o.optimizer ?? ['adam', { learningRate: 0.01, epochs: 5 }];
  g.add(opt, 'optimizer', optParams).wire(prev, 'optimizer.loss');
  return g.build();
}

/** y ≈ w·x + b on 4 points, full batch, no validation: small enough to follow every update by hand. */
function linear(optimizer: string, optParams: Record<string, ParamValue> = {}, lossPath: Layer[] = []): GraphDocument {
  return graph({
    data: { source: 'regression', fn: 'cubic', samples: 4, noise: 0.3, validationFraction: 0, batchSize: 0, seed: 7 },
    layers: [['dense', 'fc', { units: 1 }]],
    loss: 'meanSquaredError',
    optimizer: [optimizer, { learningRate: 0.1, epochs: 10, ...optParams }],
    lossPath,
  });
}

/** Decoded weights: node id -> weight name -> values. */
type Weights = Record<string, Record<string, Float32Array>>;
function decode(block: WeightsBlock): Weights {
  const out: Weights = {};
  for (const [node, ws] of Object.entries(block.tensors)) {
    out[node] = {};
    for (const [name, t] of Object.entries(ws)) out[node]![name] = decodeFloat32(t.data)!;
  }
  return out;
}
const weightsOf = async (t: Trainer): Promise<Weights> => decode(await t.exportWeights());
const allFinite = (w: Weights) => Object.values(w).every((n) => Object.values(n).every((v) => v.every(Number.isFinite)));

/** Records events and lets a test wait for the next one that matches. */
function eventLog() {
  const events: TrainEvent[] = [];
  let waiters: { pred: (e: TrainEvent) => boolean; resolve: (e: TrainEvent) => void }[] = [];
  const onEvent = (e: TrainEvent) => {
    events.push(e);
    waiters = waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
  };
  const next = <T extends TrainEvent['type']>(type: T, pred: (e: Extract<TrainEvent, { type: T }>) => boolean = () => true) =>
    new Promise<Extract<TrainEvent, { type: T }>>((resolve) => {
      waiters.push({ pred: (e) => e.type === type && pred(e as Extract<TrainEvent, { type: T }>), resolve: resolve as (e: TrainEvent) => void });
    });
  const of = <T extends TrainEvent['type']>(type: T) => events.filter((e): e is Extract<TrainEvent, { type: T }> => e.type === type);
  return { events, onEvent, next, of };
}

/** Let the event loop turn `n` times (the trainer yields once per read-back): not a timed sleep. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

const withoutSeconds = (es: EpochRecord[]) => es.map(({ seconds: _s, ...rest }) => rest);

async function train(doc: GraphDocument, o: TrainerOptions = {}): Promise<{ trainer: Trainer; run: RunRecord }> {
  const trainer = Trainer.create(TFNS, doc, o);
  const run = await trainer.run();
  return { trainer, run };
}

// ---------------------------------------------------------------------------------------

describe('the examples learn', () => {
  it('XOR reaches ≥ 97% validation accuracy with its file settings (cpu)', async () => {
    const { trainer, run } = await train(example('xor'));
    expect(run.status).toBe('completed');
    expect(run.epochs).toHaveLength(60);
    expect(run.epochs.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(0.97);
    expect((await trainer.validate()).accuracy).toBeGreaterThanOrEqual(0.97);
    // Learning, not luck: the loss fell from chance level (ln 2 for two classes).
    expect(run.stepLoss[0]).toBeGreaterThan(0.5);
    expect(run.epochs.at(-1)!.trainLoss).toBeLessThan(0.15);
    trainer.dispose();
  });

  it('the 1-D regression of sin(πx) gets a validation loss far below the variance of y (cpu)', async () => {
    const { trainer, run } = await train(example('regression-sin'));
    expect(run.status).toBe('completed');
    const yv = trainer.dataset.val.y;
    const mean = yv.reduce((a, b) => a + b, 0) / yv.length;
    const variance = yv.reduce((a, b) => a + (b - mean) ** 2, 0) / yv.length;
    expect(variance).toBeGreaterThan(0.3); // sin(πx) on [-1, 1] has variance 1/2
    const { loss, accuracy } = await trainer.validate();
    expect(accuracy).toBeNull();
    expect(loss).toBeLessThan(0.05 * variance);
    expect(run.epochs.at(-1)!.valAccuracy).toBeNull();
    trainer.dispose();
  });

  describe('on wasm', () => {
    beforeAll(async () => {
      await tf.setBackend('wasm');
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it('spirals with the deep MLP reach ≥ 97% validation accuracy with the file settings', async () => {
      const { trainer, run } = await train(example('spirals-deep-mlp'), { backend: 'wasm' });
      expect(run.status).toBe('completed');
      expect(run.backend).toBe('wasm');
      expect(run.epochs).toHaveLength(150);
      expect((await trainer.validate()).accuracy).toBeGreaterThanOrEqual(0.97);
      trainer.dispose();
    });

    it('the MNIST MLP reaches ≥ 90% validation accuracy in 2 epochs', async () => {
      const mnist = await loadMnistNode();
      const { trainer, run } = await train(example('mnist-mlp'), { mnist, epochs: 2, backend: 'wasm' });
      expect(run.status).toBe('completed');
      expect(trainer.dataset.train.n).toBe(8000);
      expect(trainer.dataset.val.n).toBe(2000);
      expect(run.epochs).toHaveLength(2);
      expect(run.epochs.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(0.9);
      expect((await trainer.validate()).accuracy).toBeGreaterThanOrEqual(0.9);
      trainer.dispose();
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('training and inference behave differently where the course says so', () => {
  function programFor(doc: GraphDocument, seed = 1): Program {
    const c = compilePlan(doc);
    if (!c.ok) throw new Error(c.errors.join('\n'));
    return new Program(TFNS, c.plan, createRng(seed));
  }
  /** Run the forward pass and read back the named outputs ("node.port"). */
  function forward(p: Program, x: number[][], training: boolean, seed: number, read: string[], y?: number[][]) {
    return tf.tidy(() => {
      const xt = tf.tensor2d(x);
      const yt = y ? tf.tensor2d(y) : tf.zeros([x.length, ...p.plan.dataset.info.yShape]);
      const rng = createRng(seed);
      const r = p.forward({ x: xt, y: yt, training, seed: () => rng.int(2 ** 31 - 1) });
      const values = Object.fromEntries(read.map((ref) => {
        const [node, port] = ref.split('.') as [string, string];
        return [ref, Array.from(r.outputs.get(node)![port]!.dataSync())];
      }));
      const state = r.state.map((s) => ({ name: s.variable.name.split('/').at(-1)!, value: Array.from(s.value.dataSync()) }));
      return { values, state, loss: r.dataLoss.dataSync()[0]! };
    });
  }
  const column = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => [f(i)]);
  const regressionData = { source: 'regression', samples: 40, validationFraction: 0.25, batchSize: 8, seed: 3 };

  for (const rate of [0.5, 0.2]) {
    it(`Dropout (rate ${rate}): training zeroes ~rate of the units and keeps the rest; inference multiplies by p = ${1 - rate}`, () => {
      const doc = graph({
        data: regressionData,
        layers: [['dense', 'fc', { units: 400, initializer: 'heNormal' }], ['dropout', 'drop', { rate }], ['dense', 'out', { units: 1 }]],
        loss: 'meanSquaredError',
      });
      const p = programFor(doc);
      p.weight('fc', 'bias')!.variable.assign(tf.fill([400], 0.25)); // no unit is 0 before dropout
      const x = column(10, (i) => i / 5 - 1);
      const train1 = forward(p, x, true, 1, ['fc.out', 'drop.out']);
      const h = train1.values['fc.out']!;
      const d = train1.values['drop.out']!;
      expect(h.every((v) => v !== 0)).toBe(true);
      expect(d.every((v, i) => v === 0 || v === h[i])).toBe(true);
      const dropped = d.filter((v) => v === 0).length / d.length;
      expect(dropped).toBeGreaterThan(rate - 0.05);
      expect(dropped).toBeLessThan(rate + 0.05);
      // A new seed draws a new mask.
      const train2 = forward(p, x, true, 2, ['drop.out']);
      expect(train2.values['drop.out']).not.toEqual(d);
      // Inference: deterministic, exactly p·h.
      const inf1 = forward(p, x, false, 1, ['fc.out', 'drop.out']);
      const inf2 = forward(p, x, false, 2, ['drop.out']);
      expect(inf1.values['drop.out']).toEqual(inf2.values['drop.out']);
      const keep = 1 - rate;
      inf1.values['drop.out']!.forEach((v, i) => expect(v).toBeCloseTo(keep * inf1.values['fc.out']![i]!, 6));
      p.dispose();
    });
  }

  it('DropConnect: training masks the weights of the next Dense (one mask per batch); inference uses p·W', () => {
    const units = 600;
    const doc = graph({
      data: regressionData,
      layers: [['dropConnect', 'dc', { rate: 0.5 }], ['dense', 'fc', { units }], ['dense', 'out', { units: 1 }]],
      loss: 'meanSquaredError',
    });
    const p = programFor(doc);
    const bias = Array.from({ length: units }, (_, j) => Math.fround(0.01 * ((j % 7) - 3) + 0.005));
    p.weight('fc', 'bias')!.variable.assign(tf.tensor1d(bias));
    const W = Array.from(p.weight('fc', 'kernel')!.variable.dataSync()); // shape [1, units]
    expect(W.every((w) => w !== 0)).toBe(true);

    // One input row h = 1: unit j is W_j + b_j when its weight is kept and b_j when dropped.
    const one = forward(p, [[1]], true, 11, ['fc.out']).values['fc.out']!;
    const kept = one.map((v, j) => {
      if (v === bias[j]) return false;
      expect(v).toBeCloseTo(W[j]! + bias[j]!, 6);
      return true;
    });
    const dropped = kept.filter((k) => !k).length / units;
    expect(dropped).toBeGreaterThan(0.44);
    expect(dropped).toBeLessThan(0.56);

    // Several rows share the batch's mask M: out_r − b = x_r · (W ⊙ M), unlike Dropout's per-row masks.
    const xs = [1, 2, -3];
    const many = forward(p, xs.map((v) => [v]), true, 12, ['fc.out']).values['fc.out']!;
    const masked = Array.from({ length: units }, (_, j) => many[j]! - bias[j]!); // row 0, x = 1
    for (let r = 1; r < xs.length; r++) {
      for (let j = 0; j < units; j++) expect(many[r * units + j]! - bias[j]!).toBeCloseTo(xs[r]! * masked[j]!, 5);
    }
    expect(masked.every((m, j) => Math.abs(m) < 1e-7 || Math.abs(m - W[j]!) < 1e-6)).toBe(true);
    // Another seed, another mask.
    const other = forward(p, [[1]], true, 99, ['fc.out']).values['fc.out']!;
    expect(other).not.toEqual(one);

    // Inference: h·(pW) + b, the same for every call.
    const inf = forward(p, xs.map((v) => [v]), false, 1, ['fc.out']).values['fc.out']!;
    expect(forward(p, xs.map((v) => [v]), false, 2, ['fc.out']).values['fc.out']).toEqual(inf);
    for (let r = 0; r < xs.length; r++) {
      for (let j = 0; j < units; j++) expect(inf[r * units + j]!).toBeCloseTo(xs[r]! * 0.5 * W[j]! + bias[j]!, 5);
    }
    p.dispose();
  });

  it('BatchNorm: batch statistics and a momentum update of the running ones in training; running statistics at inference', () => {
    const doc = graph({
      data: regressionData,
      layers: [['dense', 'fc', { units: 4 }], ['batchNorm', 'bn', { momentum: 0.9, epsilon: 1e-3 }], ['dense', 'out', { units: 1 }]],
      loss: 'meanSquaredError',
    });
    const p = programFor(doc);
    const gamma = [2, 0.5, 1, 3];
    const beta = [0.5, -1, 0, 2];
    p.weight('fc', 'bias')!.variable.assign(tf.tensor1d([0.3, -0.2, 1, 0]));
    p.weight('bn', 'gamma')!.variable.assign(tf.tensor1d(gamma));
    p.weight('bn', 'beta')!.variable.assign(tf.tensor1d(beta));
    const x = column(16, (i) => Math.sin(i * 1.7) * 2);
    const { values, state } = forward(p, x, true, 1, ['fc.out', 'bn.out']);
    const z = values['fc.out']!;
    const out = values['bn.out']!;
    for (let f = 0; f < 4; f++) {
      const zs = z.filter((_, i) => i % 4 === f);
      const os = out.filter((_, i) => i % 4 === f);
      const mu = zs.reduce((a, b) => a + b, 0) / zs.length;
      const v = zs.reduce((a, b) => a + (b - mu) ** 2, 0) / zs.length; // biased, as σ_B² in the course
      const oMean = os.reduce((a, b) => a + b, 0) / os.length;
      const oVar = os.reduce((a, b) => a + (b - oMean) ** 2, 0) / os.length;
      expect(oMean).toBeCloseTo(beta[f]!, 4);
      expect(oVar).toBeCloseTo((gamma[f]! ** 2 * v) / (v + 1e-3), 3);
      os.forEach((o, i) => expect(o).toBeCloseTo((gamma[f]! * (zs[i]! - mu)) / Math.sqrt(v + 1e-3) + beta[f]!, 4));
      // Running statistics r ← momentum·r + (1 − momentum)·batch statistic, from 0 and 1.
      expect(state.find((s) => s.name === 'movingMean')!.value[f]).toBeCloseTo(0.9 * 0 + 0.1 * mu, 5);
      expect(state.find((s) => s.name === 'movingVariance')!.value[f]).toBeCloseTo(0.9 * 1 + 0.1 * v, 5);
    }

    // Inference: the running statistics, so a row's output does not depend on its batch.
    const mm = [1, -1, 0.5, 0];
    const mv = [4, 0.25, 1, 2];
    p.weight('bn', 'movingMean')!.variable.assign(tf.tensor1d(mm));
    p.weight('bn', 'movingVariance')!.variable.assign(tf.tensor1d(mv));
    const inf = forward(p, x, false, 1, ['fc.out', 'bn.out']);
    expect(inf.state).toEqual([]); // nothing is updated at inference
    inf.values['bn.out']!.forEach((o, i) => {
      const f = i % 4;
      expect(o).toBeCloseTo((gamma[f]! * (inf.values['fc.out']![i]! - mm[f]!)) / Math.sqrt(mv[f]! + 1e-3) + beta[f]!, 4);
    });
    const alone = forward(p, [x[5]!], false, 1, ['bn.out']).values['bn.out']!;
    alone.forEach((o, f) => expect(o).toBeCloseTo(inf.values['bn.out']![5 * 4 + f]!, 6));
    p.dispose();
  });

  it('BatchNorm through the trainer: after one full-batch step the running statistics are exactly the momentum update', async () => {
    const doc = graph({
      data: { source: 'regression', samples: 24, validationFraction: 0.25, batchSize: 0, seed: 4 },
      layers: [['dense', 'fc', { units: 3 }], ['batchNorm', 'bn', { momentum: 0.8 }], ['tanh', 'act'], ['dense', 'out', { units: 1 }]],
      loss: 'meanSquaredError',
      optimizer: ['sgd', { learningRate: 0.1, epochs: 5 }],
    });
    const trainer = Trainer.create(TFNS, doc, { maxSteps: 1 });
    const w0 = await weightsOf(trainer);
    await trainer.run();
    const w1 = await weightsOf(trainer);
    const { x, n } = trainer.dataset.train;
    for (let f = 0; f < 3; f++) {
      // The batch is the whole training split; statistics of z = x·W + b with the initial W.
      const zs = Array.from(x, (xi) => xi * w0.fc!.kernel![f]! + w0.fc!.bias![f]!);
      const mu = zs.reduce((a, b) => a + b, 0) / n;
      const v = zs.reduce((a, b) => a + (b - mu) ** 2, 0) / n;
      expect(w1.bn!.movingMean![f]).toBeCloseTo(0.8 * w0.bn!.movingMean![f]! + 0.2 * mu, 6);
      expect(w1.bn!.movingVariance![f]).toBeCloseTo(0.8 * w0.bn!.movingVariance![f]! + 0.2 * v, 6);
    }
    // They started at 0 and 1.
    expect(Array.from(w0.bn!.movingMean!)).toEqual([0, 0, 0]);
    expect(Array.from(w0.bn!.movingVariance!)).toEqual([1, 1, 1]);
    trainer.dispose();
  });

  it('Gaussian noise is added in training only, with the given σ', () => {
    const doc = graph({
      data: regressionData,
      layers: [['gaussianNoise', 'noise', { sigma: 0.5 }], ['dense', 'out', { units: 1 }]],
      loss: 'meanSquaredError',
    });
    const p = programFor(doc);
    const x = column(4000, (i) => (i % 100) / 50 - 1);
    const trained = forward(p, x, true, 1, ['noise.out']).values['noise.out']!;
    const diffs = trained.map((v, i) => v - x[i]![0]!);
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / diffs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.47);
    expect(sd).toBeLessThan(0.53);
    const inferred = forward(p, x, false, 1, ['noise.out']).values['noise.out']!;
    inferred.forEach((v, i) => expect(v).toBe(Math.fround(x[i]![0]!)));
    p.dispose();
  });

  it('label smoothing softens the targets to y(1 − ε) + ε/K in training only', () => {
    const doc = graph({
      data: { source: 'blobs', classes: 3, samples: 60, batchSize: 8, seed: 2 },
      layers: [['dense', 'out', { units: 3 }]],
      targetPath: [['labelSmoothing', 'ls', { epsilon: 0.3 }]],
    });
    const p = programFor(doc);
    expect(p.plan.nodes.find((n) => n.id === 'ls')!.onTargetPath).toBe(true);
    expect(p.plan.instrumentedEdges.some((e) => e.source === 'ls' || (e.source === 'data' && e.sourcePort === 'y'))).toBe(false);
    const x = [[0.1, 0.2], [1, -1], [-2, 0.5]];
    const y = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const trained = forward(p, x, true, 1, ['ls.y'], y);
    trained.values['ls.y']!.forEach((v, i) => expect(v).toBeCloseTo(y.flat()[i]! * 0.7 + 0.1, 6));
    const inferred = forward(p, x, false, 1, ['ls.y'], y);
    expect(inferred.values['ls.y']).toEqual(y.flat());
    // The loss follows: the smoothed targets give a different cross-entropy than the true ones.
    expect(trained.loss).not.toBeCloseTo(inferred.loss, 4);
    p.dispose();
  });
});

// ---------------------------------------------------------------------------------------

describe('optimizers and schedules through the trainer follow their update rules', () => {
  /** Gradient of the MSE of y ≈ w·x + b over the rows, at (w, b). */
  function gradient(xs: Float32Array, ys: Float32Array, w: number, b: number): [number, number] {
    let gw = 0;
    let gb = 0;
    for (let i = 0; i < xs.length; i++) {
      const r = w * xs[i]! + b - ys[i]!;
      gw += (2 * r * xs[i]!) / xs.length;
      gb += (2 * r) / xs.length;
    }
    return [gw, gb];
  }

  const P = { momentum: 0.9, rho: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  /** The lecture's update rules in float64, for the parameter vector [w, b]. */
  function reference(kind: string, lr: (t: number) => number, steps: number, W0: number[], grad: (W: number[]) => number[]): number[] {
    let W = [...W0];
    const v = [0, 0];
    const r = [0, 0];
    const s = [0, 0];
    for (let t = 0; t < steps; t++) {
      const g = grad(W);
      const l = lr(t);
      W = W.map((w, i) => {
        const gi = g[i]!;
        switch (kind) {
          case 'sgd':
            return w - l * gi;
          case 'momentum':
            v[i] = P.momentum * v[i]! + l * gi;
            return w - v[i]!;
          case 'nesterov':
            v[i] = P.momentum * v[i]! + l * gi;
            return w - (P.momentum * v[i]! + l * gi);
          case 'adagrad':
            r[i] = r[i]! + gi * gi;
            return w - (l / (P.epsilon + Math.sqrt(r[i]!))) * gi;
          case 'rmsprop':
            r[i] = P.rho * r[i]! + (1 - P.rho) * gi * gi;
            return w - (l / (P.epsilon + Math.sqrt(r[i]!))) * gi;
          case 'adam': {
            s[i] = P.beta1 * s[i]! + (1 - P.beta1) * gi;
            r[i] = P.beta2 * r[i]! + (1 - P.beta2) * gi * gi;
            const sh = s[i]! / (1 - P.beta1 ** (t + 1));
            const rh = r[i]! / (1 - P.beta2 ** (t + 1));
            return w - (l * sh) / (P.epsilon + Math.sqrt(rh));
          }
          default:
            throw new Error(kind);
        }
      });
    }
    return W;
  }

  async function stepsOf(doc: GraphDocument, steps: number) {
    const trainer = Trainer.create(TFNS, doc, { maxSteps: steps });
    const w0 = await weightsOf(trainer);
    const run = await trainer.run();
    expect(run.status).toBe('stopped');
    expect(trainer.step).toBe(steps);
    const w1 = await weightsOf(trainer);
    const { x, y, n } = trainer.dataset.train;
    expect(n).toBe(4);
    return { trainer, run, W0: [w0.fc!.kernel![0]!, w0.fc!.bias![0]!], W: [w1.fc!.kernel![0]!, w1.fc!.bias![0]!], x, y };
  }

  for (const kind of ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam']) {
    it(`${kind}: the weights after 1 and 3 full-batch steps equal the hand-computed update`, async () => {
      for (const steps of [1, 3]) {
        const { trainer, W0, W, x, y } = await stepsOf(linear(kind, P), steps);
        const expected = reference(kind, () => 0.1, steps, W0, ([w, b]) => gradient(x, y, w!, b!));
        expect(W[0]).toBeCloseTo(expected[0]!, 5);
        expect(W[1]).toBeCloseTo(expected[1]!, 5);
        // And it moved: the check is not passing on an untouched weight.
        expect(Math.abs(W[0]! - W0[0]!) + Math.abs(W[1]! - W0[1]!)).toBeGreaterThan(1e-3);
        trainer.dispose();
      }
    });
  }

  it('the first SGD step is W − λ∇J, computed from the exported weights and the dataset rows', async () => {
    const { trainer, W0, W, x, y } = await stepsOf(linear('sgd'), 1);
    const [gw, gb] = gradient(x, y, W0[0]!, W0[1]!);
    expect(W[0]).toBeCloseTo(W0[0]! - 0.1 * gw, 6);
    expect(W[1]).toBeCloseTo(W0[1]! - 0.1 * gb, 6);
    trainer.dispose();
  });

  it('an L2 penalty adds αW to the gradient of the weight matrix, not of the bias', async () => {
    const { trainer, W0, W, x, y } = await stepsOf(linear('sgd', {}, [['l2', 'l2', { alpha: 0.5 }]]), 1);
    const [gw, gb] = gradient(x, y, W0[0]!, W0[1]!);
    expect(W[0]).toBeCloseTo(W0[0]! - 0.1 * (gw + 0.5 * W0[0]!), 6);
    expect(W[1]).toBeCloseTo(W0[1]! - 0.1 * gb, 6);
    trainer.dispose();
  });

  it('clipping by norm rescales the whole gradient to the threshold', async () => {
    const { trainer, W0, W, x, y } = await stepsOf(linear('sgd', { clip: 'norm', clipValue: 0.01 }), 1);
    const [gw, gb] = gradient(x, y, W0[0]!, W0[1]!);
    const norm = Math.hypot(gw, gb);
    expect(norm).toBeGreaterThan(0.01);
    expect(W[0]).toBeCloseTo(W0[0]! - (0.1 * gw * 0.01) / norm, 6);
    expect(W[1]).toBeCloseTo(W0[1]! - (0.1 * gb * 0.01) / norm, 6);
    trainer.dispose();
  });

  it('a step-decay schedule changes λ between steps as λ0·r^⌊t/s⌋', async () => {
    const { trainer, W0, W, x, y } = await stepsOf(linear('sgd', { schedule: 'step', decayRate: 0.5, decaySteps: 1 }), 3);
    const expected = reference('sgd', (t) => 0.1 * 0.5 ** t, 3, W0, ([w, b]) => gradient(x, y, w!, b!));
    expect(W[0]).toBeCloseTo(expected[0]!, 6);
    expect(W[1]).toBeCloseTo(expected[1]!, 6);
    // Not the constant-λ path:
    const constant = reference('sgd', () => 0.1, 3, W0, ([w, b]) => gradient(x, y, w!, b!));
    expect(Math.abs(W[0]! - constant[0]!)).toBeGreaterThan(1e-4);
    trainer.dispose();
  });

  for (const schedule of ['exponential', 'inverse-time', 'cosine', 'step'] as Schedule[]) {
    it(`${schedule}: each epoch record carries the λ its steps used, and progress events the next step's`, async () => {
      const settings = { schedule, learningRate: 0.2, decayRate: 0.5, decaySteps: 2, minLearningRate: 0.01 };
      const log = eventLog();
      // Mini-batches of 1 over 3 training rows: 3 steps per epoch, 4 epochs.
      const doc = graph({
        data: { source: 'regression', samples: 4, validationFraction: 0.25, batchSize: 1, seed: 1 },
        layers: [['dense', 'fc', { units: 1 }]],
        loss: 'meanSquaredError',
        optimizer: ['sgd', { epochs: 4, ...settings }],
      });
      const { trainer, run } = await train(doc, { readEvery: 1, onEvent: log.onEvent });
      const at = (step: number) => learningRateAt({ ...settings, totalSteps: 12 }, step);
      expect(run.epochs.map((e) => e.learningRate)).toEqual([2, 5, 8, 11].map(at));
      const progress = log.of('progress').map((e) => e.progress);
      expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      for (const p of progress) expect(p.learningRate).toBe(at(p.step));
      // The schedule really moves (no schedule here is flat over 12 steps).
      expect(new Set(run.epochs.map((e) => e.learningRate)).size).toBeGreaterThan(1);
      trainer.dispose();
    });
  }

  it('setLearningRate changes λ for the very next step while paused, and the schedule keeps applying', async () => {
    const log = eventLog();
    const trainer = Trainer.create(TFNS, linear('sgd'), { onEvent: log.onEvent });
    const { x, y } = trainer.dataset.train;
    const w0 = await weightsOf(trainer);
    trainer.pause();
    const done = trainer.run();
    let e = log.next('epoch', (r) => r.record.epoch === 1);
    trainer.stepOnce();
    expect((await e).record.learningRate).toBe(0.1);
    const w1 = await weightsOf(trainer);
    trainer.setLearningRate(0.03);
    expect(trainer.learningRate).toBe(0.03);
    e = log.next('epoch', (r) => r.record.epoch === 2);
    trainer.stepOnce();
    expect((await e).record.learningRate).toBe(0.03);
    const w2 = await weightsOf(trainer);
    const g0 = gradient(x, y, w0.fc!.kernel![0]!, w0.fc!.bias![0]!);
    const g1 = gradient(x, y, w1.fc!.kernel![0]!, w1.fc!.bias![0]!);
    expect(w1.fc!.kernel![0]).toBeCloseTo(w0.fc!.kernel![0]! - 0.1 * g0[0], 6);
    expect(w2.fc!.kernel![0]).toBeCloseTo(w1.fc!.kernel![0]! - 0.03 * g1[0], 6);
    expect(w2.fc!.bias![0]).toBeCloseTo(w1.fc!.bias![0]! - 0.03 * g1[1], 6);
    expect(() => trainer.setLearningRate(0)).toThrow(/positive/);
    expect(() => trainer.setLearningRate(Number.NaN)).toThrow(/positive/);
    expect(trainer.learningRate).toBe(0.03);
    trainer.stop();
    const run = await done;
    expect(run.status).toBe('stopped');
    expect(run.settings.learningRate).toBe(0.03);
    trainer.dispose();
  });
});

// ---------------------------------------------------------------------------------------

describe('determinism: same file + seed + backend gives the same run', () => {
  // Randomness everywhere: initialization, shuffling, Dropout masks, input noise.
  const doc = graph({
    data: { source: 'spirals', samples: 120, noise: 0.1, batchSize: 16, seed: 5 },
    layers: [
      ['gaussianNoise', 'noise', { sigma: 0.05 }],
      ['dense', 'fc1', { units: 12, initializer: 'heNormal' }],
      ['relu', 'relu'],
      ['dropout', 'drop', { rate: 0.3 }],
      ['dense', 'out', { units: 2 }],
    ],
    optimizer: ['adam', { learningRate: 0.02, epochs: 4 }],
  });

  async function runOf(seed?: number) {
    const trainer = Trainer.create(TFNS, doc, seed === undefined ? {} : { seed });
    const initial = (await trainer.exportWeights()).tensors;
    const trainX = Array.from(trainer.dataset.train.x);
    const run = await trainer.run();
    const final = (await trainer.exportWeights()).tensors;
    trainer.dispose();
    return { initial, trainX, run, final };
  }

  it('two trainers agree on initial weights, data, every step loss, epoch records and final weights', async () => {
    const a = await runOf();
    const b = await runOf();
    expect(a.run.status).toBe('completed');
    expect(a.run.seed).toBe(5);
    expect(b.initial).toEqual(a.initial);
    expect(b.trainX).toEqual(a.trainX);
    expect(a.run.stepLoss).toHaveLength(4 * Math.ceil(96 / 16));
    expect(b.run.stepLoss).toEqual(a.run.stepLoss);
    expect(withoutSeconds(b.run.epochs)).toEqual(withoutSeconds(a.run.epochs));
    expect(b.final).toEqual(a.final);
  });

  it('another seed gives other initial weights, data and losses', async () => {
    const a = await runOf();
    const c = await runOf(6);
    expect(c.run.seed).toBe(6);
    expect(c.initial).not.toEqual(a.initial);
    expect(c.trainX).not.toEqual(a.trainX);
    expect(c.run.stepLoss).not.toEqual(a.run.stepLoss);
  });
});

// ---------------------------------------------------------------------------------------

describe('a NaN or Infinity stops the run', () => {
  /** A deep-ish regression with plain SGD at a learning rate that makes it blow up in a few steps. */
  const diverging = (o: { lr: number; batchSize: number; seed?: number; act?: string }) =>
    graph({
      data: { source: 'regression', fn: 'cubic', samples: 64, noise: 0, validationFraction: 0.25, batchSize: o.batchSize, seed: o.seed ?? 7 },
      layers: [['dense', 'fc', { units: 16 }], ...(o.act ? [[o.act, 'act'] as Layer] : []), ['dense', 'out', { units: 1 }]],
      loss: 'meanSquaredError',
      optimizer: ['sgd', { learningRate: o.lr, epochs: 50 }],
    });

  const cases = [
    { name: 'full batch, read back every step', doc: diverging({ lr: 100, batchSize: 0 }), readEvery: 1 },
    { name: 'before the first read-back (mini-batches, read every 10 steps)', doc: diverging({ lr: 20, batchSize: 4 }), readEvery: 10 },
    { name: 'the update overflows while the loss it came from is finite', doc: diverging({ lr: 100, batchSize: 4, seed: 1, act: 'relu' }), readEvery: 1 },
  ];
  for (const c of cases) {
    it(`${c.name}: status failed, a fault naming the step and the node, finite weights kept`, async () => {
      const log = eventLog();
      const { trainer, run } = await train(c.doc, { readEvery: c.readEvery, onEvent: log.onEvent });
      expect(run.status).toBe('failed');
      const faults = log.of('fault');
      expect(faults).toHaveLength(1);
      const f = faults[0]!.fault;
      expect(f.step).toBeGreaterThan(1);
      expect(f.step).toBeLessThan(50);
      expect(f.message).toContain(`at step ${f.step} `);
      expect(f.message).toMatch(/NaN|Infinity/);
      // The first node where it appeared, by title and name; and its id for the canvas.
      expect(['fc', 'out', 'loss']).toContain(f.nodeId);
      const title = { fc: "Dense 'fc'", out: "Dense 'out'", loss: "Mean squared error 'loss'" }[f.nodeId as 'fc'];
      expect(f.message).toContain(title);
      expect(run.message).toBe(f.message);
      // Every loss that was recorded is finite, and none after the fault.
      expect(run.stepLoss.every(Number.isFinite)).toBe(true);
      expect(run.stepLoss.length).toBe(f.message.startsWith('the weights') ? f.step : f.step - 1);
      expect(log.of('done').map((e) => e.status)).toEqual(['failed']);
      // The last good weights are kept: all finite, and inference gives numbers.
      const w = await weightsOf(trainer);
      expect(allFinite(w)).toBe(true);
      const out = await trainer.predict(new Float32Array([0.5]), 1);
      expect(Number.isNaN(out[0])).toBe(false);
      trainer.dispose();
    });
  }
});

// ---------------------------------------------------------------------------------------

describe('no tensor leaks', () => {
  it('numTensors is flat from epoch to epoch of a long instrumented run and back to the baseline after dispose', async () => {
    const baseline = tf.memory().numTensors;
    const counts: number[] = [];
    const doc = example('xor');
    const trainer = Trainer.create(TFNS, doc, {
      epochs: 25,
      readEvery: 3,
      instrumentEvery: 3, // instrumented steps fall on different batches of each epoch
      onEvent: (e) => {
        if (e.type === 'epoch') counts.push(tf.memory().numTensors);
      },
    });
    const run = await trainer.run();
    expect(run.status).toBe('completed');
    expect(counts).toHaveLength(25);
    expect(new Set(counts.slice(1))).toEqual(new Set([counts[1]]));
    const afterRun = tf.memory().numTensors;

    // Nor do the calls a user makes between runs.
    await trainer.validate();
    await trainer.predict(new Float32Array([0, 1, 1, 0]), 2);
    const block = await trainer.exportWeights();
    expect(tf.memory().numTensors).toBe(afterRun);
    trainer.importWeights(block); // also frees Adam's moments, which start afresh
    const afterImport = tf.memory().numTensors;
    trainer.importWeights(block);
    trainer.importWeights(block);
    expect(tf.memory().numTensors).toBe(afterImport);

    trainer.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('a run with early stopping, a fault or a stop frees everything on dispose', async () => {
    const baseline = tf.memory().numTensors;
    const docs = [
      graph({
        data: { source: 'xor', samples: 100, batchSize: 16 },
        layers: [['dense', 'h', { units: 4 }], ['tanh', 't'], ['dense', 'out', { units: 2 }]],
        lossPath: [['earlyStopping', 'es', { patience: 1 }]],
        optimizer: ['sgd', { learningRate: 0.3, epochs: 30 }],
      }),
      graph({
        data: { source: 'regression', samples: 32, batchSize: 4 },
        layers: [['dense', 'fc', { units: 8 }], ['dense', 'out', { units: 1 }]],
        loss: 'meanSquaredError',
        optimizer: ['sgd', { learningRate: 50, epochs: 30 }],
      }),
    ];
    for (const doc of docs) {
      const { trainer, run } = await train(doc);
      expect(['early-stopped', 'failed']).toContain(run.status);
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    }
    const t = Trainer.create(TFNS, docs[0]!, { maxSteps: 7 });
    await t.run();
    t.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

// ---------------------------------------------------------------------------------------

describe('instrumentation', () => {
  it('arrives every readEvery steps with edge gradients, layer norms and 30-bin histograms that add up', async () => {
    const log = eventLog();
    const doc = example('xor'); // 320 training rows, batches of 32: 10 steps per epoch
    const { trainer, run } = await train(doc, { epochs: 2, readEvery: 5, instrumentEvery: 5, onEvent: log.onEvent });
    expect(run.status).toBe('completed');
    const events = log.of('instrumentation').map((e) => e.data);
    expect(events.map((d) => d.step)).toEqual([5, 10, 15, 20]);
    expect(events.map((d) => d.epoch)).toEqual([1, 1, 2, 2]);
    const plan = trainer.plan;
    expect(plan.instrumentedEdges.length).toBe(4); // x -> hidden -> tanh -> out -> loss.pred
    const units: Record<string, [fanIn: number, units: number]> = { hidden: [2, 8], out: [8, 2] };
    for (const d of events) {
      expect(Number.isFinite(d.loss) && d.loss > 0).toBe(true);
      expect(Object.keys(d.edges).sort()).toEqual(plan.instrumentedEdges.map((e) => e.edgeId).sort());
      for (const g of Object.values(d.edges)) {
        expect(g.meanAbs).toBeGreaterThan(0);
        expect(Number.isFinite(g.rms)).toBe(true);
        expect(g.rms).toBeGreaterThanOrEqual(g.meanAbs * (1 - 1e-6));
      }
      expect(Object.keys(d.layers).sort()).toEqual(['hidden', 'out']);
      for (const [id, s] of Object.entries(d.layers)) {
        const [fanIn, u] = units[id]!;
        expect(s.weightNorm).toBeGreaterThan(0);
        expect(s.gradNorm).toBeGreaterThan(0);
        expect(s.updateRatio).toBeGreaterThan(0);
        expect(s.updateRatio).toBeLessThan(1);
        for (const [h, total] of [[s.weights, fanIn * u], [s.gradients, fanIn * u], [s.activations!, 32 * u]] as const) {
          expect(h.counts).toHaveLength(30);
          expect(h.counts.reduce((a, b) => a + b, 0)).toBe(total);
          expect(h.min).toBeLessThanOrEqual(h.max);
          expect(h.counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
        }
      }
      // The loss of the instrumented step is the one in the step curve.
      expect(d.loss).toBe(run.stepLoss[d.step - 1]);
    }
    // Values move from one read to the next.
    expect(events[3]!.layers.hidden!.weightNorm).not.toBe(events[0]!.layers.hidden!.weightNorm);
    expect(events[3]!.edges).not.toEqual(events[0]!.edges);
    // The last read was the last step: its weight norm is the norm of the trained weights.
    const w = await weightsOf(trainer);
    for (const id of ['hidden', 'out']) {
      const norm = Math.sqrt([...w[id]!.kernel!, ...w[id]!.bias!].reduce((a, b) => a + b * b, 0));
      expect(events[3]!.layers[id]!.weightNorm).toBeCloseTo(norm, 4);
      const k = w[id]!.kernel!;
      expect(events[3]!.layers[id]!.weights.min).toBeCloseTo(Math.min(...k), 6);
      expect(events[3]!.layers[id]!.weights.max).toBeCloseTo(Math.max(...k), 6);
    }
    trainer.dispose();
  });

  it('paced by time, the first read-back step is instrumented and the next one is left plain to measure the instrumentation budget', async () => {
    const log = eventLog();
    // intervalMs 0: every step is due for a read-back.
    const { trainer, run } = await train(example('xor'), { epochs: 1, intervalMs: 0, onEvent: log.onEvent });
    expect(run.status).toBe('completed');
    const steps = log.of('instrumentation').map((e) => e.data.step);
    expect(steps[0]).toBe(1);
    expect(steps).not.toContain(2);
    expect(steps.length).toBeLessThan(10);
    for (const s of steps) expect(log.of('instrumentation').find((e) => e.data.step === s)!.data.loss).toBe(run.stepLoss[s - 1]);
    trainer.dispose();
  });

  it('another bin count, and none at all with instrument: false (losses and epochs still come)', async () => {
    const a = eventLog();
    const t1 = await train(example('xor'), { epochs: 1, readEvery: 2, instrumentEvery: 2, bins: 12, onEvent: a.onEvent });
    expect(a.of('instrumentation')).toHaveLength(5);
    expect(a.of('instrumentation')[0]!.data.layers.hidden!.weights.counts).toHaveLength(12);
    t1.trainer.dispose();

    const b = eventLog();
    const t2 = await train(example('xor'), { epochs: 2, readEvery: 2, instrument: false, onEvent: b.onEvent });
    expect(t2.run.status).toBe('completed');
    expect(b.of('instrumentation')).toHaveLength(0);
    expect(b.of('epoch')).toHaveLength(2);
    expect(b.of('progress').length).toBeGreaterThanOrEqual(10);
    expect(t2.run.stepLoss).toHaveLength(20);
    t2.trainer.dispose();
  });
});

// ---------------------------------------------------------------------------------------

describe('pause, single step, resume and stop', () => {
  const small = () => {
    const doc = example('xor');
    return { doc, epochs: 3 }; // 30 steps
  };

  it('pause() holds the run; stepOnce() takes exactly one step; resume() finishes it', async () => {
    const { doc, epochs } = small();
    const log = eventLog();
    const trainer = Trainer.create(TFNS, doc, {
      epochs,
      readEvery: 1,
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type === 'progress' && e.progress.step === 7) trainer.pause();
      },
    });
    const done = trainer.run();
    await log.next('progress', (e) => e.progress.step === 7);
    await turns(30);
    expect(trainer.isPaused).toBe(true);
    expect(trainer.step).toBe(7);
    for (const expected of [8, 9]) {
      const p = log.next('progress');
      trainer.stepOnce();
      expect((await p).progress.step).toBe(expected);
      await turns(30);
      expect(trainer.step).toBe(expected);
    }
    const w = await weightsOf(trainer);
    await turns(10);
    expect(await weightsOf(trainer)).toEqual(w); // nothing trains while paused
    trainer.resume();
    expect(trainer.isPaused).toBe(false);
    const run = await done;
    expect(run.status).toBe('completed');
    expect(trainer.step).toBe(30);
    expect(run.stepLoss).toHaveLength(30);
    expect(run.epochs).toHaveLength(3);
    const progress = log.of('progress').map((e) => e.progress);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Each step reports the epoch it belongs to (10 steps per epoch), the last one included.
    expect(progress.map((p) => p.epoch)).toEqual(progress.map((p) => Math.ceil(p.step / 10)));
    expect(progress.every((p) => p.epochs === 3 && p.totalSteps === 30)).toBe(true);
    trainer.dispose();
  });

  it('a paused run is the same run: pausing and stepping does not change the losses', async () => {
    const { doc, epochs } = small();
    const straight = await train(doc, { epochs });
    const log = eventLog();
    const trainer = Trainer.create(TFNS, doc, { epochs, onEvent: log.onEvent });
    trainer.pause();
    const done = trainer.run();
    for (let i = 1; i <= 4; i++) {
      const p = log.next('progress', (e) => e.progress.step === i);
      trainer.stepOnce();
      await p;
    }
    trainer.resume();
    const run = await done;
    expect(run.stepLoss).toEqual(straight.run.stepLoss);
    expect(await weightsOf(trainer)).toEqual(await weightsOf(straight.trainer));
    trainer.dispose();
    straight.trainer.dispose();
  });

  it('stop() ends the run after the current step with status stopped, also while paused', async () => {
    const { doc, epochs } = small();
    const log = eventLog();
    const trainer = Trainer.create(TFNS, doc, {
      epochs,
      readEvery: 1,
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type === 'progress' && e.progress.step === 12) trainer.stop();
      },
    });
    const run = await trainer.run();
    expect(run.status).toBe('stopped');
    expect(trainer.step).toBe(12);
    expect(run.stepLoss).toHaveLength(12);
    expect(run.epochs).toHaveLength(1);
    expect(log.of('done').map((e) => e.status)).toEqual(['stopped']);
    trainer.dispose();

    const paused = Trainer.create(TFNS, doc, { epochs });
    paused.pause();
    const done = paused.run();
    await expect(paused.run()).rejects.toThrow(/already running/);
    paused.stop();
    expect((await done).status).toBe('stopped');
    expect(paused.step).toBe(0);
    paused.dispose();
    await expect(paused.run()).rejects.toThrow(/disposed/);
  });

  it('maxSteps stops after that many optimizer steps', async () => {
    const { trainer, run } = await train(small().doc, { maxSteps: 3 });
    expect(run.status).toBe('stopped');
    expect(trainer.step).toBe(3);
    expect(run.stepLoss).toHaveLength(3);
    expect(run.settings.steps).toBe(3);
    trainer.dispose();
  });
});

describe('early stopping', () => {
  const withEarlyStopping = (restoreBest: boolean) =>
    graph({
      data: { source: 'xor', samples: 200, noise: 0.05, batchSize: 16, seed: 1 },
      layers: [['dense', 'hidden', { units: 8 }], ['tanh', 'tanh'], ['dense', 'out', { units: 2 }]],
      lossPath: [['earlyStopping', 'es', { patience: 2, minDelta: 0, restoreBest }]],
      optimizer: ['adam', { learningRate: 0.1, epochs: 60 }],
    });

  /** The epoch at which patience runs out, from the validation losses. */
  function stopEpoch(valLosses: number[], patience: number): number | null {
    let best = Infinity;
    let since = 0;
    for (let i = 0; i < valLosses.length; i++) {
      if (valLosses[i]! < best) {
        best = valLosses[i]!;
        since = 0;
      } else if (++since >= patience) return i + 1;
    }
    return null;
  }

  it('stops when the validation loss has not improved for `patience` epochs and restores the best weights', async () => {
    const { trainer, run } = await train(withEarlyStopping(true));
    expect(run.status).toBe('early-stopped');
    const losses = run.epochs.map((e) => e.valLoss!);
    expect(run.epochs.length).toBeLessThan(60);
    expect(stopEpoch(losses, 2)).toBe(run.epochs.length);
    const best = Math.min(...losses);
    const { loss } = await trainer.validate();
    expect(loss).toBeCloseTo(best, 6);
    expect(losses.at(-1)).toBeGreaterThan(best + 1e-6);
    expect(run.settings.earlyStopping).toBe(2);
    trainer.dispose();
  });

  it('without restoreBest it keeps the last weights', async () => {
    const { trainer, run } = await train(withEarlyStopping(false));
    expect(run.status).toBe('early-stopped');
    const { loss } = await trainer.validate();
    expect(loss).toBeCloseTo(run.epochs.at(-1)!.valLoss!, 6);
    expect(loss).toBeGreaterThan(Math.min(...run.epochs.map((e) => e.valLoss!)) + 1e-6);
    trainer.dispose();
  });
});

// ---------------------------------------------------------------------------------------

describe('trained weights in the document', () => {
  it('export → document → save → load → import predicts exactly as the original, and training continues from there', async () => {
    const doc = example('xor');
    const { trainer, run } = await train(doc, { epochs: 8 });
    const block = await trainer.exportWeights();
    expect(block).toMatchObject({ step: 80, epoch: 8, backend: 'cpu' });
    expect(Object.keys(block.tensors).sort()).toEqual(['hidden', 'out']);
    expect(block.tensors.hidden!.kernel!.shape).toEqual([2, 8]);

    const text = saveGraph({ ...doc, weights: block, runs: [run] });
    const loaded = loadGraph(text);
    if (!loaded.ok) throw loaded.error;
    const doc2 = loaded.document;
    expect(doc2.weights).toEqual(block);
    expect(doc2.runs).toHaveLength(1);
    expect(doc2.runs![0]!.stepLoss).toEqual(run.stepLoss);
    expect(doc2.runs![0]!.status).toBe('completed');

    const again = Trainer.create(TFNS, doc2);
    const fresh = await again.predict(trainer.dataset.val.x, trainer.dataset.val.n);
    again.importWeights(doc2.weights!);
    // A continued run counts its own steps, and records where it started from.
    expect(again.step).toBe(0);
    expect(again.runRecord('stopped').settings.resumedFromStep).toBe(80);
    const x = trainer.dataset.val.x;
    const before = await trainer.predict(x, trainer.dataset.val.n);
    const after = await again.predict(x, trainer.dataset.val.n);
    expect(after).toEqual(before);
    expect(after).not.toEqual(fresh);
    expect(await again.validate()).toEqual(await trainer.validate());

    // Continue training: it starts from the trained weights, not from scratch.
    const cont = await again.run();
    expect(cont.status).toBe('completed');
    expect(cont.stepLoss[0]).toBeLessThan(run.stepLoss[0]! / 2);
    expect(cont.stepLoss[0]).toBeLessThan(run.epochs.at(-1)!.trainLoss * 3);
    expect((await again.validate()).accuracy).toBeGreaterThanOrEqual(0.97);
    again.dispose();
    trainer.dispose();
  });

  it('weights of a changed graph are refused with a message naming the node, and nothing is changed', async () => {
    const { trainer } = await train(example('xor'), { epochs: 1 });
    const block = await trainer.exportWeights();
    trainer.dispose();

    const wider = example('xor');
    wider.nodes.find((n) => n.id === 'hidden')!.params.units = 9;
    const t = Trainer.create(TFNS, wider);
    const w0 = await weightsOf(t);
    expect(() => t.importWeights(block)).toThrow(/kernel of Dense 'hidden' has shape \[2, 8\] but the graph needs \[2, 9\]/);
    expect(await weightsOf(t)).toEqual(w0);
    expect(t.step).toBe(0);

    t.dispose();

    const same = Trainer.create(TFNS, example('xor'));
    const s0 = await weightsOf(same);
    const missing = structuredClone(block);
    delete missing.tensors.out;
    expect(() => same.importWeights(missing)).toThrow(/no kernel for Dense 'out'/);
    const damaged = structuredClone(block);
    damaged.tensors.out!.bias!.data = encodeFloat32(new Float32Array(3));
    expect(() => same.importWeights(damaged)).toThrow(/bias of Dense 'out' is damaged/);
    expect(await weightsOf(same)).toEqual(s0);
    same.importWeights(block);
    expect(await weightsOf(same)).toEqual(decode(block));
    same.dispose();
  });
});

// ---------------------------------------------------------------------------------------

describe('graphs that cannot train', () => {
  it('Trainer.create throws NotTrainableError with the reasons', () => {
    const g = new GraphBuilder('no optimizer');
    g.add('dataset', 'data', { source: 'xor' });
    g.add('dense', 'out', { units: 2 }).wire('data.x', 'out.in');
    g.add('softmaxCrossEntropy', 'loss').wire('out.out', 'loss.pred').wire('data.y', 'loss.target');
    let err: unknown;
    try {
      Trainer.create(TFNS, g.build());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotTrainableError);
    expect((err as NotTrainableError).errors.length).toBeGreaterThan(0);
    expect((err as Error).message).toMatch(/cannot train/);
    expect((err as Error).message).toMatch(/optimizer/i);
  });
});

// ---------------------------------------------------------------------------------------

describe('backend selection', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const wasmLoader = { wasm: async () => void (await import('@tensorflow/tfjs-backend-wasm')) };

  it('in Node, webgpu is skipped with the reason and wasm is used', async () => {
    const choice = await selectBackend(TFNS, ['webgpu', 'wasm', 'cpu'], wasmLoader);
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.fallbacks).toHaveLength(1);
    expect(choice.fallbacks[0]).toMatch(/^webgpu: /);
    expect(choice.fallbacks[0]).toMatch(/not available/);
  });

  it('a loader that fails and an unknown name are both reported; the next preference runs', async () => {
    const choice = await selectBackend(TFNS, ['webgpu', 'tpu', 'cpu'], {
      webgpu: async () => {
        throw new Error('navigator.gpu is undefined');
      },
    });
    expect(choice.backend).toBe('cpu');
    expect(choice.fallbacks).toEqual(['webgpu: navigator.gpu is undefined', 'tpu: not available on this platform']);
  });

  it('none available is a NoBackendError that gives every reason', async () => {
    const err = await selectBackend(TFNS, ['webgpu', 'webgl']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoBackendError);
    expect((err as Error).message).toMatch(/no TensorFlow\.js backend could start/);
    expect((err as Error).message).toMatch(/webgpu: /);
    expect((err as Error).message).toMatch(/webgl: /);
    expect(tf.getBackend()).toBe('cpu'); // the backend in use is not swapped silently
  });

  it('the backends register the kernels the trainer relies on (and not unknown ones)', () => {
    // A kernel missing at run time becomes a fault naming it (core/train/faults.ts kernelFault).
    const missing = (backend: string, kernels: string[]) => kernels.filter((k) => !tf.getKernel(k, backend));
    expect(missing('cpu', ['BatchMatMul', 'Relu', 'NoSuchKernel'])).toEqual(['NoSuchKernel']);
    expect(missing('wasm', ['_FusedMatMul', 'Bincount', 'IsFinite'])).toEqual([]);
  });
});
