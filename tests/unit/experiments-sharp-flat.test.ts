/**
 * Sharp vs flat: four runs from the same initial weights (small/large batch × with/without
 * weight decay), each with its test error, 1-D curve (through its own minimum) and λmax;
 * the weight decay is a real L2 node on the loss path; nothing is left on the device.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/compile/plan.ts';
import { runExperiment } from '../../core/experiments/framework.ts';
import { sharpVsFlat, withWeightDecay, type SharpFlatData } from '../../core/experiments/sharp-flat.ts';
import type { TF } from '../../core/graph/types.ts';
import { smallNet } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('sharp vs flat', () => {
  it('weight decay is an L2 penalty on the loss path of the compiled graph', () => {
    const plan = compilePlan(withWeightDecay(smallNet(), 0.01));
    expect(plan.ok && plan.plan.training.penalties).toEqual([expect.objectContaining({ kind: 'l2', params: expect.objectContaining({ alpha: 0.01 }) })]);
    expect(withWeightDecay(smallNet(), 0)).toEqual(smallNet());
  });

  it('trains the four minima and gives each its test error, curve and λmax', async () => {
    const before = tf.memory().numTensors;
    const r = await runExperiment(sharpVsFlat, { tf: TFNS, doc: smallNet({ samples: 160 }), settings: { epochs: 3, points: 5, samples: 100, iterations: 10, weightDecay: 0.01 } });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as SharpFlatData;
    expect(d.runs.map((x) => x.label)).toEqual(['batch 16', 'batch full', 'batch 16, weight decay 0.01', 'batch full, weight decay 0.01']);
    // 128 training examples: 8 steps an epoch in batches of 16, 1 with the full batch.
    expect(d.runs.map((x) => x.steps)).toEqual([24, 3, 24, 3]);
    for (const x of d.runs) {
      expect(x.curve).toHaveLength(5);
      expect(x.curve.every((v) => v !== null)).toBe(true);
      expect(x.testError).toBeGreaterThanOrEqual(0);
      expect(x.testError).toBeLessThanOrEqual(1);
      expect(Number.isFinite(x.lambdaMax)).toBe(true);
    }
    // The same initial weights: the two runs without decay differ only by their batches.
    expect(d.runs[0]!.curve).not.toEqual(d.runs[1]!.curve);
    expect(sharpVsFlat.data.safeParse(d).success).toBe(true);
  });
});
