/**
 * Sharp vs flat minima (the course's slide "Weight decay; Batch size; test error", after
 * Keskar et al. 2017 and Li et al. 2018 §5): the same network trained from the same initial
 * weights with a small and a large batch, with and without weight decay; for each minimum
 * its test error, its 1-D filter-normalized loss curve and λmax of the Hessian side by side.
 * It reports what it measures; whether small batches find flatter minima here is for the
 * numbers to say.
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { kindDef } from '../graph/catalogue.ts';
import { edgeId, type GraphDocument } from '../graph/document.ts';
import { int, num } from '../graph/params.ts';
import { evaluateAlong, filterNormalizedDirection, linspace, rangeProblem, round7 } from './directions.ts';
import { defineExperiment } from './framework.ts';
import { withBatchSize } from './interpolation.ts';
import { hessianEigenvalues } from './sharpness.ts';

const settings = {
  smallBatch: int({ label: 'Small batch', help: 'Batch size of the small-batch runs (the paper: 128; the course: e.g. 16).', default: 16, min: 1, max: 1_000_000 }),
  largeBatch: int({ label: 'Large batch', help: 'Batch size of the large-batch runs (0 = the whole training set, gradient descent).', default: 0, min: 0, max: 1_000_000 }),
  weightDecay: num({ label: 'Weight decay', help: 'α of an L2 penalty (α/2)‖W‖² for the runs with weight decay; 0 runs only without.', default: 5e-4, min: 0, max: 1, log: true }),
  epochs: int({ label: 'Epochs', help: 'Epochs of every run (0 = the optimizer’s).', default: 0, min: 0, max: 10_000 }),
  points: int({ label: 'Points', help: 'Points on each 1-D curve over [From, To].', default: 31, min: 3, max: 401 }),
  from: num({ label: 'From', help: 'Start of α on the curves.', default: -1, min: -100, max: 100 }),
  to: num({ label: 'To', help: 'End of α on the curves.', default: 1, min: -100, max: 100 }),
  samples: int({ label: 'Samples', help: 'Training examples for the curves and λmax (a seeded subset).', default: 1000, min: 1, max: 1_000_000 }),
  iterations: int({ label: 'λmax iterations', help: 'Most Hessian-vector products for each λmax (finite differences, tolerance 1e-3).', default: 30, min: 1, max: 1000 }),
};

const run = z.strictObject({
  label: z.string().max(200),
  batchSize: z.number().int().min(0),
  weightDecay: z.number().min(0),
  steps: z.number().int().min(0),
  trainLoss: z.number().nullable(),
  valLoss: z.number().nullable(),
  /** 1 − validation accuracy (classification), or null. */
  testError: z.number().nullable(),
  lambdaMax: z.number(),
  /** The 1-D curve's loss at each α; null where not computed. */
  curve: z.array(z.number().nullable()).max(401),
  accuracy: z.array(z.number().nullable()).max(401).nullable(),
});

const data = z.strictObject({
  alphas: z.array(z.number()).min(3).max(401),
  runs: z.array(run).max(4),
  samples: z.number().int().min(1),
});

export type SharpFlatData = z.infer<typeof data>;

/** The graph with an L2 penalty of strength α on its loss path (an existing L2 node set to α, else one inserted before the optimizer). */
export function withWeightDecay(doc: Pick<GraphDocument, 'nodes' | 'edges'>, alpha: number): Pick<GraphDocument, 'nodes' | 'edges'> {
  const l2 = doc.nodes.find((n) => n.kind === 'l2');
  if (l2) return { ...doc, nodes: doc.nodes.map((n) => (n === l2 ? { ...n, params: { ...n.params, alpha } } : n)) };
  if (alpha === 0) return doc;
  const opt = doc.nodes.find((n) => kindDef(n.kind)?.role === 'optimizer');
  const into = opt && doc.edges.find((e) => e.target === opt.id && e.targetPort === 'loss');
  if (!opt || !into) return doc;
  let id = 'weightDecay';
  while (doc.nodes.some((n) => n.id === id)) id += '_';
  const node = { id, kind: 'l2', label: 'Weight decay', params: { alpha }, position: { x: opt.position.x, y: opt.position.y + 120 } };
  return {
    nodes: [...doc.nodes, node],
    edges: [
      ...doc.edges.filter((e) => e !== into),
      { id: edgeId(into.source, into.sourcePort, id, 'loss'), source: into.source, sourcePort: into.sourcePort, target: id, targetPort: 'loss' },
      { id: edgeId(id, 'loss', opt.id, 'loss'), source: id, sourcePort: 'loss', target: opt.id, targetPort: 'loss' },
    ],
  };
}

export const sharpVsFlat = defineExperiment({
  name: 'sharpVsFlat',
  title: 'Sharp vs flat',
  summary: 'The same network trained with a small and a large batch, with and without weight decay: test errors, 1-D loss curves and λmax side by side.',
  settings,
  dataVersion: 1,
  data,
  check: (_doc, s) => rangeProblem(s),
  weightsNote: (s) =>
    `Trains ${s.weightDecay > 0 ? 'four runs' : 'two runs'} from the graph's initial weights (batch ${s.smallBatch} and ${s.largeBatch === 0 ? 'the full training set' : s.largeBatch}${s.weightDecay > 0 ? `, without and with weight decay ${s.weightDecay}` : ''}): the trained weights in the file are not used`,
  async run(ctx, s) {
    const tf = ctx.tf;
    const variants = [
      { batchSize: s.smallBatch, weightDecay: 0 },
      { batchSize: s.largeBatch, weightDecay: 0 },
      ...(s.weightDecay > 0
        ? [
            { batchSize: s.smallBatch, weightDecay: s.weightDecay },
            { batchSize: s.largeBatch, weightDecay: s.weightDecay },
          ]
        : []),
    ];
    const alphas = linspace(s.from, s.to, s.points);
    const root = createRng(ctx.seed);
    const subsetSeed = root.int(2 ** 31 - 1);
    const directionSeed = root.int(2 ** 31 - 1);
    const runs: SharpFlatData['runs'] = [];
    let samples = 1;
    // Training counts for most of the time: one unit per run, one per curve, one per λmax.
    const total = variants.length * 3;
    const snapshot = (): SharpFlatData => ({ alphas: alphas.map(round7), runs: runs.map((r) => ({ ...r, curve: [...r.curve], accuracy: r.accuracy ? [...r.accuracy] : null })), samples });
    for (const [i, v] of variants.entries()) {
      await ctx.checkpoint();
      const doc = withWeightDecay(withBatchSize(ctx.doc, v.batchSize), v.weightDecay);
      // The same initial weights and data for every run (the graph's seed): only the batch size and the decay differ.
      const t = ctx.trainer({ doc, weights: null, options: s.epochs > 0 ? { epochs: s.epochs } : {} });
      const record = await ctx.train(t);
      ctx.progress(i * 3 + 1, total);
      const val = await t.validate();
      const set = t.evaluationSet(s.samples, subsetSeed);
      samples = set.n;
      const theta = t.cloneTrainable();
      const direction = filterNormalizedDirection(tf, theta, createRng(directionSeed));
      try {
        const last = record.epochs[record.epochs.length - 1];
        const entry: SharpFlatData['runs'][number] = {
          label: `batch ${v.batchSize === 0 ? 'full' : v.batchSize}${v.weightDecay > 0 ? `, weight decay ${v.weightDecay}` : ''}`,
          batchSize: v.batchSize,
          weightDecay: v.weightDecay,
          steps: t.step,
          trainLoss: last ? round7(last.trainLoss) : null,
          valLoss: val.loss === null ? null : round7(val.loss),
          testError: val.accuracy === null ? null : round7(1 - val.accuracy),
          lambdaMax: 0,
          curve: new Array(alphas.length).fill(null),
          accuracy: t.plan.task === 'classification' ? new Array(alphas.length).fill(null) : null,
        };
        await evaluateAlong(ctx, t, set, theta, [direction], alphas.map((a) => [a]), (_done, values) => {
          for (const { index, value } of values) {
            entry.curve[index] = round7(value.loss);
            if (entry.accuracy) entry.accuracy[index] = value.accuracy === null ? null : round7(value.accuracy);
          }
        });
        ctx.progress(i * 3 + 2, total);
        const h = await hessianEigenvalues(ctx, t, set, theta, createRng(directionSeed + 1), { top: 1, maxIterations: s.iterations, tolerance: 1e-3, method: 'finite-difference' }, () => {});
        entry.lambdaMax = round7(h.eigenvalues[0]!);
        runs.push(entry);
        ctx.progress(i * 3 + 3, total, snapshot());
      } finally {
        for (const x of [set.x, set.y, ...theta, ...direction]) x.dispose();
      }
    }
    return snapshot();
  },
  describe(d) {
    return d.runs.map((r) => `${r.label.padEnd(34)} λmax ${r.lambdaMax.toPrecision(4).padStart(9)}  ${r.testError !== null ? `test error ${(r.testError * 100).toFixed(1)}%` : `val loss ${r.valLoss?.toFixed(4) ?? '—'}`}  (${r.steps} steps)`);
  },
});
