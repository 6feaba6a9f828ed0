/**
 * The lottery-ticket experiment as a user relies on it: P_m after each round follows the
 * schedule; each round's ticket starts from exactly W₀ (or W_k with late rewinding) on its
 * survivors and 0 elsewhere; the random-reinitialization control has the ticket's masks and
 * other initial weights, the random-pruning control the ticket's per-layer sparsity at other
 * places; every run is measured (early-stopping iteration, accuracies, curves); the same
 * seed gives the same result; no tensor is left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLotteryTicket, describeLottery, lottery, lotteryData, lotteryProblem, runLottery, type LotteryHost, type LotterySettings } from '../../core/experiments/lottery.ts';
import { runExperiment } from '../../core/experiments/framework.ts';
import { main } from '../../core/cli/main.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { masksFromBlock } from '../../core/io/masks.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePlan } from '../../core/compile/plan.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument, WeightsBlock } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { keptCount, type MaskSet } from '../../core/io/masks.ts';
import { decodeWeightsBlock } from '../../core/io/weights.ts';
import { keptSchedule, prunableWeights } from '../../core/train/pruning.ts';
import { Trainer, type TrainerOptions } from '../../core/train/trainer.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function blobs(): GraphDocument {
  const g = new GraphBuilder('lottery blobs');
  g.add('dataset', 'data', { source: 'blobs', samples: 240, classes: 3, batchSize: 24, validationFraction: 0.25, seed: 4 });
  const out = g.chain('data.x', [
    ['dense', 'fc1', { units: 20 }],
    ['relu', 'act'],
    ['dense', 'fc2', { units: 3 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.02, epochs: 2 }).wire('loss.loss', 'optimizer.loss');
  return g.build();
}

const SETTINGS: LotterySettings = { rounds: 2, schedule: 'rate', rate: 0.5, target: 0.1, pruning: 'iterative', scope: 'layer', rewindStep: 0, controls: true, trials: 1, epochs: 0, evalEvery: 3 };

interface Seen {
  masks: MaskSet | undefined;
  /** The weights a run starts training from. */
  start: WeightsBlock;
  options: TrainerOptions;
}

function host(doc: GraphDocument, seen: Seen[] = []): LotteryHost {
  return {
    tf: TFNS,
    doc,
    seed: 1,
    trainer: (options) => {
      const t = Trainer.create(TFNS, doc, options);
      seen.push({ masks: options.masks, start: null as unknown as WeightsBlock, options });
      return t;
    },
    train: async (t) => {
      seen[seen.length - 1]!.start = await t.exportWeights();
      return t.run();
    },
    checkpoint: async () => {},
    progress: () => {},
  };
}

describe('lottery tickets', () => {
  it('P_m follows the schedule; tickets rewind to W₀ on the survivors; controls match the ticket’s sparsity', async () => {
    const doc = blobs();
    const seen: Seen[] = [];
    const before = tf.memory().numTensors;
    const outcome = await runLottery(host(doc, seen), SETTINGS);
    expect(tf.memory().numTensors).toBe(before);
    const data = lotteryData.parse(outcome.data);
    // Dense, then (ticket, reinit, random) per round.
    expect(seen).toHaveLength(1 + 3 * SETTINGS.rounds);
    expect(data.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    const plan = compilePlan(doc);
    if (!plan.ok) throw new Error('plan');
    const weights = prunableWeights(plan.plan);
    for (const r of data.rounds) {
      const fc1 = keptSchedule(40, 0.5, r.round)[r.round]!;
      const fc2 = keptSchedule(60, 0.25, r.round)[r.round]!;
      expect(r.fractionRemainingByLayer['fc1.kernel']).toBeCloseTo(fc1 / 40, 6);
      expect(r.fractionRemainingByLayer['fc2.kernel']).toBeCloseTo(fc2 / 60, 6);
      expect(r.fractionRemaining).toBeCloseTo((fc1 + fc2) / 100, 6);
    }
    const w0 = decodeWeightsBlock(seen[0]!.start);
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      const [ticket, reinit, random] = seen.slice(1 + 3 * (round - 1), 4 + 3 * (round - 1));
      const start = decodeWeightsBlock(ticket!.start);
      const reinitStart = decodeWeightsBlock(reinit!.start);
      for (const w of weights) {
        const bits = ticket!.masks![w.nodeId]![w.name]!.bits;
        const s = start[w.nodeId]![w.name]!.values;
        const initial = w0[w.nodeId]![w.name]!.values;
        bits.forEach((b, i) => expect(s[i]).toBe(b ? initial[i] : 0));
        // Random reinitialization: the same masks, other initial values.
        expect(reinit!.masks![w.nodeId]![w.name]!.bits).toEqual(bits);
        expect(Array.from(reinitStart[w.nodeId]![w.name]!.values).filter((v, i) => bits[i] && v !== initial[i]).length).toBeGreaterThan(0);
        // Random pruning: the same count kept in every layer, at other places.
        const rb = random!.masks![w.nodeId]![w.name]!.bits;
        expect(keptCount(rb)).toBe(keptCount(bits));
        expect(rb).not.toEqual(bits);
      }
      // Biases rewind to W₀ too (they are never pruned).
      expect(Array.from(start.fc1!.bias!.values)).toEqual(Array.from(w0.fc1!.bias!.values));
    }
    // Every run was measured: curves from step 0 to the end, the early-stopping step among them.
    for (const r of data.rounds) {
      for (const arm of [r.ticket, ...(r.round > 0 ? [r.randomReinit!, r.randomPruning!] : [])]) {
        const run = arm.trials[0]!;
        expect(run.steps[0]).toBe(0);
        expect(run.steps.at(-1)).toBe(run.finalStep);
        expect(run.finalStep).toBe(data.stepsPerRun);
        expect(run.steps).toContain(run.earlyStopIteration);
        expect(run.finalTestAccuracy).toBeGreaterThanOrEqual(0);
        expect(run.validationLoss.every((v) => v !== null && v > 0)).toBe(true);
      }
    }
    expect(data.rounds[0]!.randomReinit).toBeNull();
    // The dense network learns the blobs.
    expect(data.rounds[0]!.ticket.finalTestAccuracy!).toBeGreaterThan(0.8);
    // The outcome is the last ticket: its masks and trained weights, zero where pruned.
    expect(outcome.masks).toEqual(seen[1 + 3 * (SETTINGS.rounds - 1)]!.masks);
    const trained = decodeWeightsBlock(outcome.weights);
    outcome.masks.fc1!.kernel!.bits.forEach((b, i) => b || expect(trained.fc1!.kernel!.values[i]).toBe(0));
    // The ticket's masks travel in the result, and Apply puts them on the graph.
    expect(masksFromBlock(data.ticketMasks!)).toEqual(outcome.masks);
    expect(applyLotteryTicket(doc, data).masks).toEqual(data.ticketMasks);
    expect(describeLottery(data)).toHaveLength(4);
  });

  it('late rewinding resets the survivors to their values at step k and trains the remaining steps', async () => {
    const doc = blobs();
    const seen: Seen[] = [];
    const k = 4;
    const outcome = await runLottery(host(doc, seen), { ...SETTINGS, rounds: 1, controls: false, rewindStep: k });
    // W_k, independently: the dense run stopped after k steps (same file, seed and backend).
    const probe = Trainer.create(TFNS, doc, { instrument: false, maxSteps: k });
    await probe.run();
    const wk = decodeWeightsBlock(await probe.exportWeights());
    probe.dispose();
    const start = decodeWeightsBlock(seen[1]!.start);
    const bits = seen[1]!.masks!.fc1!.kernel!.bits;
    bits.forEach((b, i) => expect(start.fc1!.kernel!.values[i]).toBe(b ? wk.fc1!.kernel!.values[i] : 0));
    expect(seen[1]!.options.maxSteps).toBe(outcome.data.stepsPerRun - k);
    expect(outcome.data.rounds[1]!.ticket.trials[0]!.finalStep).toBe(outcome.data.stepsPerRun - k);
  });

  it('one-shot pruning, a target schedule and global scope reach the target P_m', async () => {
    const doc = blobs();
    const outcome = await runLottery(host(doc), { ...SETTINGS, rounds: 2, schedule: 'target', target: 0.25, pruning: 'oneshot', scope: 'global', controls: false, epochs: 1 });
    const last = outcome.data.rounds.at(-1)!;
    expect(last.fractionRemaining).toBeCloseTo(0.25, 2);
    expect(outcome.data.rounds[1]!.fractionRemaining).toBeCloseTo(0.5, 2);
  });

  it('is deterministic for a seed, and several trials give error bars', async () => {
    const doc = blobs();
    const s = { ...SETTINGS, rounds: 1, trials: 2, epochs: 1 };
    const a = await runLottery(host(doc), s);
    const b = await runLottery(host(doc), s);
    expect(a.data).toEqual(b.data);
    const arm = a.data.rounds[1]!.ticket;
    // Trial 0 is the file's own run (the Dataset's seed, 4); the next takes the next seed.
    expect(arm.trials.map((t) => t.seed)).toEqual([4, 5]);
    const accs = arm.trials.map((t) => t.testAccuracyAtEarlyStop!);
    expect(arm.testAccuracyRange).toEqual([Math.min(...accs), Math.max(...accs)]);
  });

  it('says why a graph cannot take part', () => {
    const g = new GraphBuilder('regression');
    g.add('dataset', 'data', { source: 'regression' });
    const out = g.chain('data.x', [['dense', 'fc', { units: 1 }]]);
    g.add('meanSquaredError', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'optimizer').wire('loss.loss', 'optimizer.loss');
    expect(lotteryProblem(g.build())).toMatch(/classifier/);
    expect(lotteryProblem(blobs())).toBeNull();
  });

  it('runs through the experiments framework: settings checked, presets applied, the result stored and read back', async () => {
    const doc = blobs();
    const before = tf.memory().numTensors;
    const result = await runExperiment(lottery, { tf: TFNS, doc, settings: { rounds: 1, rate: 0.3, controls: true, epochs: 1 }, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('completed');
    const data = lotteryData.parse(result.data);
    expect(data.rounds).toHaveLength(2);
    expect(data.rounds[1]!.randomPruning!.trials).toHaveLength(1);
    await expect(runExperiment(lottery, { tf: TFNS, doc, settings: { rate: 1.5 } })).rejects.toThrow(/rate.*Rate per round/);
    await expect(runExperiment(lottery, { tf: TFNS, doc, settings: { rounds: 0 } })).rejects.toThrow(/rounds/);
  });

  it('gradflow experiment lottery FILE --rounds N --rate P --controls --out --save', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-lottery-'));
    try {
      const file = join(dir, 'blobs.nngraph');
      writeFileSync(file, saveGraph(blobs()));
      let out = '';
      const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t), isTTY: false };
      const code = await main(['experiment', 'lottery', file, '--rounds', '2', '--rate', '0.4', '--controls', '--epochs', '1', '--backend', 'cpu', '--out', join(dir, 'r.json'), '--save', join(dir, 'ticket.nngraph')], io);
      expect(out).toMatch(/round\s+P_m/);
      expect(code).toBe(0);
      const r = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { experiment: string; data: { rounds: { fractionRemaining: number; ticket: { testAccuracyAtEarlyStop: number }; randomReinit: unknown; randomPruning: unknown }[] } };
      expect(r.experiment).toBe('lottery');
      expect(r.data.rounds.map((x) => x.fractionRemaining)).toEqual([1, expect.any(Number), expect.any(Number)]);
      expect(r.data.rounds[2]!.randomReinit).not.toBeNull();
      const saved = loadGraph(readFileSync(join(dir, 'ticket.nngraph')));
      if (!saved.ok) throw saved.error;
      // The saved graph carries the ticket's masks and the result.
      expect(saved.document.masks?.fc1?.kernel?.kept).toBe(Math.round(40 * 0.6 * 0.6));
      expect(saved.document.experiments?.results[0]?.experiment).toBe('lottery');
      out = '';
      expect(await main(['experiment', 'lottery', file, '--rate', '2'], io)).toBe(1);
      expect(out).toMatch(/Rate per round/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
