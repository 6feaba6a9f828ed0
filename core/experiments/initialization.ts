/**
 * Initialization and the landscape (the course: "N(0, 0.01²) vs He vs Xavier on a deep ReLU
 * net"): the graph with every layer's initializer set to each choice in turn, trained from
 * those initial weights with a checkpoint at every epoch end; for each, the path of training
 * projected on the first two principal directions of θᵢ − θ_final over the loss surface of
 * those directions (as the trajectory experiment draws it), so the starting point and where
 * training goes can be compared. Tiny initial weights in a deep ReLU net make a signal that
 * fades layer by layer: what Gradflow measures on the user's graph is what the plots show.
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { INITIALIZERS } from '../graph/kinds/layers.ts';
import { int, names, num } from '../graph/params.ts';
import { round7 } from './directions.ts';
import { defineExperiment } from './framework.ts';
import { trajectoryData, trajectoryOf, type TrajectoryData } from './trajectory.ts';
import { hasInitializer, withInitializer } from './variants.ts';

const LABELS: Record<string, string> = { zeros: 'zeros', normal: 'N(0, σ²)', glorotNormal: 'Xavier normal', glorotUniform: 'Xavier uniform', heNormal: 'He normal', heUniform: 'He uniform' };

const settings = {
  initializers: names({ label: 'Initializers', help: `The initializers compared, one run each (${INITIALIZERS.join(', ')}); normal is N(0, σ²) with the σ below.`, default: ['normal', 'heNormal', 'glorotNormal'], maxItems: 6, maxLength: 20 }),
  sigma: num({ label: 'σ', help: 'Standard deviation of the normal initializer (0.01: the classic choice that fails in deep ReLU nets).', default: 0.01, min: 0, max: 10 }),
  epochs: int({ label: 'Epochs', help: 'Epochs of every run (0 = the optimizer’s); one checkpoint per epoch end, plus the start.', default: 0, min: 0, max: 1000 }),
  grid: int({ label: 'Grid', help: 'Each surface under a path is grid × grid points.', default: 15, min: 3, max: 51 }),
  samples: int({ label: 'Samples', help: 'Training examples each point is evaluated on (a seeded subset, the same for every run).', default: 1000, min: 1, max: 1_000_000 }),
};

const run = z.strictObject({
  label: z.string().max(200),
  initializer: z.string().max(20),
  steps: z.number().int().min(0),
  /** Training loss of the first and the last epoch. */
  firstLoss: z.number().nullable(),
  trainLoss: z.number().nullable(),
  testError: z.number().nullable(),
  trajectory: trajectoryData,
});

const data = z.strictObject({ runs: z.array(run).max(6) });

export type InitializationData = z.infer<typeof data>;

export const initialization = defineExperiment({
  name: 'initialization',
  title: 'Initialization',
  summary: 'The graph with N(0, 0.01²), He and Xavier initial weights: for each, where it starts and where training goes (its trajectory over the loss surface).',
  settings,
  dataVersion: 1,
  data,
  check(doc, s) {
    const unknown = s.initializers.find((i) => !(INITIALIZERS as readonly string[]).includes(i));
    if (unknown !== undefined) return `Initializers: there is no "${unknown}" (there are ${INITIALIZERS.join(', ')})`;
    if (!s.initializers.length) return 'Initializers: name at least one';
    if (!doc.nodes.some((n) => hasInitializer(n.kind))) return 'the graph has no layer with an initializer (Dense, Maxout or Conv2D)';
    return null;
  },
  weightsNote: (s) => `Trains the graph once per initializer (${s.initializers.join(', ')}) from those initial weights: the trained weights in the file are not used`,
  async run(ctx, s) {
    const runs: InitializationData['runs'] = [];
    const subsetSeed = createRng(ctx.seed).int(2 ** 31 - 1);
    const total = s.initializers.length;
    for (const [i, init] of s.initializers.entries()) {
      await ctx.checkpoint();
      const doc = withInitializer(ctx.doc, init, s.sigma);
      const label = init === 'normal' ? `N(0, ${s.sigma}²)` : LABELS[init] ?? init;
      const entry = { label, initializer: init, steps: 0, firstLoss: null as number | null, trainLoss: null as number | null, testError: null as number | null };
      const progress = (fraction: number, partial?: TrajectoryData) => ctx.progress(i + fraction, total, partial ? { runs: [...runs, { ...entry, trajectory: partial }] } : undefined);
      const trajectory = await trajectoryOf(ctx, doc, s, subsetSeed, progress, async (trainer, record) => {
        const val = await trainer.validate();
        entry.steps = trainer.step;
        entry.firstLoss = record.epochs[0] ? round7(record.epochs[0].trainLoss) : null;
        entry.trainLoss = record.epochs.length ? round7(record.epochs[record.epochs.length - 1]!.trainLoss) : null;
        entry.testError = val.accuracy === null ? null : round7(1 - val.accuracy);
      });
      runs.push({ ...entry, trajectory });
    }
    return { runs };
  },
  describe(d) {
    return d.runs.map((r) => {
      const t = r.trajectory;
      const start = Math.hypot(t.path.x[0]!, t.path.y[0]!);
      return `${r.label.padEnd(16)} ${r.testError !== null ? `test error ${(r.testError * 100).toFixed(1)}%` : ''}  train loss ${r.firstLoss?.toPrecision(4) ?? '—'} → ${r.trainLoss?.toPrecision(4) ?? '—'}  start ${start.toPrecision(3)} from the minimum in the PCA plane (explained ${(t.explained[0]! * 100).toFixed(0)}% + ${(t.explained[1]! * 100).toFixed(0)}%)  (${r.steps} steps)`;
    });
  },
});
