/**
 * The loss landscape around the trained weights θ* (Li et al. 2018, tomgoldstein/loss-landscape
 * plot_surface.py): along one filter-normalized random direction, L(θ* + α d) for α in a
 * range (1-D), or on a grid L(θ* + α d₁ + β d₂) (2-D), with the accuracy as a second layer.
 * Every point is evaluated in inference mode (BatchNorm running statistics, no Dropout) over
 * the training set or a seeded subset of it, and points come coarse-to-fine so a picture
 * appears at once.
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { bool, int, num, oneOf } from '../graph/params.ts';
import { coarseToFine, evaluateAlong, evaluatePoints, filterNormalizedDirection, linspace, rangeProblem, round7 } from './directions.ts';
import { defineExperiment, throttle } from './framework.ts';

const cell = z.number().nullable();

const settings = {
  dimensions: int({ label: 'Dimensions', help: '1: a curve L(θ* + α d) along one random direction. 2: a surface L(θ* + α d₁ + β d₂) over a grid, drawn as a contour map and in 3-D.', default: 2, min: 1, max: 2 }),
  points: int({ label: 'Points', help: 'How many values of α the 1-D curve evaluates, evenly spaced over the range.', default: 51, min: 3, max: 1001, visibleWhen: (p) => p.dimensions === 1 }),
  grid: int({ label: 'Grid', help: 'The 2-D surface is evaluated on grid × grid points (25 × 25 = 625 evaluations; 51 × 51 = 2,601).', default: 25, min: 3, max: 51, visibleWhen: (p) => p.dimensions === 2 }),
  from: num({ label: 'From', help: 'Start of the range of α (and β). With filter-normalized directions, ±1 is a step as large as each filter itself.', default: -1, min: -100, max: 100 }),
  to: num({ label: 'To', help: 'End of the range of α (and β).', default: 1, min: -100, max: 100 }),
  samples: int({ label: 'Samples', help: 'How many examples each point is evaluated on: a seeded subset of the split, the same for every point (all of them when the split is smaller).', default: 2000, min: 1, max: 1_000_000 }),
  split: oneOf({ label: 'Split', help: 'Evaluate the training loss (what the optimizer saw) or the validation loss.', default: 'train', options: ['train', 'validation'] as const, optionLabels: { train: 'Training set', validation: 'Validation set' } }),
  biasAndBN: bool({ label: 'Move biases and BatchNorm', help: 'Off (as in the paper): biases and BatchNorm γ, β stay at θ*. On: their direction is the weights themselves, as net_plotter.py does without ignore=biasbn.', default: false }),
};

const data = z.strictObject({
  dimensions: z.union([z.literal(1), z.literal(2)]),
  /** The α values (columns). */
  xs: z.array(z.number()).min(1).max(1001),
  /** The β values (rows); empty for a 1-D curve. */
  ys: z.array(z.number()).max(51),
  /** Loss per point, row-major (loss[j · xs.length + i] is at α = xs[i], β = ys[j]); null where not computed. */
  loss: z.array(cell).max(51 * 51 + 1001),
  /** Training accuracy per point (classification), laid out like `loss`; null for regression. */
  accuracy: z.array(cell).max(51 * 51 + 1001).nullable(),
  /** Loss and accuracy of θ* itself. */
  center: z.strictObject({ loss: z.number(), accuracy: z.number().nullable() }),
  /** Examples each point was evaluated on. */
  samples: z.number().int().min(1),
  /** Number of weights the directions move (the rest stay at θ*). */
  moved: z.number().int().min(0),
}).superRefine((d, ctx) => {
  const cells = d.xs.length * (d.dimensions === 1 ? 1 : d.ys.length);
  if (d.dimensions === 1 && d.ys.length) ctx.addIssue({ code: 'custom', message: 'a 1-D curve has no β values', path: ['ys'] });
  if (d.loss.length !== cells) ctx.addIssue({ code: 'custom', message: `the grid has ${cells} points but there are ${d.loss.length} losses`, path: ['loss'] });
  if (d.accuracy && d.accuracy.length !== cells) ctx.addIssue({ code: 'custom', message: `the grid has ${cells} points but there are ${d.accuracy.length} accuracies`, path: ['accuracy'] });
});

export type LandscapeData = z.infer<typeof data>;

export const landscape = defineExperiment({
  name: 'landscape',
  title: 'Loss landscape',
  summary: 'The loss around the trained weights along filter-normalized random directions: a 1-D curve or a 2-D surface (Li et al. 2018).',
  settings,
  dataVersion: 1,
  data,
  check: (_doc, s) => rangeProblem(s),
  async run(ctx, s) {
    const tf = ctx.tf;
    const trainer = ctx.trainer();
    const root = createRng(ctx.seed);
    const dirRng = root.fork();
    const subsetSeed = root.int(2 ** 31 - 1);
    const set = trainer.evaluationSet(s.samples, subsetSeed, s.split);
    const theta = trainer.cloneTrainable();
    const dims = s.dimensions === 1 ? 1 : 2;
    const directions = Array.from({ length: dims }, () => filterNormalizedDirection(tf, theta, dirRng, s.biasAndBN));
    try {
      const moved = theta.reduce((n, w) => n + (w.rank > 1 || s.biasAndBN ? w.size : 0), 0);
      const xs = linspace(s.from, s.to, dims === 1 ? s.points : s.grid);
      const ys = dims === 1 ? [] : linspace(s.from, s.to, s.grid);
      const cells = dims === 1 ? coarseToFine(xs.length) : coarseToFine2D(xs.length);
      const total = cells.length;
      const loss: (number | null)[] = new Array(total).fill(null);
      const accuracy: (number | null)[] | null = trainer.plan.task === 'classification' ? new Array(total).fill(null) : null;
      const [center] = await evaluatePoints(tf, trainer, set, 1, () => theta);
      const snapshot = (): LandscapeData => ({
        dimensions: dims,
        xs: xs.map(round7),
        ys: ys.map(round7),
        loss: [...loss],
        accuracy: accuracy ? [...accuracy] : null,
        center: { loss: round7(center!.loss), accuracy: center!.accuracy === null ? null : round7(center!.accuracy) },
        samples: set.n,
        moved,
      });
      const due = throttle(200);
      const coords = cells.map((c) => (dims === 1 ? [xs[c]!] : [xs[c % xs.length]!, ys[Math.floor(c / xs.length)]!]));
      await evaluateAlong(ctx, trainer, set, theta, directions, coords, (done, values) => {
        for (const { index, value } of values) {
          const c = cells[index]!;
          loss[c] = round7(value.loss);
          if (accuracy) accuracy[c] = value.accuracy === null ? null : round7(value.accuracy);
        }
        if (due(done, total)) ctx.progress(done, total, snapshot());
      });
      return snapshot();
    } finally {
      for (const t of [set.x, set.y, ...theta, ...directions.flat()]) t.dispose();
    }
  },
  describe(d) {
    const finite = d.loss.filter((v): v is number => v !== null && Number.isFinite(v));
    const lines = [
      `${d.dimensions === 1 ? `1-D curve, ${d.xs.length} points` : `2-D surface, ${d.xs.length} × ${d.ys.length} grid`} over [${d.xs[0]}, ${d.xs[d.xs.length - 1]}], ${d.samples} examples, ${d.moved} weights moved`,
      `loss at θ*: ${d.center.loss.toFixed(4)}${d.center.accuracy !== null ? ` (accuracy ${(d.center.accuracy * 100).toFixed(1)}%)` : ''}`,
    ];
    if (finite.length) lines.push(`loss over the ${d.dimensions === 1 ? 'curve' : 'surface'}: min ${Math.min(...finite).toFixed(4)}, max ${Math.max(...finite).toFixed(4)}`);
    return lines;
  },
});

/** Grid cells (row-major indices of an n × n grid) coarse-to-fine: the coarse lattice first, then finer ones. */
export function coarseToFine2D(n: number): number[] {
  const order1 = coarseToFine(n);
  // The level of an index is its position in the 1-D order's stride passes; a cell comes in
  // at the finer of its two indices' levels, so each pass completes a lattice.
  const rank = new Map(order1.map((i, k) => [i, k]));
  const cells = Array.from({ length: n * n }, (_, c) => c);
  return cells.sort((a, b) => {
    const ra = Math.max(rank.get(a % n)!, rank.get(Math.floor(a / n))!);
    const rb = Math.max(rank.get(b % n)!, rank.get(Math.floor(b / n))!);
    return ra - rb || a - b;
  });
}
