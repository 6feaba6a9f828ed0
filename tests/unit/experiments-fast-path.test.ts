/**
 * The landscape's fast path: a layer that is linear in its weights and fed by the data alone
 * (the first Dense after Flatten, a first Conv2D) is computed once at θ* and once along each
 * direction, and every grid point adds them up: out(θ* + αd₁ + βd₂) = out(θ*) + α out(d₁) +
 * β out(d₂). The user relies on it giving the same surface as evaluating every point with a
 * full forward pass — with biases moved too, with DropConnect's mean kernel, with a ReLU that
 * is otherwise fused into the layer, and when the set is evaluated in several chunks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { evaluateAlong, filterNormalizedDirection, type Evaluation } from '../../core/experiments/directions.ts';
import type { ExperimentContext } from '../../core/experiments/framework.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import type { MnistData } from '../../core/data/mnist.ts';
import { loadMnistNode } from '../../core/data/mnist-node.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { smallNet, trained } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const ctx = { tf: TFNS, checkpoint: async () => {}, progress: () => {} } as unknown as ExperimentContext;

/** moons → [DropConnect] → Dense(units) → ReLU → Dense(2) → softmax cross-entropy. */
function net(o: { units: number; samples: number; dropConnect?: boolean; firstLayer?: [string, Record<string, ParamValue>] }): GraphDocument {
  const g = new GraphBuilder('fast path');
  g.add('dataset', 'data', { source: 'moons', samples: o.samples, noise: 0.1, validationFraction: 0.2, batchSize: 64, seed: 3 });
  const layers: [string, string, Record<string, ParamValue>?][] = [];
  if (o.dropConnect) layers.push(['dropConnect', 'dc', { rate: 0.25 }]);
  layers.push(o.firstLayer ? [o.firstLayer[0], 'first', o.firstLayer[1]] : ['dense', 'fc1', { units: o.units }], ['relu', 'act'], ['dense', 'fc2', { units: 2 }]);
  const out = g.chain('data.x', layers);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.02, epochs: 2 }).wire('loss.loss', 'optimizer.loss');
  return g.build();
}

/** The surface on a few points, by the fast path and by full forward passes. */
async function bothWays(doc: GraphDocument, o: { biasAndBN?: boolean; samples?: number; evaluationFloats?: number; mnist?: MnistData } = {}) {
  const t = Trainer.create(TFNS, doc, { instrument: false, ...(o.evaluationFloats ? { evaluationFloats: o.evaluationFloats } : {}), ...(o.mnist ? { mnist: o.mnist } : {}) });
  if (doc.weights) t.importWeights(doc.weights);
  const set = t.evaluationSet(o.samples ?? 1_000_000, 4);
  const theta = t.cloneTrainable();
  const rng = createRng(11);
  const dirs = [filterNormalizedDirection(TFNS, theta, rng, o.biasAndBN), filterNormalizedDirection(TFNS, theta, rng, o.biasAndBN)];
  const coords = [[0, 0], [0.5, -0.25], [-1, 1], [0.75, 0]];
  const collect = async (precompute: boolean) => {
    const out: Evaluation[] = [];
    await evaluateAlong(ctx, t, set, theta, dirs, coords, (_done, values) => values.forEach(({ index, value }) => (out[index] = value)), { precompute });
    return out;
  };
  const fast = await collect(true);
  const plain = await collect(false);
  const info = { linear: t.program.dataLinearLayers(), chunks: t.evaluationChunks(set).length, n: set.n };
  tf.dispose([set.x, set.y, ...theta, ...dirs.flat()]);
  t.dispose();
  return { fast, plain, ...info };
}

function expectSame(fast: Evaluation[], plain: Evaluation[]): void {
  expect(fast).toHaveLength(plain.length);
  fast.forEach((f, i) => {
    // float32 sums in another order: equal to a few units in the 6th digit.
    expect(Math.abs(f.loss - plain[i]!.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(plain[i]!.loss)));
    expect(f.accuracy).toBe(plain[i]!.accuracy);
  });
}

describe('the layers computed once per direction', () => {
  it('are the weighted layers fed by the data alone (through weightless nodes), not the ones after them or BatchNorm', () => {
    const layers = (doc: GraphDocument) => {
      const t = Trainer.create(TFNS, doc, { instrument: false });
      const ids = t.program.dataLinearLayers();
      t.dispose();
      return ids;
    };
    expect(layers(smallNet())).toEqual(['fc1']);
    expect(layers(net({ units: 4, samples: 50, dropConnect: true }))).toEqual(['fc1']);
    // BatchNorm is not linear in γ, β and its running statistics: nothing to precompute.
    expect(layers(net({ units: 4, samples: 50, firstLayer: ['batchNorm', {}] }))).toEqual([]);
  });
});

describe('the fast path gives the surface of full forward passes', () => {
  it('on a trained net with a ReLU fused into its first layer, directions on the weight matrices only', async () => {
    const before = tf.memory().numTensors;
    const doc = await trained(TFNS, net({ units: 16, samples: 200 }), 60);
    const r = await bothWays(doc);
    expect(r.linear).toEqual(['fc1']);
    expectSame(r.fast, r.plain);
    // (0, 0) is θ* itself, and the points differ from it (the directions move something).
    expect(r.fast[1]!.loss).not.toBeCloseTo(r.fast[0]!.loss, 3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with biases moved too (--bias-and-bn) and DropConnect’s mean kernel p·W', async () => {
    const doc = await trained(TFNS, net({ units: 8, samples: 200, dropConnect: true }), 40);
    const r = await bothWays(doc, { biasAndBN: true });
    expectSame(r.fast, r.plain);
  });

  it('when the set is evaluated in several chunks, each chunk getting its own rows', async () => {
    const before = tf.memory().numTensors;
    // A small activation budget: 512-row chunks of the 1,200 training examples.
    const r = await bothWays(net({ units: 16, samples: 1500 }), { evaluationFloats: 1000 });
    expect(r.chunks).toBeGreaterThan(1);
    expect(r.n).toBe(1200);
    expectSame(r.fast, r.plain);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with a first Conv2D (linear in its kernel and bias), after a Reshape of MNIST digits', async () => {
    const before = tf.memory().numTensors;
    const g = new GraphBuilder('cnn');
    g.add('dataset', 'data', { source: 'mnist', samples: 60, validationFraction: 0.5, batchSize: 10 });
    const out = g.chain('data.x', [
      ['reshape', 'image', { shape: [28, 28, 1] }],
      ['conv2d', 'c1', { filters: 3, kernelSize: [3, 3], stride: 2 }],
      ['relu', 'r1'],
      ['flatten', 'flat'],
      ['dense', 'head', { units: 10 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const r = await bothWays(g.build(), { biasAndBN: true, mnist: await loadMnistNode() });
    expect(r.linear).toEqual(['c1']);
    expectSame(r.fast, r.plain);
    expect(tf.memory().numTensors).toBe(before);
  });
});
