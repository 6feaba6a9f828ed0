/**
 * BatchNorm, honestly (Santurkar et al., "How Does Batch Normalization Help Optimization?",
 * NeurIPS 2018): the user's graph is trained in several arms from the same initial weights,
 * data and batch order, and measured along the way:
 *
 *   - Standard: the graph without its BatchNorm nodes (each one's input wired to its outputs);
 *   - +BatchNorm: with them (noise off);
 *   - +Noisy BatchNorm: with their noise on (the node's ranges), so internal covariate shift
 *     is made worse on purpose;
 *   - +LayerNorm: the same places with LayerNorm instead.
 *
 * A graph without BatchNorm gets one after every hidden weighted layer (Dense, Conv2D, …:
 * every weighted layer whose output reaches the loss only through layers without weights is
 * the output layer and gets none); the Standard arm is then the graph itself.
 *
 * Every few steps each arm is probed on a seeded batch, the same for every arm
 * (batchnorm-probes.ts): ICS as ‖G − G'‖ and cos(G, G') per layer, the loss variation,
 * gradient predictiveness and effective β-smoothness along the gradient over a range of step
 * sizes, the curvature gᵀHg/gᵀg, and the distribution of one layer's input. A learning-rate
 * sweep then trains each arm briefly at log-spaced rates. Nothing a probe computes is assigned
 * back: weights and running statistics only move by the training steps themselves.
 */
import { z } from 'zod';
import { compilePlan } from '../compile/plan.ts';
import { kindDef } from '../graph/catalogue.ts';
import { edgeId, type GraphDocument, type GraphEdge, type GraphNode } from '../graph/document.ts';
import { bool, int, num, text, type ParamSpecs } from '../graph/params.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { RunRecord } from '../graph/document.ts';
import type { DeviceSplit, Trainer } from '../train/trainer.ts';
import { accuracyOf, distributionSummary, icsLayers, probe, trainingLoss, unpackProbe, type ProbeLayout, type ProbeValues } from './batchnorm-probes.ts';
import { defineExperiment, type ExperimentContext, type JsonRecord } from './framework.ts';

/** The arms, in the order they run and are drawn. */
export const BATCHNORM_ARMS = ['standard', 'batchNorm', 'noisy', 'layerNorm'] as const;
export type BatchNormArm = (typeof BATCHNORM_ARMS)[number];
export const BATCHNORM_ARM_LABELS: Record<BatchNormArm, string> = { standard: 'Standard', batchNorm: '+BatchNorm', noisy: '+Noisy BatchNorm', layerNorm: '+LayerNorm' };

/** The experiment's settings: validated like node parameters, each also a CLI flag. */
export const batchNormSettings = {
  standard: bool({ label: 'Standard', help: 'Train the graph without BatchNorm (its BatchNorm nodes bypassed).', default: true }),
  batchNorm: bool({ label: '+BatchNorm', help: 'Train the graph with BatchNorm (noise off).', default: true }),
  noisy: bool({ label: '+Noisy BatchNorm', help: 'Train with each BatchNorm\'s noise on (the ranges set on the node): ICS made worse on purpose.', default: true }),
  layerNorm: bool({ label: '+LayerNorm', help: 'Train with LayerNorm in place of each BatchNorm.', default: false }),
  steps: int({ label: 'Steps', help: 'Optimizer steps of each arm; 0 trains for the optimizer node\'s epochs.', default: 0, min: 0, max: 1_000_000 }),
  probeEvery: int({ label: 'Probe every', help: 'Steps between probes (ICS, smoothness, curvature, distribution), and at step 0; 0 probes about 10 times a run.', default: 0, min: 0, max: 1_000_000 }),
  probeSamples: int({ label: 'Probe batch', help: 'Examples in each probe\'s batch (a seeded draw from the training set, the same for every arm); 0 uses the Dataset\'s batch size.', default: 0, min: 0, max: 100_000 }),
  stepFrom: num({ label: 'Step size from', help: 'Smallest step η along the gradient for the smoothness probes, as a multiple of the learning rate (the paper: a range around it).', default: 0.25, min: 0, max: 1e6, exclusiveMin: true, log: true }),
  stepTo: num({ label: 'Step size to', help: 'Largest step η, as a multiple of the learning rate.', default: 4, min: 0, max: 1e6, exclusiveMin: true, log: true }),
  stepCount: int({ label: 'Step sizes', help: 'How many log-spaced η between the two (the bands are min–max over them).', default: 5, min: 1, max: 20 }),
  layer: text({ label: 'Distribution of', help: 'Id of the weighted layer whose input distribution is drawn over training; empty: the last weighted layer.', default: '', maxLength: 200 }),
  sweepRates: int({ label: 'Sweep rates', help: 'Learning rates of the sweep (log-spaced, each arm trained briefly at each); 0: no sweep.', default: 4, min: 0, max: 20 }),
  sweepFrom: num({ label: 'Sweep from', help: 'Smallest learning rate of the sweep.', default: 1e-4, min: 0, max: 100, exclusiveMin: true, log: true }),
  sweepTo: num({ label: 'Sweep to', help: 'Largest learning rate of the sweep.', default: 1, min: 0, max: 100, exclusiveMin: true, log: true }),
  sweepSteps: int({ label: 'Sweep steps', help: 'Optimizer steps of each sweep run.', default: 100, min: 1, max: 1_000_000 }),
} satisfies ParamSpecs;

export type BatchNormSettings = {
  standard: boolean;
  batchNorm: boolean;
  noisy: boolean;
  layerNorm: boolean;
  steps: number;
  probeEvery: number;
  probeSamples: number;
  stepFrom: number;
  stepTo: number;
  stepCount: number;
  layer: string;
  sweepRates: number;
  sweepFrom: number;
  sweepTo: number;
  sweepSteps: number;
};

const value = z.number().nullable();
const series = z.array(value);
const band = z.strictObject({ min: series, max: series });

const armSchema = z.strictObject({
  arm: z.enum(BATCHNORM_ARMS),
  label: z.string(),
  /** The base learning rate λ of the arm's optimizer (the SGD step of the ICS probe). */
  learningRate: z.number(),
  /** The probed steps; every series below has one value per probe. */
  steps: z.array(z.number().int().min(0)),
  /** Training-mode loss and accuracy at W on the probe batch, and ‖∇L(W)‖. */
  loss: series,
  accuracy: series,
  gradientNorm: series,
  /** L(W − η∇L) over the step sizes: the loss variation. */
  lossVariation: band,
  /** ‖∇L(W) − ∇L(W − η∇L)‖ over the step sizes. */
  predictiveness: band,
  /** ‖∇L(W) − ∇L(W − η∇L)‖ / ‖η∇L(W)‖ over the step sizes; its max is the effective β-smoothness. */
  beta: band,
  /** gᵀHg / gᵀg. */
  curvature: series,
  /** Per weighted layer (ids in `layers`), one series over the probes: ‖G − G'‖₂ and cos(G, G'). */
  ics: z.strictObject({ layers: z.array(z.string()), distance: z.array(series), cosine: z.array(series) }),
  /** The chosen layer's input over the probes: mean, std, quantiles (5, 25, 50, 75, 95 %) and a histogram each. */
  distribution: z
    .strictObject({
      layer: z.string(),
      mean: series,
      std: series,
      quantiles: z.array(z.array(z.number()).length(5)),
      histograms: z.array(z.strictObject({ lo: z.number(), hi: z.number(), counts: z.array(z.number().int().min(0)) })),
    })
    .nullable(),
  /** The training loss of every step, averaged over windows (at most 200 points). */
  curve: z.strictObject({ steps: z.array(z.number().int().min(0)), loss: series }),
  /** After the last step: how the run ended, training-mode loss/accuracy on up to 1,000 training examples, inference-mode on the validation set. */
  final: z.strictObject({ status: z.string(), steps: z.number().int().min(0), trainLoss: value, trainAccuracy: value, validationLoss: value, validationAccuracy: value }),
  /** The learning-rate sweep: mean loss of the last tenth of the steps and training accuracy per rate (null where training diverged). */
  sweep: z.strictObject({ rates: z.array(z.number()), loss: series, accuracy: series, diverged: z.array(z.boolean()) }).nullable(),
});

/** What a BatchNorm result stores (JSON): one record per arm. */
export const batchNormData = z.strictObject({
  /** The BatchNorm nodes each arm changes (the graph's own, or those inserted). */
  sites: z.array(z.string()),
  /** Whether they were inserted (the graph had none). */
  inserted: z.boolean(),
  /** The step sizes η as multiples of each arm's learning rate. */
  etaFactors: z.array(z.number()),
  probeSamples: z.number().int().min(1),
  arms: z.array(armSchema),
});
export type BatchNormData = z.infer<typeof batchNormData>;
export type BatchNormArmData = z.infer<typeof armSchema>;

/** Float32 precision is all a measurement has; rounding keeps the stored result small (null for NaN/∞). */
const r7 = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(7)));

/** n log-spaced values from a to b (a alone when n = 1). */
export function logSpaced(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => Number((a * Math.pow(b / a, i / (n - 1))).toPrecision(7)));
}

const isWeightedLayer = (n: { weights: { trainable: boolean; penalized: boolean }[] }) => n.weights.some((w) => w.trainable && w.penalized);

/**
 * Where the arms differ: the graph's BatchNorm nodes, or (when it has none) the hidden
 * weighted layers after which one is inserted. Null with a reason when there is neither.
 */
export function batchNormSites(doc: Pick<GraphDocument, 'nodes' | 'edges'>): { sites: string[]; insertAfter: string[] } | { problem: string } {
  const compiled = compilePlan(doc);
  if (!compiled.ok) return { problem: `the graph cannot train: ${compiled.errors.join('; ')}` };
  const own = doc.nodes.filter((n) => n.kind === 'batchNorm').map((n) => n.id);
  if (own.length) return { sites: own, insertAfter: [] };
  const plan = compiled.plan;
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const consumers = new Map<string, string[]>();
  for (const e of doc.edges) consumers.set(e.source, [...(consumers.get(e.source) ?? []), e.target]);
  /** Whether the loss is reached from a node through layers without weights only. */
  const feedsLoss = (id: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(consumers.get(id) ?? [])];
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      if (t === plan.loss.id) return true;
      const n = byId.get(t);
      if (!n || isWeightedLayer(n)) continue;
      stack.push(...(consumers.get(t) ?? []));
    }
    return false;
  };
  const hidden = plan.nodes.filter((n) => isWeightedLayer(n) && !feedsLoss(n.id)).map((n) => n.id);
  if (!hidden.length) return { problem: 'the graph has no BatchNorm node and no hidden weighted layer to put one after: the arms would all be the same graph' };
  const taken = new Set(doc.nodes.map((n) => n.id));
  const sites = hidden.map((h) => {
    let id = `bn-${h}`;
    for (let k = 2; taken.has(id); k++) id = `bn-${h}-${k}`;
    taken.add(id);
    return id;
  });
  return { sites, insertAfter: hidden };
}

/** The graph of one arm (see the top of this file). */
export function armDocument(doc: Pick<GraphDocument, 'nodes' | 'edges'>, arm: BatchNormArm, where: { sites: string[]; insertAfter: string[] }): Pick<GraphDocument, 'nodes' | 'edges'> {
  let nodes: GraphNode[] = doc.nodes;
  let edges: GraphEdge[] = doc.edges;
  const bnDefaults = Object.fromEntries(Object.entries(kindDef('batchNorm')!.params as ParamSpecs).map(([k, s]) => [k, s.default]));
  if (where.insertAfter.length) {
    if (arm === 'standard') return doc;
    // Insert BatchNorm between each hidden layer and everything it feeds.
    where.insertAfter.forEach((layer, i) => {
      const id = where.sites[i]!;
      const at = nodes.find((n) => n.id === layer)!;
      nodes = [...nodes, { id, kind: 'batchNorm', position: { x: at.position.x, y: at.position.y + 80 }, params: { ...bnDefaults } }];
      edges = [
        ...edges.map((e) => (e.source === layer ? { ...e, id: edgeId(id, 'out', e.target, e.targetPort), source: id, sourcePort: 'out' } : e)),
        { id: edgeId(layer, 'out', id, 'in'), source: layer, sourcePort: 'out', target: id, targetPort: 'in' },
      ];
    });
  }
  const sites = new Set(where.sites);
  if (arm === 'standard') {
    // Bypass: whatever fed a BatchNorm feeds its consumers.
    for (const id of sites) {
      const input = edges.find((e) => e.target === id);
      edges = edges.flatMap((e) => {
        if (e.target === id) return [];
        if (e.source !== id) return [e];
        return input ? [{ ...e, id: edgeId(input.source, input.sourcePort, e.target, e.targetPort), source: input.source, sourcePort: input.sourcePort }] : [];
      });
    }
    return { nodes: nodes.filter((n) => !sites.has(n.id)), edges };
  }
  nodes = nodes.map((n) => {
    if (!sites.has(n.id)) return n;
    if (arm === 'layerNorm') return { ...n, kind: 'layerNorm', params: { epsilon: n.params.epsilon ?? bnDefaults.epsilon! } };
    return { ...n, params: { ...n.params, noise: arm === 'noisy' } };
  });
  return { nodes, edges };
}

/** Why the experiment cannot run with these settings on this graph, or null. */
export function batchNormProblem(doc: Pick<GraphDocument, 'nodes' | 'edges'>, s: BatchNormSettings): string | null {
  const arms = BATCHNORM_ARMS.filter((a) => s[a]);
  if (!arms.length) return 'choose at least one arm (Standard, +BatchNorm, +Noisy BatchNorm, +LayerNorm)';
  const where = batchNormSites(doc);
  if ('problem' in where) {
    // Standard alone needs no BatchNorm: it measures the graph as it is.
    if (arms.length === 1 && arms[0] === 'standard' && !where.problem.startsWith('the graph cannot train')) return null;
    return where.problem;
  }
  if (s.layer) {
    const compiled = compilePlan(armDocument(doc, 'standard', where));
    const n = compiled.ok ? compiled.plan.nodes.find((p) => p.id === s.layer) : undefined;
    if (!n || !isWeightedLayer(n)) return `setting layer: "${s.layer.slice(0, 60)}" is not the id of a weighted layer (Dense, Conv2D, …) of the graph`;
  }
  return null;
}

/** Mean of consecutive windows of a series, at most `points` of them, with the step each ends at. */
function downsample(losses: readonly number[], points: number): { steps: number[]; loss: (number | null)[] } {
  const w = Math.max(1, Math.ceil(losses.length / points));
  const steps: number[] = [];
  const loss: (number | null)[] = [];
  for (let i = 0; i < losses.length; i += w) {
    const part = losses.slice(i, i + w);
    steps.push(i + part.length);
    loss.push(r7(part.reduce((a, b) => a + b, 0) / part.length));
  }
  return { steps, loss };
}

/** Training-mode loss and accuracy on a training subset, inference-mode on the validation set: [trainLoss, trainAcc, valLoss, valAcc]. Sync. */
function finalMeasure(tf: TF, trainer: Trainer, train: DeviceSplit, val: DeviceSplit | null, seed: number): Tensor {
  return tf.tidy(() => {
    const r = trainingLoss(trainer, train, seed)(trainer.program.trainable.map((w) => w.variable));
    const nan = tf.scalar(Number.NaN);
    const v = val ? trainer.evaluateOn(val) : null;
    const valAcc = v?.correct ? tf.div(v.correct, val!.n) : nan;
    return tf.stack([r.loss, accuracyOf(tf, trainer, r.pred, train.y) ?? nan, v?.loss ?? nan, valAcc]);
  });
}

const nonZeroSeed = (n: number) => 1 + (Math.abs(Math.floor(n)) % (2 ** 31 - 2));

interface ArmRun {
  run: RunRecord;
  probes: { step: number; values: ProbeValues; observed: Float32Array | null }[];
  final: number[];
  /** The base learning rate and the layers whose ICS was measured. */
  learningRate: number;
  layers: string[];
}

/** Train one arm (or one sweep run): probes from the onStep hook, read back once the run ends. */
async function trainArm(
  ctx: ExperimentContext,
  armDoc: Pick<GraphDocument, 'nodes' | 'edges'>,
  o: { maxSteps?: number; learningRate?: number; probeEvery: number | null; probeSamples: number; etaFactors: number[]; observe: string | null; onStep: () => void; onPlanned?: (steps: number) => void },
): Promise<ArmRun> {
  const tf = ctx.tf;
  const pending: { step: number; values: Tensor; observed: Tensor | null }[] = [];
  let layout: ProbeLayout | null = null;
  let every = 0;
  let trainer: Trainer | null = null;
  // The probe batch and its noise depend on the step and the experiment's seed only, so every arm is probed on the same examples.
  const probeAt = (step: number) => {
    const t = trainer!;
    const set = t.evaluationSet(o.probeSamples, nonZeroSeed(ctx.seed * 7919 + step), 'train');
    try {
      const r = probe(tf, t, set, { ...layout!, noiseSeed: nonZeroSeed(ctx.seed * 104729 + step) });
      pending.push({ step, ...r });
    } finally {
      set.x.dispose();
      set.y.dispose();
    }
  };
  const t = ctx.trainer({
    doc: armDoc,
    weights: null,
    options: {
      instrument: false,
      ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}),
      onStep: (step) => {
        o.onStep();
        if (layout && every > 0 && step % every === 0) probeAt(step);
      },
    },
  });
  trainer = t;
  try {
    if (o.learningRate !== undefined) t.setLearningRate(o.learningRate);
    const lr = t.learningRate;
    const planned = Math.min(t.totalSteps, o.maxSteps || Infinity);
    o.onPlanned?.(planned);
    if (o.probeEvery !== null) {
      every = o.probeEvery || Math.max(1, Math.round(planned / 10));
      const observe = o.observe && t.plan.nodes.some((n) => n.id === o.observe) ? o.observe : null;
      layout = { learningRate: lr, etas: o.etaFactors.map((f) => f * lr), layers: icsLayers(t), observe, noiseSeed: 1 };
      probeAt(0);
    }
    const run = await ctx.train(t);
    const trainSet = t.evaluationSet(1000, nonZeroSeed(ctx.seed * 31 + 1), 'train');
    const valSet = t.dataset.val.n > 0 ? t.evaluationSet(2000, nonZeroSeed(ctx.seed * 31 + 2), 'validation') : null;
    const finalT = finalMeasure(tf, t, trainSet, valSet, nonZeroSeed(ctx.seed * 31 + 3));
    for (const s of [trainSet, valSet]) {
      s?.x.dispose();
      s?.y.dispose();
    }
    const final = Array.from(await finalT.data());
    finalT.dispose();
    const probes: ArmRun['probes'] = [];
    for (const p of pending.splice(0)) {
      const [v, a] = await Promise.all([p.values.data(), p.observed ? p.observed.data() : null]);
      probes.push({ step: p.step, values: unpackProbe(v, layout!), observed: a as Float32Array | null });
      p.values.dispose();
      p.observed?.dispose();
    }
    return { run, probes, final, learningRate: lr, layers: layout ? layout.layers.map((l) => l.nodeId) : [] };
  } finally {
    for (const p of pending) {
      p.values.dispose();
      p.observed?.dispose();
    }
    t.dispose();
  }
}

/** Lay out one arm's probes as the stored series. */
function armData(arm: BatchNormArm, r: ArmRun, observe: string | null): BatchNormArmData {
  const ps = r.probes;
  const layers = r.layers;
  const col = (f: (p: ProbeValues) => number | null) => ps.map((p) => r7(f(p.values)));
  const min = (xs: number[]) => (xs.length ? Math.min(...xs) : Number.NaN);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
  const bandOf = (f: (p: ProbeValues) => number[]) => ({ min: col((p) => min(f(p))), max: col((p) => max(f(p))) });
  const summaries = observe ? ps.map((p) => (p.observed ? distributionSummary(p.observed, 30) : null)) : [];
  const f = r.final;
  return {
    arm,
    label: BATCHNORM_ARM_LABELS[arm],
    learningRate: r.learningRate,
    steps: ps.map((p) => p.step),
    loss: col((p) => p.loss),
    accuracy: col((p) => p.accuracy),
    gradientNorm: col((p) => p.gradientNorm),
    lossVariation: bandOf((p) => p.lossAt),
    predictiveness: bandOf((p) => p.predictiveness),
    beta: bandOf((p) => p.beta),
    curvature: col((p) => p.curvature),
    ics: { layers, distance: layers.map((_, i) => col((p) => p.icsDistance[i]!)), cosine: layers.map((_, i) => col((p) => p.icsCosine[i]!)) },
    distribution:
      observe && summaries.every((s) => s !== null)
        ? {
            layer: observe,
            mean: summaries.map((s) => r7(s!.mean)),
            std: summaries.map((s) => r7(s!.std)),
            quantiles: summaries.map((s) => s!.quantiles.map((q) => r7(q) ?? 0)),
            histograms: summaries.map((s) => ({ lo: r7(s!.lo) ?? 0, hi: r7(s!.hi) ?? 0, counts: s!.counts })),
          }
        : null,
    curve: downsample(r.run.stepLoss, 200),
    final: { status: r.run.status, steps: r.run.stepLoss.length, trainLoss: r7(f[0]!), trainAccuracy: r7(f[1]!), validationLoss: r7(f[2]!), validationAccuracy: r7(f[3]!) },
    sweep: null,
  };
}

/** Run the comparison (see the top of this file). Deterministic for a file, seed and backend. */
export async function runBatchNorm(ctx: ExperimentContext, s: BatchNormSettings): Promise<BatchNormData> {
  const where = batchNormSites(ctx.doc);
  const sites = 'problem' in where ? { sites: [], insertAfter: [] } : where;
  const arms = BATCHNORM_ARMS.filter((a) => s[a]);
  const etaFactors = logSpaced(s.stepFrom, s.stepTo, s.stepCount);
  const rates = s.sweepRates > 0 ? logSpaced(s.sweepFrom, s.sweepTo, s.sweepRates) : [];
  const base = compilePlan(armDocument(ctx.doc, arms[0]!, sites));
  if (!base.ok) throw new Error(`the ${BATCHNORM_ARM_LABELS[arms[0]!]} arm cannot train: ${base.errors.join('; ')}`);
  const plan = base.plan;
  const probeSamples = s.probeSamples || plan.training.batchSize || 128;
  const weighted = plan.nodes.filter(isWeightedLayer).map((n) => n.id);
  const observe = s.layer || weighted[weighted.length - 1] || null;
  const data: BatchNormData = { sites: sites.sites, inserted: sites.insertAfter.length > 0, etaFactors, probeSamples, arms: [] };
  // Progress counts optimizer steps over every run: known once the first trainer tells the run length.
  const perRun = s.steps || null;
  let done = 0;
  let total = 0;
  const planned = (steps: number) => {
    if (total === 0) total = arms.length * (steps + rates.length * s.sweepSteps);
  };
  const tick = () => {
    done++;
    if (done % 10 === 0) ctx.progress(done, Math.max(total, done));
  };
  for (const arm of arms) {
    await ctx.checkpoint();
    const doc = armDocument(ctx.doc, arm, sites);
    const r = await trainArm(ctx, doc, { ...(perRun ? { maxSteps: perRun } : {}), probeEvery: s.probeEvery, probeSamples, etaFactors, observe, onStep: tick, onPlanned: planned });
    const armResult = armData(arm, r, observe);
    data.arms.push(armResult);
    ctx.progress(done, Math.max(total, done), structuredClone(data) as unknown as JsonRecord);
    if (!rates.length) continue;
    const sweep = { rates, loss: [] as (number | null)[], accuracy: [] as (number | null)[], diverged: [] as boolean[] };
    armResult.sweep = sweep;
    for (const rate of rates) {
      await ctx.checkpoint();
      const sr = await trainArm(ctx, doc, { maxSteps: s.sweepSteps, learningRate: rate, probeEvery: null, probeSamples, etaFactors, observe: null, onStep: tick });
      const losses = sr.run.stepLoss;
      const diverged = sr.run.status === 'failed';
      const tail = losses.slice(-Math.max(1, Math.ceil(losses.length / 10)));
      sweep.loss.push(diverged || !tail.length ? null : r7(tail.reduce((a, b) => a + b, 0) / tail.length));
      sweep.accuracy.push(diverged ? null : r7(sr.final[1]!));
      sweep.diverged.push(diverged);
      ctx.progress(done, Math.max(total, done), structuredClone(data) as unknown as JsonRecord);
    }
  }
  return data;
}

/** The lines `gradflow experiment batchnorm` prints: one per arm, then the sweep. */
export function describeBatchNorm(d: BatchNormData): string[] {
  const f = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '-' : v.toPrecision(digits));
  const last = <T>(xs: T[]) => xs[xs.length - 1];
  const maxOf = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.max(...v) : null;
  };
  const meanOf = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const lines = [`${d.inserted ? 'BatchNorm inserted after' : 'BatchNorm nodes'}: ${d.sites.join(', ') || 'none'}; η = ${d.etaFactors.join(', ')} × λ; probes on ${d.probeSamples} examples`];
  lines.push('arm                 steps  train loss  val acc   max β     mean ‖G−G′‖  mean cos  mean gᵀHg/gᵀg');
  for (const a of d.arms) {
    const icsAll = a.ics.distance.flat();
    const cosAll = a.ics.cosine.flat();
    lines.push(
      `${a.label.padEnd(18)} ${String(a.final.steps).padStart(6)}  ${f(a.final.trainLoss).padStart(10)}  ${(a.final.validationAccuracy === null ? '-' : `${(a.final.validationAccuracy * 100).toFixed(1)}%`).padStart(7)}  ${f(maxOf(a.beta.max)).padStart(8)}  ${f(meanOf(icsAll)).padStart(11)}  ${f(meanOf(cosAll)).padStart(8)}  ${f(meanOf(a.curvature)).padStart(13)}` +
        (a.final.status === 'completed' || a.final.status === 'stopped' ? '' : `  (${a.final.status})`),
    );
  }
  const swept = d.arms.filter((a) => a.sweep);
  if (swept.length) {
    lines.push(`learning-rate sweep (final training loss${last(swept)!.sweep!.accuracy.some((x) => x !== null) ? ' / accuracy' : ''}):`);
    lines.push(`  ${'rate'.padEnd(10)}${swept.map((a) => a.label.padStart(22)).join('')}`);
    swept[0]!.sweep!.rates.forEach((rate, i) => {
      lines.push(
        `  ${rate.toPrecision(3).padEnd(10)}${swept
          .map((a) => {
            const sw = a.sweep!;
            if (i >= sw.rates.length) return ''.padStart(22);
            if (sw.diverged[i]) return 'diverged'.padStart(22);
            return `${f(sw.loss[i] ?? null)}${sw.accuracy[i] === null || sw.accuracy[i] === undefined ? '' : ` / ${(sw.accuracy[i]! * 100).toFixed(1)}%`}`.padStart(22);
          })
          .join('')}`,
      );
    });
  }
  return lines;
}

/** The experiment, as the framework, the CLI, the file and the app's Experiments panel see it. */
export const batchnorm = defineExperiment({
  name: 'batchnorm',
  title: 'BatchNorm: ICS vs smoothness',
  summary: 'Standard, +BatchNorm, +Noisy BatchNorm (and +LayerNorm) trained side by side (Santurkar et al. 2018): layer input distributions, ICS ‖G − G′‖ and cos(G, G′), loss variation, gradient predictiveness, effective β-smoothness, curvature gᵀHg/gᵀg and a learning-rate sweep.',
  settings: batchNormSettings,
  dataVersion: 1,
  data: batchNormData,
  check: (doc, s) => batchNormProblem(doc, s as BatchNormSettings),
  run: (ctx, s) => runBatchNorm(ctx, s as BatchNormSettings),
  describe: (d) => describeBatchNorm(d),
  trainsFromScratch: true,
});
