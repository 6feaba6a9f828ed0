/**
 * The training trajectory in the landscape (Li et al. 2018 §7; tomgoldstein/loss-landscape
 * projection.py): train the graph from its initial weights keeping the weights at every
 * epoch end, take the first two principal directions of the differences θᵢ − θ_final (PCA:
 * centred, as sklearn's PCA that projection.py uses; biases and BatchNorm parameters left
 * out, as its ignore='biasbn'), project every checkpoint on them, and evaluate the loss on
 * a grid of those two directions around θ_final that covers the path.
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { int } from '../graph/params.ts';
import type { Tensor, TF } from '../graph/types.ts';
import { evaluateAlong, linspace, round7 } from './directions.ts';
import type { GraphDocument, RunRecord } from '../graph/document.ts';
import type { Trainer } from '../train/trainer.ts';
import { defineExperiment, type ExperimentContext } from './framework.ts';

const settings = {
  epochs: int({ label: 'Epochs', help: 'Epochs of the run whose checkpoints are drawn (0 = the optimizer’s); one checkpoint per epoch end, plus the start.', default: 0, min: 0, max: 1000 }),
  grid: int({ label: 'Grid', help: 'The surface under the path is grid × grid points.', default: 21, min: 3, max: 51 }),
  samples: int({ label: 'Samples', help: 'Examples each point is evaluated on: a seeded subset of the training set.', default: 1000, min: 1, max: 1_000_000 }),
};

/** A trajectory result: the surface under the path, the path, the explained variance. */
export const trajectoryData = z.strictObject({
  xs: z.array(z.number()).max(51),
  ys: z.array(z.number()).max(51),
  loss: z.array(z.number().nullable()).max(51 * 51),
  accuracy: z.array(z.number().nullable()).max(51 * 51).nullable(),
  /** Each checkpoint's coordinates on the two directions (the last is θ_final at 0, 0) and its epoch. */
  path: z.strictObject({ x: z.array(z.number()).max(1001), y: z.array(z.number()).max(1001), epoch: z.array(z.number().int().min(0)).max(1001) }),
  /** Explained variance ratio of the two principal directions, each in [0, 1]. */
  explained: z.array(z.number().min(0).max(1)).length(2),
  samples: z.number().int().min(1),
});

export type TrajectoryData = z.infer<typeof trajectoryData>;

/** Eigenvalues and unit eigenvectors of a small symmetric matrix (cyclic Jacobi, float64), largest first. */
export function symmetricEigen(m: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = m.length;
  const a = m.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((r, i) => [r[i]!, i] as const).sort((x, y) => y[0] - x[0]);
  return { values: order.map(([val]) => val), vectors: order.map(([, i]) => v.map((row) => row[i]!)) };
}

const dotAll = (tf: TF, a: Tensor[], b: Tensor[]) => tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i]!))));

/**
 * The first `k` principal directions of a set of rows (each a list of tensors shaped like the
 * weights), centred across rows as sklearn's PCA does, through the n × n Gram matrix (n rows,
 * far fewer than weights): unit, orthogonal directions and their explained variance ratios.
 */
export async function principalDirections(tf: TF, rows: Tensor[][], k: number): Promise<{ directions: Tensor[][]; explained: number[] }> {
  const n = rows.length;
  const gram = tf.tidy(() => {
    const mean = rows[0]!.map((_, j) => tf.div(tf.addN(rows.map((r) => r[j]!)), n));
    const centred = rows.map((r) => r.map((w, j) => tf.sub(w, mean[j]!)));
    return tf.stack(centred.flatMap((a) => centred.map((b) => dotAll(tf, a, b))));
  });
  const g = Array.from(await gram.data());
  gram.dispose();
  const { values, vectors } = symmetricEigen(Array.from({ length: n }, (_, i) => g.slice(i * n, (i + 1) * n)));
  const total = values.reduce((a, b) => a + Math.max(0, b), 0) || 1;
  const explained = Array.from({ length: k }, (_, i) => Math.min(1, Math.max(0, (values[i] ?? 0) / total)));
  // v = M_cᵀ u / ‖M_cᵀ u‖ for each eigenvector u of the Gram matrix.
  const directions = Array.from({ length: k }, (_, i) =>
    tf.tidy(() => {
      const mean = rows[0]!.map((_, j) => tf.div(tf.addN(rows.map((r) => r[j]!)), n));
      const comb = rows[0]!.map((_, j) => tf.addN(rows.map((r, m) => tf.mul(tf.sub(r[j]!, mean[j]!), vectors[i]?.[m] ?? 0))));
      const norm = tf.sqrt(dotAll(tf, comb, comb));
      return comb.map((c) => tf.div(c, tf.maximum(norm, 1e-12)));
    }),
  );
  return { directions, explained };
}

/**
 * Train `doc` from its initial weights keeping the weights at every epoch end, and compute its
 * trajectory: the checkpoints projected on the first two principal directions of
 * θᵢ − θ_final and the loss surface of those directions around θ_final that covers the path.
 * `progress` gets the fraction done (training is the first third) and a partial result once
 * the surface fills in; `trained` is called right after training, with the trainer and its run.
 */
export async function trajectoryOf(
  ctx: ExperimentContext,
  doc: Pick<GraphDocument, 'nodes' | 'edges'>,
  s: { epochs: number; grid: number; samples: number },
  subsetSeed: number,
  progress: (fraction: number, partial?: TrajectoryData) => void,
  trained?: (trainer: Trainer, run: RunRecord) => Promise<void>,
): Promise<TrajectoryData> {
  const tf = ctx.tf;
  const checkpoints: Tensor[][] = [];
  const epochs: number[] = [0];
  const holder: { trainer: Trainer | null } = { trainer: null };
  // Epoch events come from inside the loop, between steps: the weights are that epoch's.
  const trainer = ctx.trainer({
    doc,
    weights: null,
    options: {
      ...(s.epochs > 0 ? { epochs: s.epochs } : {}),
      onEvent: (e) => {
        if (e.type === 'epoch' && holder.trainer) {
          checkpoints.push(holder.trainer.cloneTrainable());
          epochs.push(e.record.epoch);
        }
      },
    },
  });
  holder.trainer = trainer;
  checkpoints.push(trainer.cloneTrainable());
  const moved = trainer.program.trainable.map((w) => w.variable.rank > 1);
  let set: ReturnType<typeof trainer.evaluationSet> | null = null;
  const dirs: Tensor[][] = [];
  try {
    const run = await ctx.train(trainer);
    holder.trainer = null;
    await trained?.(trainer, run);
    progress(1 / 3);
    const final = checkpoints[checkpoints.length - 1]!;
    const n = checkpoints.length - 1;
    if (n < 2) throw new Error('the run has fewer than two epochs: a trajectory needs at least two checkpoints besides the final weights');
    // Rows θᵢ − θ_final (i < final); 1-D weights left out (ignore='biasbn').
    const rows = tf.tidy(() => checkpoints.slice(0, n).map((c) => c.map((w, k) => (moved[k] ? tf.sub(w, final[k]!) : tf.zerosLike(w)))));
    const pca = await principalDirections(tf, rows, 2);
    for (const r of rows.flat()) r.dispose();
    dirs.push(...pca.directions);
    const explained = pca.explained;
    // Each checkpoint's coordinates (θᵢ − θ_final)·v_k, as project_trajectory computes them.
    const coords = tf.tidy(() => tf.stack(checkpoints.flatMap((c) => dirs.map((d) => dotAll(tf, c.map((w, j) => (moved[j] ? tf.sub(w, final[j]!) : tf.zerosLike(w))), d)))));
    const cv = Array.from(await coords.data());
    coords.dispose();
    const px = cv.filter((_, i) => i % 2 === 0);
    const py = cv.filter((_, i) => i % 2 === 1);
    const span = (v: number[]) => {
      const lo = Math.min(...v, 0);
      const hi = Math.max(...v, 0);
      const m = 0.2 * (hi - lo || 1);
      return [lo - m, hi + m] as const;
    };
    const [x0, x1] = span(px);
    const [y0, y1] = span(py);
    const xs = linspace(x0, x1, s.grid);
    const ys = linspace(y0, y1, s.grid);
    set = trainer.evaluationSet(s.samples, subsetSeed);
    const cells = s.grid * s.grid;
    const loss: (number | null)[] = new Array(cells).fill(null);
    const accuracy: (number | null)[] | null = trainer.plan.task === 'classification' ? new Array(cells).fill(null) : null;
    const snapshot = (): TrajectoryData => ({
      xs: xs.map(round7),
      ys: ys.map(round7),
      loss: [...loss],
      accuracy: accuracy ? [...accuracy] : null,
      path: { x: px.map(round7), y: py.map(round7), epoch: [...epochs] },
      explained: explained.map(round7),
      samples: set!.n,
    });
    const points = Array.from({ length: cells }, (_, c) => [xs[c % s.grid]!, ys[Math.floor(c / s.grid)]!]);
    await evaluateAlong(ctx, trainer, set, final, dirs, points, (done, vals) => {
      for (const { index, value } of vals) {
        loss[index] = round7(value.loss);
        if (accuracy) accuracy[index] = value.accuracy === null ? null : round7(value.accuracy);
      }
      progress((1 + (2 * done) / cells) / 3, snapshot());
    });
    return snapshot();
  } finally {
    holder.trainer = null;
    for (const x of [...checkpoints.flat(), ...dirs.flat(), ...(set ? [set.x, set.y] : [])]) x.dispose();
  }
}

export const trajectory = defineExperiment({
  name: 'trajectory',
  title: 'Trajectory',
  summary: 'Where training goes: the checkpoints of a run projected on the first two principal directions of θᵢ − θ_final, over the loss surface of those directions.',
  settings,
  dataVersion: 1,
  data: trajectoryData,
  check: () => null,
  weightsNote: () => 'Trains the graph from its initial weights, keeping a checkpoint at every epoch end: the trained weights in the file are not used',
  run: (ctx, s) => trajectoryOf(ctx, ctx.doc, s, createRng(ctx.seed).int(2 ** 31 - 1), (fraction, partial) => ctx.progress(3 * fraction, 3, partial)),
  describe(d) {
    return [
      `${d.path.x.length} checkpoints (epochs ${d.path.epoch[0]}–${d.path.epoch[d.path.epoch.length - 1]}); the two directions explain ${(d.explained[0]! * 100).toFixed(1)}% and ${(d.explained[1]! * 100).toFixed(1)}% of the variance`,
      `start at (${d.path.x[0]!.toPrecision(3)}, ${d.path.y[0]!.toPrecision(3)}); surface ${d.xs.length} × ${d.ys.length} over ${d.samples} examples`,
    ];
  },
});
