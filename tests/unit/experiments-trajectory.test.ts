/**
 * The trajectory: PCA directions are orthonormal with explained variances in [0, 1] that
 * find a known plane; a run's checkpoints are projected with the final weights at (0, 0),
 * over a surface that covers the path; no tensor is left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { runExperiment } from '../../core/experiments/framework.ts';
import { principalDirections, symmetricEigen, trajectory, type TrajectoryData } from '../../core/experiments/trajectory.ts';
import type { TF } from '../../core/graph/types.ts';
import { smallNet } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('trajectory', () => {
  it('symmetric eigen-decomposition: values largest first, unit orthogonal vectors', () => {
    const { values, vectors } = symmetricEigen([[4, 1, 0], [1, 3, 0], [0, 0, 1]]);
    expect(values[0]).toBeCloseTo((7 + Math.sqrt(5)) / 2, 10);
    expect(values[2]).toBeCloseTo(1, 10);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 10);
    expect(vectors[0]!.reduce((a, x, i) => a + x * vectors[1]![i]!, 0)).toBeCloseTo(0, 10);
  });

  it('PCA directions are orthonormal, explain a variance in [0, 1], and find the plane the rows lie in', async () => {
    const rng = createRng(3);
    // Rows in the plane of e₀ and e₁ (scaled 3 : 1), plus a little noise in the other axes.
    const rows = Array.from({ length: 12 }, () => {
      const a = 3 * rng.normal();
      const b = rng.normal();
      const v = Float32Array.from({ length: 10 }, (_, i) => (i === 0 ? a : i === 1 ? b : 0.01 * rng.normal()));
      return [tf.tensor2d(v, [5, 2])];
    });
    const before = tf.memory().numTensors;
    const { directions, explained } = await principalDirections(TFNS, rows, 2);
    const flat = directions.map((d) => Array.from(d[0]!.dataSync()));
    expect(Math.hypot(...flat[0]!)).toBeCloseTo(1, 5);
    expect(Math.hypot(...flat[1]!)).toBeCloseTo(1, 5);
    expect(flat[0]!.reduce((a, x, i) => a + x * flat[1]![i]!, 0)).toBeCloseTo(0, 5);
    expect(Math.abs(flat[0]![0]!)).toBeGreaterThan(0.99);
    expect(Math.abs(flat[1]![1]!)).toBeGreaterThan(0.99);
    for (const e of explained) {
      expect(e).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThanOrEqual(1);
    }
    expect(explained[0]! + explained[1]!).toBeGreaterThan(0.99);
    expect(explained[0]!).toBeGreaterThan(explained[1]!);
    tf.dispose(directions.flat());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(rows.flat());
  });

  it('projects a run’s checkpoints, the final weights at (0, 0), over a surface covering the path', async () => {
    const before = tf.memory().numTensors;
    const r = await runExperiment(trajectory, { tf: TFNS, doc: smallNet({ samples: 160 }), settings: { epochs: 5, grid: 5, samples: 100 } });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as TrajectoryData;
    expect(d.path.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(d.path.x[5]).toBeCloseTo(0, 6);
    expect(d.path.y[5]).toBeCloseTo(0, 6);
    for (let i = 0; i < 6; i++) {
      expect(d.path.x[i]!).toBeGreaterThanOrEqual(d.xs[0]!);
      expect(d.path.x[i]!).toBeLessThanOrEqual(d.xs[4]!);
      expect(d.path.y[i]!).toBeGreaterThanOrEqual(d.ys[0]!);
      expect(d.path.y[i]!).toBeLessThanOrEqual(d.ys[4]!);
    }
    expect(d.loss.every((v) => v !== null)).toBe(true);
    expect(d.explained[0]! + d.explained[1]!).toBeLessThanOrEqual(1 + 1e-6);
    expect(trajectory.data.safeParse(d).success).toBe(true);
  });
});
