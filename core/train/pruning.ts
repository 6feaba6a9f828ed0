/**
 * Magnitude pruning as in Frankle & Carbin (2019) and facebookresearch/open_lth, on the host:
 * pure functions of weights and masks, so each rule is tested without TensorFlow.js.
 *
 * - Per layer (open_lth's sparse_layerwise, the paper's LeNet rule): each prunable weight
 *   loses ⌈rate · kept⌉ of its surviving entries, those of smallest |w|; the output layer
 *   prunes at half the rate.
 * - Global (open_lth's sparse_global): ⌈rate · kept⌉ of all surviving prunable entries of the
 *   network, smallest |w| first, wherever they are.
 *
 * open_lth compares against a threshold, so equal magnitudes at the threshold make the count
 * come out differently; here exactly ⌈rate · kept⌉ entries are pruned, and ties are broken by
 * position (the earlier layer, then the lower row-major index goes first), so the same weights
 * always give the same mask. Biases are never prunable (see WeightSpec.prunable).
 */
import type { Plan } from '../compile/plan.ts';
import type { Rng } from '../data/rng.ts';
import { keptCount, type MaskSet } from '../io/masks.ts';

/** One prunable weight of a plan, in plan (topological) order. */
export interface PrunableWeight {
  nodeId: string;
  name: string;
  shape: number[];
  size: number;
  /** A layer whose output reaches the prediction without passing another prunable layer. */
  isOutput: boolean;
}

/** Per layer (the paper's LeNet rule) or over the whole network (open_lth's sparse_global). */
export type PruningScope = 'layer' | 'global';
export const PRUNING_SCOPES: readonly PruningScope[] = ['layer', 'global'];

/** The prunable weights of a plan, with the output layers marked. */
export function prunableWeights(plan: Plan): PrunableWeight[] {
  const prunableNodes = new Set(plan.nodes.filter((n) => n.weights.some((w) => w.prunable)).map((n) => n.id));
  // Walk back from the prediction through nodes without prunable weights: the prunable
  // nodes met first are the output layers (Dense → Softmax-free logits, or via an Add).
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const outputs = new Set<string>();
  const seen = new Set<string>();
  const stack = [plan.output.source];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (prunableNodes.has(id)) {
      outputs.add(id);
      continue;
    }
    for (const inputs of Object.values(byId.get(id)?.inputs ?? {})) for (const i of inputs) stack.push(i.source);
  }
  const out: PrunableWeight[] = [];
  for (const n of plan.nodes) {
    for (const w of n.weights) {
      if (!w.prunable) continue;
      out.push({ nodeId: n.id, name: w.name, shape: [...w.shape], size: w.shape.reduce((a, b) => a * b, 1), isOutput: outputs.has(n.id) });
    }
  }
  return out;
}

/** Masks keeping every prunable weight (round 0, the dense network). */
export function denseMasks(weights: readonly PrunableWeight[]): MaskSet {
  const out: MaskSet = {};
  for (const w of weights) (out[w.nodeId] ??= {})[w.name] = { shape: [...w.shape], bits: new Uint8Array(w.size).fill(1) };
  return out;
}

/** The trained values of the prunable weights, by node then name (row-major, as masks). */
export type WeightValues = Record<string, Record<string, Float32Array>>;

function maskOf(masks: MaskSet, w: PrunableWeight): Uint8Array {
  const m = masks[w.nodeId]?.[w.name];
  if (!m) throw new Error(`no mask for the ${w.name} of '${w.nodeId}'`);
  if (m.bits.length !== w.size) throw new Error(`the mask for the ${w.name} of '${w.nodeId}' has ${m.bits.length} entries, the weight ${w.size}`);
  return m.bits;
}

function valuesOf(values: WeightValues, w: PrunableWeight): Float32Array {
  const v = values[w.nodeId]?.[w.name];
  if (!v) throw new Error(`no trained values for the ${w.name} of '${w.nodeId}'`);
  if (v.length !== w.size) throw new Error(`the trained ${w.name} of '${w.nodeId}' has ${v.length} values, the weight ${w.size}`);
  return v;
}

/** How many of `kept` weights a rate prunes: ⌈rate · kept⌉, as open_lth counts. */
export function pruneCount(rate: number, kept: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`the pruning rate must be in [0, 1], got ${rate}`);
  // The small slack keeps float error (0.2 · 100 = 20.000000000000004) from pruning one more.
  return Math.min(kept, Math.ceil(rate * kept - 1e-9));
}

/**
 * Prune by magnitude: new masks that drop, among the surviving entries, those of smallest
 * |w| (exactly pruneCount of them, ties broken by position). `rate` is the fraction of the
 * surviving weights to prune this round; per layer, output layers prune at rate / 2.
 */
export function magnitudePrune(weights: readonly PrunableWeight[], values: WeightValues, masks: MaskSet, rate: number, scope: PruningScope): MaskSet {
  const next: MaskSet = {};
  const groups: PrunableWeight[][] = scope === 'global' ? [[...weights]] : weights.map((w) => [w]);
  for (const group of groups) {
    // Candidates: (|w|, group position) for every surviving entry of the group.
    const owners: number[] = [];
    const indices: number[] = [];
    const mags: number[] = [];
    group.forEach((w, g) => {
      const bits = maskOf(masks, w);
      const v = valuesOf(values, w);
      for (let i = 0; i < bits.length; i++) {
        if (!bits[i]) continue;
        owners.push(g);
        indices.push(i);
        mags.push(Math.abs(v[i]!));
      }
    });
    const layerRate = scope === 'layer' && group[0]!.isOutput ? rate / 2 : rate;
    const k = pruneCount(layerRate, mags.length);
    const order = Array.from(mags.keys());
    order.sort((a, b) => mags[a]! - mags[b]! || a - b);
    const newBits = group.map((w) => maskOf(masks, w).slice());
    for (let j = 0; j < k; j++) {
      const c = order[j]!;
      newBits[owners[c]!]![indices[c]!] = 0;
    }
    group.forEach((w, g) => ((next[w.nodeId] ??= {})[w.name] = { shape: [...w.shape], bits: newBits[g]! }));
  }
  return next;
}

/**
 * The random-pruning control: for each weight, a mask with the same number kept as `like`,
 * at positions drawn uniformly with `rng` (so the per-layer sparsity matches the ticket's).
 */
export function randomMasksLike(weights: readonly PrunableWeight[], like: MaskSet, rng: Rng): MaskSet {
  const out: MaskSet = {};
  for (const w of weights) {
    const kept = keptCount(maskOf(like, w));
    const order = new Uint32Array(w.size);
    for (let i = 0; i < w.size; i++) order[i] = i;
    rng.shuffle(order);
    const bits = new Uint8Array(w.size);
    for (let i = 0; i < kept; i++) bits[order[i]!] = 1;
    (out[w.nodeId] ??= {})[w.name] = { shape: [...w.shape], bits };
  }
  return out;
}

/**
 * The rate to prune each round. A fixed rate p per round (the paper's 20 %), or a target
 * fraction remaining after n rounds: each round keeps target^(1/n) of what survived, i.e.
 * prunes 1 − target^(1/n) (the course's "prune p^(1/n) % each round"). One-shot is n = 1.
 */
export function roundRate(schedule: { rounds: number } & ({ rate: number } | { target: number })): number {
  if (!(Number.isInteger(schedule.rounds) && schedule.rounds >= 1)) throw new RangeError(`rounds must be a whole number ≥ 1, got ${schedule.rounds}`);
  if ('rate' in schedule) {
    if (!(schedule.rate > 0 && schedule.rate < 1)) throw new RangeError(`the pruning rate per round must be in (0, 1), got ${schedule.rate}`);
    return schedule.rate;
  }
  if (!(schedule.target > 0 && schedule.target < 1)) throw new RangeError(`the target fraction remaining must be in (0, 1), got ${schedule.target}`);
  return 1 - Math.pow(schedule.target, 1 / schedule.rounds);
}

/**
 * The number kept in a weight of `size` entries after each of `rounds` rounds at `rate`
 * (index 0 = dense): what magnitudePrune and the control masks must reach, and P_m · size.
 */
export function keptSchedule(size: number, rate: number, rounds: number): number[] {
  const out = [size];
  for (let r = 0; r < rounds; r++) out.push(out[r]! - pruneCount(rate, out[r]!));
  return out;
}
