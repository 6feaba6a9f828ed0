/**
 * Sharpness (λmax of the Hessian by power iteration, as PyHessian): on linear regression with
 * MSE the Hessian is 2XᵀX/n in closed form, and the experiment finds its largest
 * eigenvalues to 1%; the two Hessian-vector products (double backprop, finite difference)
 * agree on a nonlinear network; a seed gives the same result; no tensor is left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { runExperiment } from '../../core/experiments/framework.ts';
import { hessianVectorProduct, sharpness, type SharpnessData } from '../../core/experiments/sharpness.ts';
import { symmetricEigen } from '../../core/experiments/trajectory.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { linearRegression, smallNet, trained } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** 1-D regression through two ReLU layers and a squared error: twice differentiable in TensorFlow.js. */
function reluRegression(): GraphDocument {
  const g = new GraphBuilder('relu regression');
  g.add('dataset', 'data', { source: 'regression', fn: 'sin', samples: 120, noise: 0.05, validationFraction: 0, batchSize: 32, seed: 2 });
  const out = g.chain('data.x', [['dense', 'fc1', { units: 8 }], ['relu', 'r1'], ['dense', 'fc2', { units: 8 }], ['relu', 'r2'], ['dense', 'fc3', { units: 1 }]]);
  g.add('meanSquaredError', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'opt', { learningRate: 0.02, epochs: 20 }).wire('loss.loss', 'opt.loss');
  return g.build();
}

/** Eigenvalues of a small symmetric matrix (cyclic Jacobi in float64), largest first. */
const symmetricEigenvalues = (m: number[][]) => symmetricEigen(m).values;

/** 2X̃ᵀX̃/n of the trainer's training set, X̃ = [X, 1] with a bias. */
function closedFormHessian(doc: GraphDocument, bias: boolean): number[][] {
  const t = Trainer.create(TFNS, doc, { instrument: false });
  const { x, n } = t.dataset.train;
  const d = 3 + (bias ? 1 : 0);
  const row = (i: number) => (bias ? [x[3 * i]!, x[3 * i + 1]!, x[3 * i + 2]!, 1] : [x[3 * i]!, x[3 * i + 1]!, x[3 * i + 2]!]);
  const h = Array.from({ length: d }, () => new Array(d).fill(0));
  for (let i = 0; i < n; i++) {
    const r = row(i);
    for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) h[p]![q] += (2 * r[p]! * r[q]!) / n;
  }
  t.dispose();
  return h;
}

describe('sharpness: λmax of the Hessian by power iteration', () => {
  it.each([
    ['without a bias: λmax of 2XᵀX/n', false],
    ['with a bias: λmax of 2X̃ᵀX̃/n, X̃ = [X, 1]', true],
  ])('linear regression with MSE %s, to 1%%, by both Hessian-vector products', async (_name, bias) => {
    const doc = linearRegression(bias);
    const want = symmetricEigenvalues(closedFormHessian(doc, bias));
    for (const method of ['double-backprop', 'finite-difference'] as const) {
      const before = tf.memory().numTensors;
      const r = await runExperiment(sharpness, { tf: TFNS, doc, settings: { top: 2, method, tolerance: 1e-6, maxIterations: 300 }, weights: null });
      expect(tf.memory().numTensors).toBe(before);
      const d = r.data as SharpnessData;
      expect(d.samples).toBe(60);
      expect(d.parameters).toBe(bias ? 4 : 3);
      expect(Math.abs(d.eigenvalues[0]! - want[0]!) / want[0]!).toBeLessThan(0.01);
      // The second largest, after deflating the first (PyHessian's orthnormal).
      expect(Math.abs(d.eigenvalues[1]! - want[1]!) / want[1]!).toBeLessThan(0.01);
    }
  });

  it('double backprop and the central difference of gradients give the same Hv on a ReLU net with a squared error', async () => {
    const doc = await trained(TFNS, reluRegression(), 100);
    const t = Trainer.create(TFNS, doc, { instrument: false });
    t.importWeights(doc.weights!);
    const set = t.evaluationSet(100, 3);
    const theta = t.cloneTrainable();
    const before = tf.memory().numTensors;
    const rng = createRng(4);
    const [exact, approx] = tf.tidy(() => {
      const v = theta.map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => rng.normal()), w.shape));
      const n = tf.sqrt(tf.addN(v.map((x) => tf.sum(tf.square(x)))));
      const unit = v.map((x) => tf.div(x, n));
      const a = hessianVectorProduct(TFNS, t, set, theta, unit, 'double-backprop');
      const b = hessianVectorProduct(TFNS, t, set, theta, unit, 'finite-difference', 1e-3);
      return [tf.concat(a.map((x) => tf.reshape(x, [-1]))), tf.concat(b.map((x) => tf.reshape(x, [-1])))];
    });
    const rel = tf.tidy(() => tf.div(tf.norm(tf.sub(exact!, approx!)), tf.norm(exact!)).dataSync()[0]!);
    expect(rel).toBeLessThan(0.02);
    tf.dispose([exact!, approx!]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...theta, set.x, set.y]);
    t.dispose();
  });

  it('refuses double backprop where TensorFlow.js cannot differentiate twice (softmax cross-entropy), saying why', async () => {
    const doc = await trained(TFNS, smallNet({ hidden: 6 }), 100);
    const before = tf.memory().numTensors;
    await expect(runExperiment(sharpness, { tf: TFNS, doc, settings: { method: 'double-backprop', maxIterations: 5 } })).rejects.toThrow('double backpropagation is not exact on this graph in TensorFlow.js');
    expect(tf.memory().numTensors).toBe(before);
    // The finite difference works there.
    const r = await runExperiment(sharpness, { tf: TFNS, doc, settings: { maxIterations: 5 } });
    expect((r.data as SharpnessData).eigenvalues[0]).toBeGreaterThan(0);
  });

  it('is deterministic with a seed and reports its progress', async () => {
    const doc = await trained(TFNS, smallNet({ hidden: 6 }), 100);
    const progress: number[] = [];
    const a = await runExperiment(sharpness, { tf: TFNS, doc, settings: { maxIterations: 20, samples: 80 }, seed: 5, onProgress: (p) => progress.push(p.done) });
    const b = await runExperiment(sharpness, { tf: TFNS, doc, settings: { maxIterations: 20, samples: 80 }, seed: 5 });
    expect(b.data).toEqual(a.data);
    expect(progress.length).toBeGreaterThan(1);
    expect((a.data as SharpnessData).eigenvalues[0]).toBeGreaterThan(0);
  });
});
