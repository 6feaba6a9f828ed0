/**
 * Pruning masks as a user relies on them: pruned weights are exactly zero after training with
 * every optimizer (and with penalties and clipping); magnitude pruning per layer and global
 * removes exactly the count the rule gives, ties broken the same way every time, the output
 * layer at half the rate; the random-pruning control keeps each layer's sparsity; P_m after n
 * rounds follows the schedule; masks survive the file, and damaged masks are refused with the
 * place named; 'what pruning saves' gives the known counts for LeNet-300-100.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { compilePlan, type Plan } from '../../core/compile/plan.ts';
import { createRng } from '../../core/data/rng.ts';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import { pruningSavings } from '../../core/graph/savings.ts';
import type { TF } from '../../core/graph/types.ts';
import { decodeFloat32 } from '../../core/io/base64.ts';
import { loadGraph } from '../../core/io/load.ts';
import { keptCount, masksFromBlock, masksToBlock, packMask, unpackMask, type MaskSet } from '../../core/io/masks.ts';
import { exportOnnx } from '../../core/io/export/onnx.ts';
import { decodeModel } from '../../core/io/onnx/proto.ts';
import { saveGraph } from '../../core/io/save.ts';
import { documentWeights } from '../../core/io/weights.ts';
import { OPTIMIZER_KINDS } from '../../core/train/optimizers.ts';
import { denseMasks, keptSchedule, magnitudePrune, prunableWeights, pruneCount, randomMasksLike, roundRate, type WeightValues } from '../../core/train/pruning.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { createEditorStore, savingsOf, undo } from '../../renderer/store/editor.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function mlp(o: { optimizer?: string; optParams?: Record<string, ParamValue>; lossPath?: [string, string, Record<string, ParamValue>][]; hidden?: string } = {}): GraphDocument {
  const g = new GraphBuilder('masked mlp');
  g.add('dataset', 'data', { source: 'blobs', samples: 120, classes: 3, batchSize: 16, validationFraction: 0.25, seed: 3 });
  const hidden = o.hidden ?? 'dense';
  const out = g.chain('data.x', [
    [hidden, 'fc1', { units: 12 }],
    ['relu', 'act'],
    ['dense', 'fc2', { units: 3 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  let prev = 'loss.loss';
  for (const [kind, id, params] of o.lossPath ?? []) {
    g.add(kind, id, params).wire(prev, `${id}.loss`);
    prev = `${id}.loss`;
  }
  g.add(o.optimizer ?? 'adam', 'optimizer', { learningRate: 0.05, epochs: 3, ...o.optParams }).wire(prev, 'optimizer.loss');
  return g.build();
}

function planOf(doc: GraphDocument): Plan {
  const r = compilePlan(doc);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.plan;
}

/** A random mask keeping about half of each prunable weight. */
function halfMasks(plan: Plan, seed = 5): MaskSet {
  const rng = createRng(seed);
  const out: MaskSet = {};
  for (const w of prunableWeights(plan)) {
    const bits = new Uint8Array(w.size);
    for (let i = 0; i < w.size; i++) bits[i] = rng.next() < 0.5 ? 1 : 0;
    (out[w.nodeId] ??= {})[w.name] = { shape: w.shape, bits };
  }
  return out;
}

async function weightValues(trainer: Trainer): Promise<WeightValues> {
  const block = await trainer.exportWeights();
  const out: WeightValues = {};
  for (const [nodeId, byName] of Object.entries(block.tensors)) for (const [name, t] of Object.entries(byName)) (out[nodeId] ??= {})[name] = decodeFloat32(t.data)!;
  return out;
}

describe('masked training', () => {
  it.each(OPTIMIZER_KINDS)('pruned weights are exactly zero after training with %s (with L1, L2 and clipping)', async (kind) => {
    const doc = mlp({ optimizer: kind, optParams: { clip: 'norm', clipValue: 1 }, lossPath: [['l1', 'l1', { alpha: 1e-3 }], ['l2', 'l2', { alpha: 1e-3 }]] });
    const plan = planOf(doc);
    const masks = halfMasks(plan);
    const before = tf.memory().numTensors;
    const trainer = Trainer.create(TFNS, doc, { masks });
    const first = await weightValues(trainer);
    const run = await trainer.run();
    expect(run.status).toBe('completed');
    const after = await weightValues(trainer);
    for (const w of prunableWeights(plan)) {
      const bits = masks[w.nodeId]![w.name]!.bits;
      const v = after[w.nodeId]![w.name]!;
      let moved = 0;
      for (let i = 0; i < bits.length; i++) {
        if (bits[i]) moved += v[i] !== first[w.nodeId]![w.name]![i] ? 1 : 0;
        else expect(v[i], `${w.nodeId}.${w.name}[${i}]`).toBe(0);
      }
      // The survivors did train.
      expect(moved).toBeGreaterThan(0);
    }
    // Biases are not masked and train as usual.
    expect(Array.from(after.fc1!.bias!).some((b) => b !== 0)).toBe(true);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weights loaded from a file are masked too, and the masks survive Evaluate and prediction', async () => {
    const doc = mlp();
    const plan = planOf(doc);
    const masks = halfMasks(plan, 9);
    const dense = Trainer.create(TFNS, doc);
    const block = await dense.exportWeights();
    dense.dispose();
    const trainer = Trainer.create(TFNS, doc, { masks });
    trainer.importWeights(block);
    const v = await weightValues(trainer);
    const bits = masks.fc1!.kernel!.bits;
    for (let i = 0; i < bits.length; i++) if (!bits[i]) expect(v.fc1!.kernel![i]).toBe(0);
    trainer.dispose();
  });

  it('a mask that does not fit the graph is refused with the node named', () => {
    const doc = mlp();
    expect(() => Trainer.create(TFNS, doc, { masks: { fc1: { kernel: { shape: [3, 3], bits: new Uint8Array(9).fill(1) } } } })).toThrow(/Dense 'fc1'.*9 entries.*24/);
    expect(() => Trainer.create(TFNS, doc, { masks: { fc1: { bias: { shape: [12], bits: new Uint8Array(12).fill(1) } } } })).toThrow(/bias of Dense 'fc1' cannot be pruned/);
    expect(() => Trainer.create(TFNS, doc, { masks: { nope: {} } })).toThrow(/'nope'/);
  });

  it('RBF units with a pruned centre coordinate ignore that input', () => {
    const doc = mlp({ hidden: 'rbf' });
    const plan = planOf(doc);
    const masks = halfMasks(plan, 2);
    const trainer = Trainer.create(TFNS, doc, { masks });
    const x = tf.tensor2d([[0.3, -1.2], [2, 0.5]]);
    const c = trainer.program.weight('fc1', 'centers')!.variable;
    const m = masks.fc1!.centers!.bits;
    const logBeta = trainer.program.weight('fc1', 'logBeta')!.variable;
    const got = tf.tidy(() => {
      const r = trainer.program.forward({ x, y: tf.zeros([2, 3]), training: false, seed: () => 0 });
      return r.outputs.get('fc1')!.out!.arraySync() as number[][];
    });
    const cv = c.arraySync() as number[][];
    const beta = (logBeta.arraySync() as number[]).map(Math.exp);
    const xv = x.arraySync();
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 12; j++) {
        let d2 = 0;
        for (let i = 0; i < 2; i++) if (m[i * 12 + j]) d2 += (xv[b]![i]! - cv[i]![j]!) ** 2;
        expect(got[b]![j]!).toBeCloseTo(Math.exp(-beta[j]! * d2), 5);
      }
    }
    x.dispose();
    trainer.dispose();
  });
});

describe('magnitude pruning', () => {
  const plan = planOf(mlp());
  const weights = prunableWeights(plan);

  it('finds the prunable weights and the output layer', () => {
    expect(weights.map((w) => `${w.nodeId}.${w.name}:${w.size}:${w.isOutput}`)).toEqual(['fc1.kernel:24:false', 'fc2.kernel:36:true']);
  });

  /** Values 1..n in a fixed shuffled order, so the smallest are known. */
  function ramp(seed: number): WeightValues {
    const out: WeightValues = {};
    const rng = createRng(seed);
    for (const w of weights) {
      const v = new Float32Array(w.size);
      for (let i = 0; i < w.size; i++) v[i] = (i + 1) * (rng.next() < 0.5 ? -1 : 1);
      rng.shuffle(v);
      (out[w.nodeId] ??= {})[w.name] = v;
    }
    return out;
  }

  it('per layer: each layer loses ⌈p · kept⌉ of its smallest |w|, the output layer ⌈p/2 · kept⌉', () => {
    const values = ramp(1);
    const masks = magnitudePrune(weights, values, denseMasks(weights), 0.2, 'layer');
    expect(keptCount(masks.fc1!.kernel!.bits)).toBe(24 - Math.ceil(0.2 * 24));
    expect(keptCount(masks.fc2!.kernel!.bits)).toBe(36 - Math.ceil(0.1 * 36));
    for (const w of weights) {
      const v = values[w.nodeId]![w.name]!;
      const bits = masks[w.nodeId]![w.name]!.bits;
      const maxPruned = Math.max(...Array.from(v).filter((_, i) => !bits[i]).map(Math.abs));
      const minKept = Math.min(...Array.from(v).filter((_, i) => bits[i]).map(Math.abs));
      expect(maxPruned).toBeLessThan(minKept);
    }
  });

  it('global: ⌈p · kept⌉ of all surviving weights, smallest first, wherever they are', () => {
    const values: WeightValues = { fc1: { kernel: new Float32Array(24).fill(0.001) }, fc2: { kernel: new Float32Array(36).fill(5) } };
    values.fc2!.kernel![7] = 0.0001;
    const masks = magnitudePrune(weights, values, denseMasks(weights), 0.25, 'global');
    // 15 of 60: the tiny fc2 weight and 14 of fc1's (all equal: the first 14 by position).
    expect(masks.fc2!.kernel!.bits[7]).toBe(0);
    expect(keptCount(masks.fc2!.kernel!.bits)).toBe(35);
    expect(Array.from(masks.fc1!.kernel!.bits)).toEqual([...new Array(14).fill(0), ...new Array(10).fill(1)]);
  });

  it('ties are broken by position, the same way every time, and only survivors are pruned', () => {
    const values: WeightValues = { fc1: { kernel: new Float32Array(24).fill(-0.5) }, fc2: { kernel: new Float32Array(36).fill(0.5) } };
    const start = denseMasks(weights);
    start.fc1!.kernel!.bits[0] = 0;
    start.fc1!.kernel!.bits[3] = 0;
    const a = magnitudePrune(weights, values, start, 0.5, 'layer');
    const b = magnitudePrune(weights, values, start, 0.5, 'layer');
    expect(a).toEqual(b);
    // 22 survivors, 11 pruned: positions 1, 2, 4..12.
    expect(Array.from(a.fc1!.kernel!.bits).map((x, i) => (x ? -1 : i)).filter((i) => i >= 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('P_m after n rounds equals the schedule, for a fixed rate and for a target', () => {
    let masks = denseMasks(weights);
    const rng = createRng(4);
    for (let r = 0; r < 5; r++) {
      const values: WeightValues = {};
      for (const w of weights) (values[w.nodeId] ??= {})[w.name] = Float32Array.from({ length: w.size }, () => rng.normal());
      masks = magnitudePrune(weights, values, masks, 0.2, 'layer');
    }
    expect(keptCount(masks.fc1!.kernel!.bits)).toBe(keptSchedule(24, 0.2, 5)[5]);
    expect(keptCount(masks.fc2!.kernel!.bits)).toBe(keptSchedule(36, 0.1, 5)[5]);
    expect(keptSchedule(1000, 0.2, 3)).toEqual([1000, 800, 640, 512]);
    // The course's form: reach 10 % remaining in 4 rounds, each keeping 0.1^(1/4).
    const p = roundRate({ rounds: 4, target: 0.1 });
    expect(Math.pow(1 - p, 4)).toBeCloseTo(0.1, 12);
    expect(keptSchedule(100_000, p, 4)[4]! / 100_000).toBeCloseTo(0.1, 3);
    expect(roundRate({ rounds: 3, rate: 0.2 })).toBe(0.2);
    expect(() => roundRate({ rounds: 0, rate: 0.2 })).toThrow(/rounds/);
    expect(pruneCount(0.2, 100)).toBe(20);
  });

  it('random pruning keeps exactly the ticket’s count in every layer, at other positions', () => {
    const ticket = magnitudePrune(weights, ramp(2), denseMasks(weights), 0.6, 'layer');
    const random = randomMasksLike(weights, ticket, createRng(11));
    for (const w of weights) expect(keptCount(random[w.nodeId]![w.name]!.bits)).toBe(keptCount(ticket[w.nodeId]![w.name]!.bits));
    expect(random.fc1!.kernel!.bits).not.toEqual(ticket.fc1!.kernel!.bits);
  });
});

describe('masks in the file', () => {
  it.each([1, 7, 8, 9, 784 * 300])('pack/unpack round trips %i entries', (n) => {
    const rng = createRng(n);
    const bits = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const text = packMask(bits);
    expect(text.length).toBe(4 * Math.ceil(Math.ceil(n / 8) / 3));
    expect(unpackMask(text, n)).toEqual(bits);
  });

  it('save and load keep the masks, and trained weights stay zero where pruned', async () => {
    const doc = mlp();
    const masks = halfMasks(planOf(doc), 3);
    const trainer = Trainer.create(TFNS, doc, { masks, maxSteps: 5 });
    await trainer.run();
    const saved = { ...doc, weights: await trainer.exportWeights(), masks: masksToBlock(masks) };
    trainer.dispose();
    const text = saveGraph(saved);
    expect(text.length).toBeLessThan(40_000);
    const r = loadGraph(text);
    if (!r.ok) throw r.error;
    expect(r.document.masks).toEqual(saved.masks);
    expect(masksFromBlock(r.document.masks!)).toEqual(masks);
    expect(saveGraph(r.document)).toBe(text);
    const kernel = decodeFloat32(r.document.weights!.tensors.fc1!.kernel!.data)!;
    masks.fc1!.kernel!.bits.forEach((b, i) => b || expect(kernel[i]).toBe(0));
  });

  it('exports honour the masks: pruned weights are zeros in the ONNX file, trained or not', async () => {
    const doc = mlp();
    const masks = halfMasks(planOf(doc), 8);
    const untrained = documentWeights({ ...doc, masks: masksToBlock(masks) });
    expect(untrained.trained).toBe(false);
    const trainer = Trainer.create(TFNS, doc, { maxSteps: 3 });
    await trainer.run();
    // Weights trained without the mask (saved before pruning): the export still zeros them.
    const trained = documentWeights({ ...doc, weights: await trainer.exportWeights(), masks: masksToBlock(masks) });
    trainer.dispose();
    for (const { weights } of [untrained, trained]) {
      const exported = exportOnnx(doc, weights);
      if (!exported.ok) throw new Error(exported.errors.join('\n'));
      const init = decodeModel(exported.value).graph.initializer;
      for (const nodeId of ['fc1', 'fc2']) {
        const bits = masks[nodeId]!.kernel!.bits;
        const kernel = weights[nodeId]!.kernel!.values;
        bits.forEach((b, i) => (b ? expect(kernel[i]).not.toBe(0) : expect(kernel[i]).toBe(0)));
        // The file's initializer for this kernel (named after the canvas label) holds exactly these values.
        const t = init.find((x) => x.name === `${nodeId}.kernel`)!;
        const stored = new Float32Array(new Uint8Array(t.rawData!).buffer);
        expect(Array.from(stored)).toEqual(Array.from(kernel));
      }
    }
  });

  const good = () => {
    const doc = mlp();
    return JSON.parse(saveGraph({ ...doc, masks: masksToBlock(halfMasks(planOf(doc))) })) as Record<string, unknown> & { masks: Record<string, Record<string, Record<string, unknown>>> };
  };
  it.each<[string, (f: ReturnType<typeof good>) => void, RegExp]>([
    ['a mask for a missing node', (f) => (f.masks.ghost = f.masks.fc1!), /masks\.ghost: a pruning mask for node 'ghost'/],
    ['data that is not base64', (f) => (f.masks.fc1!.kernel!.data = '!!!!'), /masks\.fc1\.kernel: the mask data is not 3 bytes of base64/],
    ['truncated data', (f) => (f.masks.fc1!.kernel!.data = 'AA=='), /not 3 bytes/],
    ['a wrong kept count', (f) => (f.masks.fc1!.kernel!.kept = 999), /"kept" says 999/],
    ['a negative kept count', (f) => (f.masks.fc1!.kernel!.kept = -1), /kept/],
    ['a missing shape', (f) => delete f.masks.fc1!.kernel!.shape, /"shape" is missing/],
    ['an unknown field', (f) => (f.masks.fc1!.kernel!.dtype = 'bool'), /unknown field "dtype"/],
    ['bits set past the end', (f) => {
      f.masks.fc1!.kernel!.shape = [2, 11];
      f.masks.fc1!.kernel!.data = packMask(new Uint8Array(24).fill(1));
      f.masks.fc1!.kernel!.kept = 22;
    }, /not 3 bytes|past|bit-packed/],
  ])('refuses %s with the place named', (_what, damage, message) => {
    const f = good();
    damage(f);
    const r = loadGraph(JSON.stringify(f));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(`${r.error.message}`).toMatch(message);
  });
});

describe('masks in the editor', () => {
  it('applying masks is one undo step; deleting a node drops its mask; the savings follow', () => {
    const doc = mlp();
    const store = createEditorStore(doc);
    const block = masksToBlock(halfMasks(planOf(doc), 6));
    store.getState().setMasks(block);
    expect(store.getState().doc.masks).toEqual(block);
    expect(savingsOf(store.getState().doc).nodes.find((n) => n.nodeId === 'fc1')!.pruned).toBe(true);
    store.getState().select(['fc2']);
    store.getState().deleteSelection();
    expect(Object.keys(store.getState().doc.masks!)).toEqual(['fc1']);
    undo(store);
    undo(store);
    expect(store.getState().doc.masks).toBeUndefined();
  });
});

describe('what pruning saves', () => {
  function lenet(): GraphDocument {
    const g = new GraphBuilder('LeNet-300-100');
    g.add('dataset', 'data', { source: 'mnist', samples: 1000 });
    const out = g.chain('data.x', [
      ['flatten', 'flat'],
      ['dense', 'fc1', { units: 300 }],
      ['relu', 'r1'],
      ['dense', 'fc2', { units: 100 }],
      ['relu', 'r2'],
      ['dense', 'fc3', { units: 10 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'optimizer').wire('loss.loss', 'optimizer.loss');
    return g.build();
  }

  it('LeNet-300-100 dense: 266,610 parameters, 532,810 FLOPs, 1,066,440 bytes', () => {
    const doc = lenet();
    const s = pruningSavings(doc, analyzeGraph(doc));
    expect(s.total.params).toBe(266_610);
    expect(s.total.flops).toBe(2 * (784 * 300 + 300 * 100 + 100 * 10) + 410);
    expect(s.total.bytesDense).toBe(4 * 266_610);
    expect(s.total.bytesSparse).toBe(s.total.bytesDense);
    expect(s.total.fractionKept).toBe(1);
  });

  it('with masks: kept values plus one bit per weight, FLOPs of the kept weights only', () => {
    const doc = lenet();
    const plan = planOf(doc);
    const weights = prunableWeights(plan);
    const values: WeightValues = {};
    const rng = createRng(1);
    for (const w of weights) (values[w.nodeId] ??= {})[w.name] = Float32Array.from({ length: w.size }, () => rng.normal());
    let masks = denseMasks(weights);
    for (let r = 0; r < 3; r++) masks = magnitudePrune(weights, values, masks, 0.2, 'layer');
    const s = pruningSavings({ ...doc, masks: masksToBlock(masks) }, analyzeGraph(doc));
    const fc1 = s.nodes.find((n) => n.nodeId === 'fc1')!;
    const kept1 = keptSchedule(784 * 300, 0.2, 3)[3]!;
    expect(fc1.paramsKept).toBe(kept1 + 300);
    expect(fc1.flopsKept).toBe(2 * kept1 + 300);
    expect(fc1.bytesSparse).toBe(4 * kept1 + (784 * 300) / 8 + 4 * 300);
    const fc3 = s.nodes.find((n) => n.nodeId === 'fc3')!;
    expect(fc3.paramsKept - 10).toBe(keptSchedule(1000, 0.1, 3)[3]);
    expect(s.total.fractionKept).toBeCloseTo((keptSchedule(235_200, 0.2, 3)[3]! + keptSchedule(30_000, 0.2, 3)[3]! + keptSchedule(1000, 0.1, 3)[3]!) / 266_200, 12);
  });

  it('gradflow check prints the savings, and --json carries them', async () => {
    const doc = lenet();
    const weights = prunableWeights(planOf(doc));
    const masks = denseMasks(weights);
    masks.fc1!.kernel!.bits.fill(0, 0, 235_200 / 2);
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-prune-'));
    try {
      const path = join(dir, 'lenet.nngraph');
      writeFileSync(path, saveGraph({ ...doc, masks: masksToBlock(masks) }));
      let out = '';
      const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t), isTTY: false };
      expect(await main(['check', path], io)).toBe(0);
      expect(out).toContain('What pruning saves (P_m = 55.8 % of the prunable weights remain');
      expect(out).toContain('parameters   266,610 dense -> 149,010 kept');
      expect(out).toContain('storage      1.07 MB dense -> 625.4 kB sparse');
      expect(out).toMatch(/fc1: 50\.0 % of its weights kept/);
      out = '';
      expect(await main(['check', path, '--json'], io)).toBe(0);
      const report = JSON.parse(out) as { savings: { total: { paramsKept: number; flopsKept: number } } };
      expect(report.savings.total.paramsKept).toBe(149_010);
      expect(report.savings.total.flopsKept).toBe(532_810 - 235_200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
