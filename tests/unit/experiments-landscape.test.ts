/**
 * The loss landscape as a user relies on it: directions are filter-normalized as in Li et al.
 * (every filter of the direction as long as the weights' filter, biases and BatchNorm zero);
 * the surface at (0, 0) is the loss of θ* itself; a seed gives the same picture; cancelling
 * keeps what was computed; no tensor is left behind; results survive save and load.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { coarseToFine, filterNormalizedDirection, linspace } from '../../core/experiments/directions.ts';
import { ExperimentControl, ExperimentError, parseSettings, runExperiment, withResult } from '../../core/experiments/framework.ts';
import { coarseToFine2D, landscape, type LandscapeData } from '../../core/experiments/landscape.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { smallNet, trained } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;
let net: GraphDocument;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  net = await trained(TFNS, smallNet({ batchNorm: true }), 300);
});

const run = (doc: GraphDocument, settings: Record<string, unknown>, seed = 1, control?: ExperimentControl) =>
  runExperiment(landscape, { tf: TFNS, doc, settings, seed, ...(control ? { control } : {}) });

describe('filter-normalized directions (net_plotter.py)', () => {
  it('every filter of the direction has the norm of the same filter of the weights; biases and BatchNorm get zero', () => {
    const kernel = tf.tensor2d([[1, 2, 0], [3, -1, 5], [0, 4, 2], [1, 1, 1]]); // [in 4, out 3]: filters are columns
    const bias = tf.tensor1d([0.5, -1, 2]);
    const gamma = tf.tensor1d([1, 1, 1]);
    const [d, db, dg] = filterNormalizedDirection(TFNS, [kernel, bias, gamma], createRng(5));
    const colNorms = (t: tf.Tensor) => Array.from(tf.sqrt(tf.sum(tf.square(t), 0)).dataSync());
    const want = colNorms(kernel);
    colNorms(d!).forEach((n, j) => expect(n).toBeCloseTo(want[j]!, 5));
    expect(Array.from(db!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(dg!.dataSync())).toEqual([0, 0, 0]);
    // With biases and BatchNorm included, their direction is the weights themselves (ignore != 'biasbn').
    const [, db2] = filterNormalizedDirection(TFNS, [kernel, bias], createRng(5), true);
    expect(Array.from(db2!.dataSync())).toEqual([0.5, -1, 2]);
    tf.dispose([kernel, bias, gamma, d!, db!, dg!, db2!]);
  });

  it('is the same for the same seed and differs for another', () => {
    const w = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    const a = filterNormalizedDirection(TFNS, [w], createRng(9))[0]!;
    const b = filterNormalizedDirection(TFNS, [w], createRng(9))[0]!;
    const c = filterNormalizedDirection(TFNS, [w], createRng(10))[0]!;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([w, a, b, c]);
  });
});

describe('grids', () => {
  it('linspace includes both ends and an exact 0 in the middle of a symmetric odd grid', () => {
    expect(linspace(-1, 1, 5)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(linspace(-1, 1, 51)[25]).toBe(0);
  });
  it.each([3, 10, 25, 51])('coarse-to-fine orders visit every point once (n = %i), ends and middle first', (n) => {
    const o = coarseToFine(n);
    expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(o.slice(0, 3)).toEqual([0, n - 1, (n - 1) >> 1]);
    const o2 = coarseToFine2D(n);
    expect(new Set(o2).size).toBe(n * n);
    expect(o2.slice(0, 4).sort((a, b) => a - b)).toEqual([0, n - 1, n * (n - 1), n * n - 1]);
  });
});

describe('the landscape experiment', () => {
  it('a 2-D surface at (0, 0) is the evaluated loss of θ*, in inference mode, over the chosen subset', async () => {
    const before = tf.memory().numTensors;
    const r = await run(net, { dimensions: 2, grid: 5, samples: 100 });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as LandscapeData;
    expect(r).toMatchObject({ experiment: 'landscape', status: 'completed', seed: 1, backend: 'cpu', weightsStep: net.weights!.step });
    expect(r.settings).toMatchObject({ dimensions: 2, grid: 5, samples: 100, from: -1, to: 1, split: 'train', biasAndBN: false });
    expect(d.xs).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(d.loss).toHaveLength(25);
    expect(d.loss.every((v) => v !== null && Number.isFinite(v))).toBe(true);
    expect(d.loss[12]).toBe(d.center.loss);
    expect(d.accuracy![12]).toBe(d.center.accuracy);
    // Independently: a fresh trainer on the same weights, over the whole training set.
    const all = await run(net, { dimensions: 1, points: 3, samples: 1_000_000 });
    const t = Trainer.create(TFNS, net, { instrument: false });
    t.importWeights(net.weights!);
    const set = t.evaluationSet(1_000_000, 0);
    const e = t.evaluateOn(set);
    expect((all.data as LandscapeData).center.loss).toBeCloseTo((await e.loss.data())[0]!, 5);
    expect((all.data as LandscapeData).samples).toBe(160);
    tf.dispose([e.loss, e.correct!, set.x, set.y]);
    t.dispose();
    // Only the weight matrices move (fc1 2×8, fc2 8×2): biases and BatchNorm stay.
    expect(d.moved).toBe(32);
  });

  it('the trained minimum is lower than the points far from it, along the 1-D curve', async () => {
    const r = await run(net, { dimensions: 1, points: 21, samples: 160 });
    const d = r.data as LandscapeData;
    expect(d.xs).toHaveLength(21);
    expect(d.ys).toEqual([]);
    expect(d.loss[10]).toBe(d.center.loss);
    expect(d.loss[0]!).toBeGreaterThan(d.center.loss);
    expect(d.loss[20]!).toBeGreaterThan(d.center.loss);
  });

  it('is deterministic with a seed (directions and subset), and another seed gives another picture', async () => {
    const a = await run(net, { dimensions: 2, grid: 3, samples: 50 }, 7);
    const b = await run(net, { dimensions: 2, grid: 3, samples: 50 }, 7);
    const c = await run(net, { dimensions: 2, grid: 3, samples: 50 }, 8);
    expect(b.data).toEqual(a.data);
    expect(c.data.loss).not.toEqual(a.data.loss);
  });

  it('reports progress with partial pictures, and a cancel keeps what was computed', async () => {
    const control = new ExperimentControl();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    const r = await runExperiment(landscape, {
      tf: TFNS,
      doc: net,
      settings: { dimensions: 2, grid: 9, samples: 20 },
      control,
      onProgress: (p) => {
        seen.push(p.done);
        control.cancel();
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.status).toBe('cancelled');
    const d = r.data as LandscapeData;
    const computed = d.loss.filter((v) => v !== null).length;
    expect(computed).toBe(seen[0]);
    expect(computed).toBeLessThan(81);
    // The coarse corners come first.
    expect([d.loss[0], d.loss[8], d.loss[72], d.loss[80]].every((v) => v !== null)).toBe(true);
    expect(landscape.data.safeParse(d).success).toBe(true);
  });

  it('pause waits between groups of points and resume goes on', async () => {
    const control = new ExperimentControl();
    control.pause();
    let progressed = 0;
    const p = runExperiment(landscape, { tf: TFNS, doc: net, settings: { dimensions: 1, points: 5, samples: 20 }, control, onProgress: () => progressed++ });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(progressed).toBe(0);
    control.resume();
    expect((await p).status).toBe('completed');
    expect(progressed).toBeGreaterThan(0);
  });

  it('results survive save and load, next to the runs', async () => {
    const r = await run(net, { dimensions: 2, grid: 3, samples: 30 });
    const doc = withResult(net, r);
    const text = saveGraph(doc);
    const loaded = loadGraph(text);
    if (!loaded.ok) throw loaded.error;
    expect(loaded.document.experiments).toEqual({ version: 1, results: [r] });
    expect(saveGraph(loaded.document)).toBe(text);
  });

  it.each([
    [{ grid: 52 }, 'landscape setting grid (Grid): expected a whole number from 3 to 51, got 52'],
    [{ samples: 0 }, 'setting samples (Samples): expected a whole number from 1 to 1000000, got 0'],
    [{ split: 'test' }, 'expected one of "train", "validation"'],
    [{ gird: 5 }, 'landscape has no setting "gird"'],
  ])('refuses settings %j, naming the setting', (settings, message) => {
    const r = parseSettings(landscape as never, settings);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });

  it('refuses a range that does not go up', async () => {
    await expect(run(net, { from: 1, to: -1 })).rejects.toThrow(ExperimentError);
    await expect(run(net, { from: 1, to: 1 })).rejects.toThrow('From (1) must be below To (1)');
  });
});
