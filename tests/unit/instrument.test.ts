/**
 * The instrumentation vector is laid out by packInstrumentation and read by
 * unpackInstrumentation: what one packs the other gives back, value by value, against the
 * same quantities computed on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { packedLength, packInstrumentation, unpackInstrumentation, type InstrumentLayout } from '../../core/train/instrument.ts';

tf.enableProdMode();

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const norm = (...xs: number[][]) => Math.sqrt(xs.flat().reduce((a, b) => a + b * b, 0));

describe('the instrumentation vector', () => {
  it('unpack(pack(step)) gives every edge magnitude, norm, update ratio and histogram of the step', async () => {
    const layout: InstrumentLayout = { edges: ['a->b', 'b->c'], layers: ['fc1', 'fc2'], bins: 4 };
    const before = tf.memory().numTensors;
    const g1 = [0.5, -1.5, 2, 0];
    const g2 = [3, -4];
    const k1 = [1, 2, 3, 4, 5, 6];
    const b1 = [0.5, -0.5];
    const k1Before = [1, 2, 3, 4, 5, 5];
    const k2 = [-1, 1];
    const gk1 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const gb1 = [1, -1];
    const gk2 = [2, 2];
    const act1 = [0, 0.25, 0.5, 1];
    const t = (v: number[], shape?: number[]) => tf.tensor(v, shape ?? [v.length], 'float32');
    const owned = [t([0.75]), t(g1, [2, 2]), t(g2), t(k1, [3, 2]), t(b1), t(k1Before, [3, 2]), t(b1), t(gk1, [3, 2]), t(gb1), t(act1, [2, 2]), t(k2, [2, 1]), t(k2, [2, 1]), t(gk2, [2, 1])];
    const [loss, e1, e2, w1, wb1, w1b, wb1b, d1, db1, a1, w2, w2b, d2] = owned as tf.Tensor[];
    const lossScalar = tf.reshape(loss!, []);
    const packed = packInstrumentation(tf, layout, lossScalar, [e1!, e2!], [
      { weights: [w1!, wb1!], before: [w1b!, wb1b!], grads: [d1!, db1!], main: 0, activation: a1! },
      { weights: [w2!], before: [w2b!], grads: [d2!], main: 0, activation: null },
    ]);
    expect(packed.shape).toEqual([packedLength(layout)]);
    const v = (await packed.data()) as Float32Array;
    const got = unpackInstrumentation(layout, v, 7, 2);
    expect(got.step).toBe(7);
    expect(got.epoch).toBe(2);
    expect(got.loss).toBeCloseTo(0.75, 6);
    expect(got.edges['a->b']!.meanAbs).toBeCloseTo(1, 6);
    expect(got.edges['a->b']!.rms).toBeCloseTo(Math.sqrt((0.25 + 2.25 + 4) / 4), 6);
    expect(got.edges['b->c']!).toEqual({ meanAbs: expect.closeTo(3.5, 6), rms: expect.closeTo(Math.sqrt(12.5), 5) });
    const fc1 = got.layers.fc1!;
    expect(fc1.weightNorm).toBeCloseTo(norm(k1, b1), 5);
    expect(fc1.gradNorm).toBeCloseTo(norm(gk1, gb1), 5);
    expect(fc1.updateRatio).toBeCloseTo(1 / norm(k1Before, b1), 6);
    expect(fc1.weights).toEqual({ min: 1, max: 6, counts: [2, 1, 1, 2] });
    expect(fc1.gradients.min).toBeCloseTo(0.1, 6);
    expect(fc1.gradients.max).toBeCloseTo(0.6, 6);
    expect(fc1.gradients.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(fc1.activations).toEqual({ min: 0, max: 1, counts: [1, 1, 1, 1] });
    const fc2 = got.layers.fc2!;
    expect(fc2.weightNorm).toBeCloseTo(Math.SQRT2, 6);
    expect(fc2.updateRatio).toBe(0);
    expect(fc2.activations).toBeNull();
    tf.dispose([packed, lossScalar]);
    tf.dispose(owned);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a vector or tensors that do not fit the layout', () => {
    const layout: InstrumentLayout = { edges: ['e'], layers: [], bins: 3 };
    expect(packedLength(layout)).toBe(3);
    expect(() => unpackInstrumentation(layout, new Float32Array(4), 1, 1)).toThrow(/4 values, its layout 3/);
    const l = tf.scalar(1);
    expect(() => packInstrumentation(tf, layout, l, [], [])).toThrow(/0 edges and 0 layers, the layout 1 and 0/);
    l.dispose();
  });
});
