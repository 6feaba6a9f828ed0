/**
 * Interpolation between two weight sets: the ends of the line are the two weight sets'
 * own evaluated losses (BatchNorm running statistics interpolated with the rest), the
 * trained end is lower than the initial one, a second run gives a second minimum, and
 * nothing is left on the device.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rangeProblem } from '../../core/experiments/directions.ts';
import { runExperiment } from '../../core/experiments/framework.ts';
import { landscape } from '../../core/experiments/landscape.ts';
import { sharpVsFlat } from '../../core/experiments/sharp-flat.ts';
import { interpolation, withBatchSize, type InterpolationData } from '../../core/experiments/interpolation.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { smallNet, trained } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;
let net: GraphDocument;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  net = await trained(TFNS, smallNet({ batchNorm: true }), 200);
});

/** The loss of a trainer's current weights over the whole training set, evaluated on its own. */
async function lossOf(t: Trainer): Promise<number> {
  const set = t.evaluationSet(1_000_000, 0);
  const r = t.evaluateOn(set);
  const v = (await r.loss.data())[0]!;
  tf.dispose([r.loss, r.correct!, set.x, set.y]);
  return v;
}

describe('interpolation', () => {
  it('from the initial to the trained weights: the ends are those weights evaluated on their own, BatchNorm statistics included', async () => {
    const before = tf.memory().numTensors;
    const r = await runExperiment(interpolation, { tf: TFNS, doc: net, settings: { samples: 1_000_000 } });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as InterpolationData;
    expect(d.alphas).toHaveLength(41);
    expect(d.alphas[10]).toBe(0);
    expect(d.alphas[30]).toBe(1);
    expect(d.loss[10]).toBe(d.ends[0]!.loss);
    expect(d.loss[30]).toBe(d.ends[1]!.loss);
    const initial = Trainer.create(TFNS, net, { instrument: false });
    const trainedT = Trainer.create(TFNS, net, { instrument: false });
    trainedT.importWeights(net.weights!);
    expect(d.ends[0]!.loss).toBeCloseTo(await lossOf(initial), 5);
    expect(d.ends[1]!.loss).toBeCloseTo(await lossOf(trainedT), 5);
    initial.dispose();
    trainedT.dispose();
    expect(d.ends[1]!.loss).toBeLessThan(d.ends[0]!.loss);
    expect(d.distance).toBeGreaterThan(0);
    expect(d.ends.map((e) => e.label)).toEqual(['initial weights', 'trained weights']);
  });

  it('to the minimum of a second run with another batch size', async () => {
    const progress: number[] = [];
    const r = await runExperiment(interpolation, { tf: TFNS, doc: net, settings: { start: 'trained', end: 'second-run', secondSeed: 9, secondBatchSize: 0, points: 5, from: 0, to: 1 }, onProgress: (p) => progress.push(p.done) });
    const d = r.data as InterpolationData;
    expect(d.ends[1]!.label).toBe('second run (seed 9, batch full)');
    expect(d.loss[0]).toBe(d.ends[0]!.loss);
    expect(d.loss[4]).toBe(d.ends[1]!.loss);
    expect(d.distance).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toBe(6);
  });

  it('sets the batch size of the data node for a variant, leaving the document as it was', () => {
    const v = withBatchSize(net, 0);
    expect(v.nodes.find((n) => n.kind === 'dataset')!.params.batchSize).toBe(0);
    expect(net.nodes.find((n) => n.kind === 'dataset')!.params.batchSize).toBe(32);
  });

  it('refuses ends that need trained weights the graph does not have, and the same weights twice', async () => {
    const { weights: _w, ...untrained } = net;
    await expect(runExperiment(interpolation, { tf: TFNS, doc: untrained, settings: {} })).rejects.toThrow('the graph has no trained weights');
    await expect(runExperiment(interpolation, { tf: TFNS, doc: net, settings: { start: 'trained' } })).rejects.toThrow('θ₁ and θ₂ are the same trained weights');
  });
});

describe('settings every α-range experiment checks the same way', () => {
  it.each([
    ['interpolation', interpolation],
    ['sharp vs flat', sharpVsFlat],
    ['landscape', landscape],
  ] as const)('%s refuses a range that does not go up, naming both ends', (_name, experiment) => {
    const check = experiment.check as (doc: unknown, s: Record<string, unknown>) => string | null;
    expect(check(net, { from: 1, to: -1, start: 'initial', end: 'second-run' })).toBe('the range must go up: From (1) must be below To (-1)');
    expect(rangeProblem({ from: -1, to: 1 })).toBeNull();
  });
});
