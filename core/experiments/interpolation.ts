/**
 * Linear interpolation between two weight sets (Goodfellow et al. 2015; Li et al. 2018 §3):
 * L((1 − α) θ₁ + α θ₂) for α in a range around [0, 1] (default −0.5..1.5), in inference
 * mode. Every weight is interpolated, BatchNorm running statistics included. θ₁ is the
 * graph's initial weights or its trained ones; θ₂ the trained ones or the minimum of a
 * second training run (another seed, and optionally another batch size: the small- vs
 * large-batch minima of the course).
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { kindDef } from '../graph/catalogue.ts';
import type { GraphDocument } from '../graph/document.ts';
import { int, num, oneOf } from '../graph/params.ts';
import type { Tensor } from '../graph/types.ts';
import { linspace, rangeProblem, round7, type Evaluation } from './directions.ts';
import { defineExperiment, type ExperimentContext } from './framework.ts';

const settings = {
  start: oneOf({ label: 'θ₁ (α = 0)', help: 'Where the line starts: the initial weights (drawn from the graph’s seed, as training starts) or the trained ones.', default: 'initial', options: ['initial', 'trained'] as const, optionLabels: { initial: 'Initial weights', trained: 'Trained weights' } }),
  end: oneOf({ label: 'θ₂ (α = 1)', help: 'Where it ends: the trained weights, or the minimum of a second run trained here from fresh weights with the seed and batch size below.', default: 'trained', options: ['trained', 'second-run'] as const, optionLabels: { trained: 'Trained weights', 'second-run': 'A second run' } }),
  secondSeed: int({ label: 'Second run: seed', help: 'Seed of the second run (initial weights, batches, Dropout).', default: 2, min: 0, max: 2 ** 31 - 1, visibleWhen: (p) => p.end === 'second-run' }),
  secondBatchSize: int({ label: 'Second run: batch size', help: 'Batch size of the second run (0 = full batch); −1 keeps the graph’s.', default: -1, min: -1, max: 1_000_000, visibleWhen: (p) => p.end === 'second-run' }),
  from: num({ label: 'From', help: 'First α. Below 0 extrapolates beyond θ₁.', default: -0.5, min: -10, max: 10 }),
  to: num({ label: 'To', help: 'Last α. Above 1 extrapolates beyond θ₂.', default: 1.5, min: -10, max: 10 }),
  points: int({ label: 'Points', help: 'Values of α, evenly spaced (include 0 and 1 by choosing the range and count so).', default: 41, min: 3, max: 1001 }),
  samples: int({ label: 'Samples', help: 'Examples each point is evaluated on: a seeded subset of the training set (all when it is smaller).', default: 2000, min: 1, max: 1_000_000 }),
};

const data = z.strictObject({
  alphas: z.array(z.number()).min(3).max(1001),
  loss: z.array(z.number().nullable()).max(1001),
  accuracy: z.array(z.number().nullable()).max(1001).nullable(),
  /** The two end points evaluated on their own, with what they are. */
  ends: z.array(z.strictObject({ label: z.string().max(200), loss: z.number(), accuracy: z.number().nullable() })).length(2),
  /** ‖θ₂ − θ₁‖ over the trainable weights. */
  distance: z.number().min(0),
  samples: z.number().int().min(1),
});

export type InterpolationData = z.infer<typeof data>;

/** The document with every data node's batch size set (0 = full batch). */
export function withBatchSize(doc: Pick<GraphDocument, 'nodes' | 'edges'>, batchSize: number): Pick<GraphDocument, 'nodes' | 'edges'> {
  return { ...doc, nodes: doc.nodes.map((n) => (kindDef(n.kind)?.data ? { ...n, params: { ...n.params, batchSize } } : n)) };
}

/** Train the graph (or a variant) from fresh weights with a seed; its weights (all of them, program order) come back. */
export async function trainFresh(ctx: ExperimentContext, doc: Pick<GraphDocument, 'nodes' | 'edges'>, seed: number): Promise<Tensor[]> {
  const t = ctx.trainer({ doc, weights: null, options: { seed } });
  await ctx.train(t);
  return t.cloneWeights();
}

export const interpolation = defineExperiment({
  name: 'interpolation',
  title: 'Interpolation',
  summary: 'The loss along the straight line between two weight sets: initial and trained, or the minima of two runs (BatchNorm statistics interpolated too).',
  settings,
  dataVersion: 1,
  data,
  check(doc, s) {
    const range = rangeProblem(s);
    if (range) return range;
    if ((s.start === 'trained' || s.end === 'trained') && !doc.weights) return 'the graph has no trained weights: train it first, or interpolate from the initial weights to a second run';
    if (s.start === 'trained' && s.end === 'trained') return 'θ₁ and θ₂ are the same trained weights: choose the initial weights or a second run for one end';
    return null;
  },
  weightsNote: (s) => (s.start === 'trained' || s.end === 'trained' ? null : 'From the initial weights to a second run trained here: the trained weights in the file are not used'),
  async run(ctx, s) {
    const tf = ctx.tf;
    const base = ctx.trainer();
    const root = createRng(ctx.seed);
    const set = base.evaluationSet(s.samples, root.int(2 ** 31 - 1), 'train');
    const ends: Tensor[][] = [];
    try {
      const trainedW = (): Tensor[] => base.cloneWeights();
      const initialW = (): Tensor[] => {
        const t = ctx.trainer({ weights: null });
        return t.cloneWeights();
      };
      ends.push(s.start === 'initial' ? initialW() : trainedW());
      const second = s.end === 'second-run';
      ctx.progress(0, s.points + (second ? 1 : 0));
      ends.push(second ? await trainFresh(ctx, s.secondBatchSize >= 0 ? withBatchSize(ctx.doc, s.secondBatchSize) : ctx.doc, s.secondSeed) : trainedW());
      const [a, b] = ends as [Tensor[], Tensor[]];
      const alphas = linspace(s.from, s.to, s.points);
      const trainableIndex = base.program.weights.map((w) => w.trainable);
      const distanceT = tf.tidy(() => tf.sqrt(tf.addN(a.filter((_, i) => trainableIndex[i]).map((w, i) => tf.sum(tf.square(tf.sub(b.filter((_, j) => trainableIndex[j])[i]!, w)))))));
      const distance = (await distanceT.data())[0]!;
      distanceT.dispose();
      const loss: (number | null)[] = new Array(alphas.length).fill(null);
      const accuracy: (number | null)[] | null = base.plan.task === 'classification' ? new Array(alphas.length).fill(null) : null;
      const evaluateAt = async (coefs: number[]): Promise<Evaluation[]> => {
        // Running statistics are not arguments of the forward pass: each point's weights are
        // assigned to the variables, and its evaluation queued before the next assignment.
        const packed = tf.tidy(() =>
          tf.stack(
            coefs.map((t) => {
              const ws = a.map((w, i) => tf.add(tf.mul(w, 1 - t), tf.mul(b[i]!, t)));
              base.assignWeights(ws);
              const r = base.evaluateOn(set);
              return tf.stack([r.loss, r.correct ?? tf.scalar(NaN)]);
            }),
          ),
        );
        const v = (await packed.data()) as Float32Array;
        packed.dispose();
        return coefs.map((_, i) => ({ loss: v[2 * i]!, accuracy: Number.isNaN(v[2 * i + 1]!) ? null : v[2 * i + 1]! / set.n }));
      };
      const endValues = await evaluateAt([0, 1]);
      const labels = [s.start === 'initial' ? 'initial weights' : 'trained weights', second ? `second run (seed ${s.secondSeed}${s.secondBatchSize >= 0 ? `, batch ${s.secondBatchSize || 'full'}` : ''})` : 'trained weights'];
      const snapshot = (): InterpolationData => ({
        alphas: alphas.map(round7),
        loss: [...loss],
        accuracy: accuracy ? [...accuracy] : null,
        ends: endValues.map((e, i) => ({ label: labels[i]!, loss: round7(e.loss), accuracy: e.accuracy === null ? null : round7(e.accuracy) })),
        distance: round7(distance),
        samples: set.n,
      });
      const group = 8;
      for (let at = 0; at < alphas.length; at += group) {
        await ctx.checkpoint();
        const idx = alphas.slice(at, at + group).map((_, i) => at + i);
        const values = await evaluateAt(idx.map((i) => alphas[i]!));
        idx.forEach((i, k) => {
          loss[i] = round7(values[k]!.loss);
          if (accuracy) accuracy[i] = values[k]!.accuracy === null ? null : round7(values[k]!.accuracy!);
        });
        ctx.progress(Math.min(alphas.length, at + group) + (second ? 1 : 0), alphas.length + (second ? 1 : 0), snapshot());
      }
      return snapshot();
    } finally {
      for (const t of [set.x, set.y, ...ends.flat()]) t.dispose();
    }
  },
  describe(d) {
    const finite = d.loss.filter((v): v is number => v !== null);
    return [
      `from ${d.ends[0]!.label} (loss ${d.ends[0]!.loss.toFixed(4)}) to ${d.ends[1]!.label} (loss ${d.ends[1]!.loss.toFixed(4)}), ‖θ₂ − θ₁‖ = ${d.distance.toPrecision(4)}`,
      `α from ${d.alphas[0]} to ${d.alphas[d.alphas.length - 1]}: loss between ${Math.min(...finite).toFixed(4)} and ${Math.max(...finite).toFixed(4)} over ${d.samples} examples`,
    ];
  },
});
