/**
 * Lottery tickets (Frankle & Carbin 2019): does a dense network hide a sparse subnetwork
 * that, reset to its initial weights, trains as well as the whole? Iterative magnitude
 * pruning with rewinding, after the paper and facebookresearch/open_lth:
 *
 *   1. Train the dense network from W₀ (keeping W_k too when rewinding to step k).
 *   2. Prune: per layer, each weight matrix loses p of its surviving weights of smallest
 *      |w| (the output layer p/2), or globally (open_lth's sparse_global); biases never.
 *   3. Rewind the survivors to W₀ (or W_k: "late rewinding", open_lth's rewinding_steps),
 *      restart the optimizer, and retrain with the mask. Repeat from 2 for n rounds.
 *
 * One-shot pruning prunes each level straight from the dense network's trained weights.
 * Two controls run beside every ticket: the same masks from a fresh initialization W₀′
 * ("random reinitialization"), and random masks with the same per-layer sparsity from W₀
 * ("random pruning"). Several trials (seeds) give error bars.
 *
 * Measured per run: P_m per layer and overall, the learning curve (validation loss, test
 * accuracy) every few steps, the step of minimum validation loss (the early-stopping
 * iteration) and the test accuracy there and at the end. The file's validation split is
 * cut in two: its first half is the validation set (early stopping), the second the test
 * set (accuracy), so the two are never the same examples.
 *
 * Everything runs on the Trainer's own pieces: one Trainer per training run (so optimizer
 * state starts afresh each round), masks through TrainerOptions.masks, weights in and out
 * through exportWeights/importWeights, measurements from the onStep hook.
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import type { GraphDocument, WeightsBlock } from '../graph/document.ts';
import { bool, int, num, oneOf, type ParamSpecs } from '../graph/params.ts';
import type { Tensor, TF } from '../graph/types.ts';
import { keptCount, masksFromBlock, masksSchema, masksToBlock, type MaskSet } from '../io/masks.ts';
import { decodeWeightsBlock, encodeWeightsBlock, initialWeights } from '../io/weights.ts';
import { denseMasks, magnitudePrune, prunableWeights, randomMasksLike, roundRate, type PrunableWeight, type WeightValues } from '../train/pruning.ts';
import type { Trainer, TrainerOptions } from '../train/trainer.ts';
import { defineExperiment, type JsonRecord } from './framework.ts';
import { compilePlan } from '../compile/plan.ts';

/** The experiment's settings: validated like node parameters, each also a CLI flag. */
export const lotterySettings = {
  preset: oneOf({
    label: 'Preset',
    help: 'Ready-made settings that replace rounds, schedule, rate, pruning, scope, rewinding, controls, trials, epochs and measuring. Quick: LeNet-300-100 through five rounds at 50 % with both controls, in a few minutes on a laptop CPU. Paper: Frankle & Carbin\'s 20 % a round, 15 rounds, 5 trials (hours on a CPU).',
    default: 'none',
    options: ['none', 'quick', 'paper'] as const,
    optionLabels: { none: 'None (use the settings below)', quick: 'Quick (a few minutes)', paper: 'The paper (hours)' },
  }),
  rounds: int({ label: 'Rounds', help: 'Pruning rounds n after the dense run. Each round prunes, rewinds and retrains; n = 1 is one-shot pruning.', default: 5, min: 1, max: 30 }),
  schedule: oneOf({
    label: 'Schedule',
    help: 'A fixed rate: each round prunes that fraction of the surviving weights (20 % in the paper). A target: the fraction remaining after n rounds, reached by keeping target^(1/n) each round (the course: "prune p^(1/n) % each round").',
    default: 'rate',
    options: ['rate', 'target'] as const,
    optionLabels: { rate: 'Fixed rate per round', target: 'Target after n rounds' },
  }),
  rate: num({ label: 'Rate per round', help: 'Fraction of the surviving weights pruned each round (per layer: the output layer at half this rate).', default: 0.2, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, visibleWhen: (p) => p.schedule === 'rate' }),
  target: num({ label: 'Target remaining', help: 'Fraction of the prunable weights left after the last round.', default: 0.1, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, visibleWhen: (p) => p.schedule === 'target' }),
  pruning: oneOf({
    label: 'Pruning',
    help: 'Iterative: each round prunes the previous ticket after retraining it. One-shot: every level is pruned at once from the dense network\'s trained weights.',
    default: 'iterative',
    options: ['iterative', 'oneshot'] as const,
    optionLabels: { iterative: 'Iterative', oneshot: 'One-shot' },
  }),
  scope: oneOf({
    label: 'Scope',
    help: 'Per layer (the paper, for LeNet): every weight matrix loses the same fraction, the output layer half of it. Global (open_lth sparse_global): the smallest weights of the whole network, wherever they are.',
    default: 'layer',
    options: ['layer', 'global'] as const,
    optionLabels: { layer: 'Per layer', global: 'Global' },
  }),
  rewindStep: int({ label: 'Rewind to step', help: 'Reset the surviving weights to their values at this step of the dense run: 0 is W₀ (the paper); k > 0 is late rewinding (open_lth rewinding_steps). Later rounds then train for the remaining steps.', default: 0, min: 0, max: 1_000_000 }),
  controls: bool({ label: 'Controls', help: 'Also train, every round, the same masks from a fresh random initialization and random masks of the same per-layer sparsity.', default: false }),
  trials: int({ label: 'Trials', help: 'Independent repetitions with seeds seed, seed + 1, …: the plots show their mean with min–max error bars.', default: 1, min: 1, max: 10 }),
  epochs: int({ label: 'Epochs per round', help: 'Training epochs of each run; 0 uses the optimizer node\'s epochs.', default: 0, min: 0, max: 10_000 }),
  evalEvery: int({ label: 'Measure every', help: 'Steps between measurements of validation loss and test accuracy (the learning curves and the early-stopping iteration); 0 measures about 8 times an epoch.', default: 0, min: 0, max: 1_000_000 }),
} satisfies ParamSpecs;

export type LotterySettings = {
  preset?: 'none' | 'quick' | 'paper';
  rounds: number;
  schedule: 'rate' | 'target';
  rate: number;
  target: number;
  pruning: 'iterative' | 'oneshot';
  scope: 'layer' | 'global';
  rewindStep: number;
  controls: boolean;
  trials: number;
  epochs: number;
  evalEvery: number;
};

/**
 * Ready-made settings. 'quick' runs LeNet-300-100 on the shipped MNIST digits through five
 * rounds at 50 % a round (down to about 3 % of the weights) with both controls in a few
 * minutes on two CPU cores; 'paper' is Frankle & Carbin's schedule (20 % a round, 15 rounds,
 * five trials), which takes hours on a CPU.
 */
export const LOTTERY_PRESETS: Record<'quick' | 'paper', Omit<LotterySettings, 'preset' | 'target'>> = {
  quick: { rounds: 5, schedule: 'rate', rate: 0.5, pruning: 'iterative', scope: 'layer', rewindStep: 0, controls: true, trials: 1, epochs: 2, evalEvery: 0 },
  paper: { rounds: 15, schedule: 'rate', rate: 0.2, pruning: 'iterative', scope: 'layer', rewindStep: 0, controls: true, trials: 5, epochs: 0, evalEvery: 100 },
};

/** The settings a run uses: a preset's values over the given ones. */
export function resolveLotterySettings(s: LotterySettings): LotterySettings {
  return s.preset && s.preset !== 'none' ? { ...s, ...LOTTERY_PRESETS[s.preset] } : s;
}

/** The three arms of every round. */
export const ARMS = ['ticket', 'randomReinit', 'randomPruning'] as const;
export type Arm = (typeof ARMS)[number];
export const ARM_LABELS: Record<Arm, string> = { ticket: 'winning ticket', randomReinit: 'random reinitialization', randomPruning: 'random pruning' };

const nullableNumber = z.number().nullable();
const runSchema = z.strictObject({
  trial: z.number().int().min(0),
  seed: z.number().int(),
  /** The step of minimum validation loss. */
  earlyStopIteration: nullableNumber,
  /** Test accuracy at that step. */
  testAccuracyAtEarlyStop: nullableNumber,
  /** Test accuracy after the last step. */
  finalTestAccuracy: nullableNumber,
  finalStep: z.number().int().min(0),
  /** The learning curve: measured steps, validation loss and test accuracy there. */
  steps: z.array(z.number().int().min(0)),
  validationLoss: z.array(nullableNumber),
  testAccuracy: z.array(nullableNumber),
});
const armSchema = z.strictObject({
  /** Means over the trials (null for what was not measured). */
  testAccuracyAtEarlyStop: nullableNumber,
  earlyStopIteration: nullableNumber,
  finalTestAccuracy: nullableNumber,
  /** Min and max over the trials, for error bars. */
  testAccuracyRange: z.tuple([z.number(), z.number()]).nullable(),
  earlyStopRange: z.tuple([z.number(), z.number()]).nullable(),
  trials: z.array(runSchema),
});
const roundSchema = z.strictObject({
  round: z.number().int().min(0),
  /** P_m: the fraction of the prunable weights remaining, overall. */
  fractionRemaining: z.number().min(0).max(1),
  /** P_m per prunable weight, keyed "node.weight". */
  fractionRemainingByLayer: z.record(z.string(), z.number().min(0).max(1)),
  ticket: armSchema,
  randomReinit: armSchema.nullable(),
  randomPruning: armSchema.nullable(),
});

/** What a lottery-ticket result stores (JSON): one record per round, round 0 being the dense network. */
export const lotteryData = z.strictObject({
  layers: z.array(z.strictObject({ key: z.string(), nodeId: z.string(), weight: z.string(), size: z.number().int().min(0), isOutput: z.boolean() })),
  ratePerRound: z.number(),
  stepsPerRun: z.number().int().min(0),
  rounds: z.array(roundSchema),
  /** The sparsest winning ticket's masks (first trial), bit-packed as in the file's masks block: what Apply puts on the canvas. */
  ticketMasks: masksSchema.nullable(),
});
export type LotteryData = z.infer<typeof lotteryData>;
export type LotteryRound = z.infer<typeof roundSchema>;
export type LotteryArm = z.infer<typeof armSchema>;
export type LotteryRun = z.infer<typeof runSchema>;

/**
 * What the runner needs from its host: the experiments framework's context in the app's
 * worker and the CLI, or a plain one in tests. Trainers it makes are disposed by the runner
 * as soon as a run is measured (each holds a copy of the data on the device).
 */
export interface LotteryHost {
  readonly tf: TF;
  readonly doc: GraphDocument;
  readonly seed: number;
  /** A trainer for the graph with fresh initial weights and these options. */
  trainer(options: TrainerOptions): Trainer;
  /** Train to the end, with pause and cancel acting on it. */
  train(trainer: Trainer): Promise<unknown>;
  /** Waits while paused; throws once cancelled. */
  checkpoint(): Promise<void>;
  progress(done: number, total: number, partial?: LotteryData): void;
}

/** Why the experiment cannot run on this graph, or null. */
export function lotteryProblem(doc: Pick<GraphDocument, 'nodes' | 'edges'>): string | null {
  const compiled = compilePlan(doc);
  if (!compiled.ok) return `the graph cannot train: ${compiled.errors.join('; ')}`;
  if (compiled.plan.task !== 'classification') return 'lottery tickets measure test accuracy, so the graph must be a classifier';
  if (prunableWeights(compiled.plan).length === 0) return 'the graph has no prunable layer (Dense, Maxout, RBF units)';
  return null;
}

/** The settings with their defaults filled in and checked (throws a readable message). */
export function lotteryRate(s: LotterySettings): number {
  return s.schedule === 'rate' ? roundRate({ rounds: s.rounds, rate: s.rate }) : roundRate({ rounds: s.rounds, target: s.target });
}

function valuesOf(block: WeightsBlock, weights: readonly PrunableWeight[]): WeightValues {
  const all = decodeWeightsBlock(block);
  const out: WeightValues = {};
  for (const w of weights) (out[w.nodeId] ??= {})[w.name] = all[w.nodeId]![w.name]!.values;
  return out;
}

function remaining(weights: readonly PrunableWeight[], masks: MaskSet): { overall: number; byLayer: Record<string, number> } {
  let kept = 0;
  let total = 0;
  const byLayer: Record<string, number> = {};
  for (const w of weights) {
    const k = keptCount(masks[w.nodeId]![w.name]!.bits);
    byLayer[`${w.nodeId}.${w.name}`] = k / w.size;
    kept += k;
    total += w.size;
  }
  return { overall: total ? kept / total : 1, byLayer };
}

/** Float32 precision is all a measurement has; rounding keeps the stored result small. */
const r7 = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(7)));

/**
 * Measure a trainer on the two halves of its validation split at chosen steps and after the
 * last: the tensors are computed right after the step (from the onStep hook), and read back
 * once the run ends, so measuring never waits on the device mid-run.
 */
function measurer(tf: TF) {
  const pending: { step: number; values: Tensor }[] = [];
  let trainer: Trainer | null = null;
  let sets: { x: Tensor; y: Tensor; n: number }[] = [];
  const measure = (step: number) => {
    const t = trainer!;
    const binary = t.dataset.info.yShape[0] === 1;
    const values = tf.tidy(() => {
      const parts: Tensor[] = [];
      for (const s of sets) {
        const r = t.program.forward({ x: s.x, y: s.y, training: false, seed: () => 0, fuse: true });
        const correct = binary
          ? tf.sum(tf.cast(tf.equal(tf.greater(r.pred, 0), tf.greater(s.y, 0.5)), 'float32'))
          : tf.sum(tf.cast(tf.equal(tf.argMax(r.pred, -1), tf.argMax(s.y, -1)), 'float32'));
        parts.push(tf.reshape(r.dataLoss, [1]), tf.reshape(tf.div(correct, s.n), [1]));
      }
      return tf.concat(parts);
    });
    pending.push({ step, values });
  };
  return {
    attach(t: Trainer) {
      trainer = t;
      const val = t.dataset.val;
      const { xShape, yShape } = t.dataset.info;
      const xw = xShape.reduce((a, b) => a * b, 1);
      const yw = yShape.reduce((a, b) => a * b, 1);
      const half = Math.ceil(val.n / 2);
      const cut = (from: number, to: number) => ({
        x: tf.tensor(val.x.subarray(from * xw, to * xw), [to - from, ...xShape], 'float32'),
        y: tf.tensor(val.y.subarray(from * yw, to * yw), [to - from, ...yShape], 'float32'),
        n: to - from,
      });
      sets = [cut(0, half), cut(half, val.n)];
      measure(0);
    },
    measure,
    /** Read everything back; measures the final step too. */
    async finish(finalStep: number) {
      if (!pending.length || pending[pending.length - 1]!.step !== finalStep) measure(finalStep);
      const rows: { step: number; valLoss: number; testAccuracy: number }[] = [];
      for (const p of pending) {
        const v = (await p.values.data()) as Float32Array;
        p.values.dispose();
        rows.push({ step: p.step, valLoss: v[0]!, testAccuracy: v[3]! });
      }
      pending.length = 0;
      for (const s of sets) {
        s.x.dispose();
        s.y.dispose();
      }
      sets = [];
      return rows;
    },
  };
}

/** The early-stopping iteration (minimum validation loss; the first of equals) and the accuracies. */
function summarizeRun(trial: number, seed: number, rows: { step: number; valLoss: number; testAccuracy: number }[]): LotteryRun {
  let best = -1;
  rows.forEach((r, i) => {
    if (Number.isFinite(r.valLoss) && (best < 0 || r.valLoss < rows[best]!.valLoss)) best = i;
  });
  const last = rows[rows.length - 1]!;
  return {
    trial,
    seed,
    earlyStopIteration: best >= 0 ? rows[best]!.step : null,
    testAccuracyAtEarlyStop: best >= 0 ? r7(rows[best]!.testAccuracy) : null,
    finalTestAccuracy: r7(last.testAccuracy),
    finalStep: last.step,
    steps: rows.map((r) => r.step),
    validationLoss: rows.map((r) => r7(r.valLoss)),
    testAccuracy: rows.map((r) => r7(r.testAccuracy)),
  };
}

function summarizeArm(trials: LotteryRun[]): LotteryArm {
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? r7(v.reduce((a, b) => a + b, 0) / v.length) : null;
  };
  const range = (xs: (number | null)[]): [number, number] | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? [Math.min(...v), Math.max(...v)] : null;
  };
  return {
    testAccuracyAtEarlyStop: mean(trials.map((t) => t.testAccuracyAtEarlyStop)),
    earlyStopIteration: mean(trials.map((t) => t.earlyStopIteration)),
    finalTestAccuracy: mean(trials.map((t) => t.finalTestAccuracy)),
    testAccuracyRange: range(trials.map((t) => t.testAccuracyAtEarlyStop)),
    earlyStopRange: range(trials.map((t) => t.earlyStopIteration)),
    trials,
  };
}

/** What a lottery run leaves besides its data: the last round's ticket, for the canvas and the file. */
export interface LotteryOutcome {
  data: LotteryData;
  /** The sparsest winning ticket's masks (first trial). */
  masks: MaskSet;
  /** That ticket's trained weights (exact zeros where pruned). */
  weights: WeightsBlock;
}

/** Run the procedure. Deterministic for a file, seed and backend. */
export async function runLottery(host: LotteryHost, settings: LotterySettings): Promise<LotteryOutcome> {
  const { tf, doc } = host;
  const s = resolveLotterySettings(settings);
  const problem = lotteryProblem(doc);
  if (problem) throw new Error(problem);
  const plan = (compilePlan(doc) as Extract<ReturnType<typeof compilePlan>, { ok: true }>).plan;
  const weights = prunableWeights(plan);
  const rate = lotteryRate(s);
  const base: TrainerOptions = { instrument: false, ...(s.epochs > 0 ? { epochs: s.epochs } : {}) };
  const data: LotteryData = {
    layers: weights.map((w) => ({ key: `${w.nodeId}.${w.name}`, nodeId: w.nodeId, weight: w.name, size: w.size, isOutput: w.isOutput })),
    ratePerRound: r7(rate)!,
    stepsPerRun: 0,
    rounds: [],
    ticketMasks: null,
  };
  const arms = s.controls ? 3 : 1;
  const totalRuns = s.trials * (1 + s.rounds * arms);
  let done = 0;
  // Per round, per arm, the trials' runs (filled trial by trial).
  const perRound: { masks: MaskSet; runs: Record<Arm, LotteryRun[]> }[] = [];
  let outcome: { masks: MaskSet; weights: WeightsBlock } | null = null;

  /** One training run: make a trainer, load weights and masks, train, measure, dispose. */
  const trainRun = async (trial: number, seed: number, o: { masks?: MaskSet; start?: WeightsBlock; maxSteps?: number; keepAt?: number }) => {
    await host.checkpoint();
    const kept: { at: Promise<WeightsBlock> | null } = { at: null };
    let every = s.evalEvery;
    const m = measurer(tf);
    const trainer = host.trainer({
      ...base,
      seed,
      ...(o.masks ? { masks: o.masks } : {}),
      ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
      onStep: (step) => {
        // exportWeights copies every weight before its first await: exactly step k.
        if (o.keepAt !== undefined && step === o.keepAt) kept.at = trainer.exportWeights();
        if (step % every === 0) m.measure(step);
      },
    });
    try {
      if (every === 0) every = Math.max(1, Math.round(trainer.stepsPerEpoch / 8));
      data.stepsPerRun = trainer.totalSteps;
      if (o.start) trainer.importWeights(o.start);
      const initial = await trainer.exportWeights();
      m.attach(trainer);
      await host.train(trainer);
      const rows = await m.finish(trainer.step);
      return { run: summarizeRun(trial, seed, rows), initial, trained: await trainer.exportWeights(), atK: kept.at ? await kept.at : null };
    } finally {
      trainer.dispose();
    }
  };

  const emit = () => {
    data.rounds = perRound.map((r, round) => {
      const p = remaining(weights, r.masks);
      return {
        round,
        fractionRemaining: r7(p.overall)!,
        fractionRemainingByLayer: Object.fromEntries(Object.entries(p.byLayer).map(([k, v]) => [k, r7(v)!])),
        ticket: summarizeArm(r.runs.ticket),
        randomReinit: round > 0 && s.controls ? summarizeArm(r.runs.randomReinit) : null,
        randomPruning: round > 0 && s.controls ? summarizeArm(r.runs.randomPruning) : null,
      };
    });
  };

  // Trial 0 trains on the file's own data and initial weights (the Dataset's seed); each
  // further trial takes the next seed. The controls' random choices follow the experiment's seed.
  const dataSeed = plan.dataset.params.seed;
  for (let trial = 0; trial < s.trials; trial++) {
    const seed = dataSeed + trial;
    const controlRng = createRng((host.seed * 7919 + trial) ^ 0x10771e);
    const dense = denseMasks(weights);
    // Round 0: the dense network, from W₀ (and W_k kept for late rewinding).
    const d = await trainRun(trial, seed, { ...(s.rewindStep > 0 ? { keepAt: s.rewindStep } : {}) });
    if (s.rewindStep > 0 && !d.atK) throw new Error(`the dense run took ${d.run.finalStep} steps, fewer than the rewind step ${s.rewindStep}`);
    const rewindTo = s.rewindStep > 0 ? d.atK! : d.initial;
    const roundSteps = s.rewindStep > 0 ? { maxSteps: d.run.finalStep - s.rewindStep } : {};
    (perRound[0] ??= { masks: dense, runs: { ticket: [], randomReinit: [], randomPruning: [] } }).runs.ticket.push(d.run);
    done++;
    emit();
    host.progress(done, totalRuns, data);
    const denseValues = valuesOf(d.trained, weights);
    let masks = dense;
    let trainedValues = denseValues;
    for (let round = 1; round <= s.rounds; round++) {
      masks =
        s.pruning === 'iterative'
          ? magnitudePrune(weights, trainedValues, masks, rate, s.scope)
          : magnitudePrune(weights, denseValues, dense, 1 - Math.pow(1 - rate, round), s.scope);
      const slot = (perRound[round] ??= { masks, runs: { ticket: [], randomReinit: [], randomPruning: [] } });
      const ticket = await trainRun(trial, seed, { masks, start: rewindTo, ...roundSteps });
      slot.runs.ticket.push(ticket.run);
      trainedValues = valuesOf(ticket.trained, weights);
      if (trial === 0 && round === s.rounds) {
        outcome = { masks, weights: ticket.trained };
        data.ticketMasks = masksToBlock(masks);
      }
      done++;
      emit();
      host.progress(done, totalRuns, data);
      if (!s.controls) continue;
      // Random reinitialization: the ticket's masks, a fresh W₀′ (another seed's initializers).
      const fresh = encodeWeightsBlock(initialWeights(doc, controlRng.int(2 ** 31)), { step: 0, epoch: 0, backend: 'init' });
      slot.runs.randomReinit.push((await trainRun(trial, seed, { masks, start: fresh, ...roundSteps })).run);
      done++;
      emit();
      host.progress(done, totalRuns, data);
      // Random pruning: masks of the same per-layer sparsity at random places, from W₀ (or W_k).
      slot.runs.randomPruning.push((await trainRun(trial, seed, { masks: randomMasksLike(weights, masks, controlRng), start: rewindTo, ...roundSteps })).run);
      done++;
      emit();
      host.progress(done, totalRuns, data);
    }
  }
  emit();
  return { data, masks: outcome!.masks, weights: outcome!.weights };
}

/** The lines `gradflow experiment lottery` prints at the end: one per round. */
export function describeLottery(data: LotteryData): string[] {
  const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(2).padStart(6)}`);
  const it = (v: number | null) => (v === null ? '     -' : String(Math.round(v)).padStart(6));
  const lines = ['round  P_m (%)   ticket acc  early-stop  reinit acc  early-stop  random acc  early-stop'];
  for (const r of data.rounds) {
    lines.push(
      `${String(r.round).padStart(5)}  ${(100 * r.fractionRemaining).toFixed(2).padStart(7)}   ${pct(r.ticket.testAccuracyAtEarlyStop)} %    ${it(r.ticket.earlyStopIteration)}` +
        (r.randomReinit ? `    ${pct(r.randomReinit.testAccuracyAtEarlyStop)} %    ${it(r.randomReinit.earlyStopIteration)}` : '') +
        (r.randomPruning ? `    ${pct(r.randomPruning.testAccuracyAtEarlyStop)} %    ${it(r.randomPruning.earlyStopIteration)}` : ''),
    );
  }
  return lines;
}

/**
 * The graph with a result's sparsest winning ticket on it: its masks (the canvas then shows
 * each layer's sparsity and the mask view). Trained weights the file holds are kept; the
 * trainer zeros their pruned entries when it loads them.
 */
export function applyLotteryTicket(doc: GraphDocument, data: LotteryData): GraphDocument {
  if (!data.ticketMasks) return doc;
  // Decoding checks every mask (length, kept count) before it reaches the document.
  masksFromBlock(data.ticketMasks);
  return { ...doc, masks: data.ticketMasks };
}

/** The experiment, as the framework, the CLI, the file and the app's Experiments panel see it. */
export const lottery = defineExperiment({
  name: 'lottery',
  title: 'Lottery tickets',
  summary: 'Iterative magnitude pruning with rewinding (Frankle & Carbin 2019): test accuracy and early-stopping iteration against the fraction of weights remaining, for winning tickets, random reinitialization and random pruning.',
  settings: lotterySettings,
  dataVersion: 1,
  data: lotteryData,
  check: (doc, s) => {
    const problem = lotteryProblem(doc);
    if (problem) return problem;
    try {
      lotteryRate(resolveLotterySettings(s as LotterySettings));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  },
  run: async (ctx, s) => {
    const outcome = await runLottery(
      {
        tf: ctx.tf,
        doc: ctx.doc,
        seed: ctx.seed,
        // Every run starts from fresh initial weights; the runner loads W₀, W_k or W₀′ itself.
        trainer: (options) => ctx.trainer({ weights: null, options }),
        train: (t) => ctx.train(t),
        checkpoint: () => ctx.checkpoint(),
        progress: (done, total, partial) => ctx.progress(done, total, partial as unknown as JsonRecord),
      },
      s as LotterySettings,
    );
    return outcome.data;
  },
  describe: (data) => describeLottery(data),
  apply: (doc, data) => applyLotteryTicket(doc, data),
  trainsFromScratch: true,
});
