/**
 * The catalogue's contract: what a kind of each role must define, so that adding a kind
 * means adding one definition, and the rest of the app (trainer, compiler, UI) derives
 * what it needs from it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../core/graph/catalogue.ts';
import { OPTIMIZER_HYPER } from '../../core/graph/kinds/optimizers.ts';
import { defaultParams } from '../../core/graph/params.ts';
import type { AnyKindDef } from '../../core/graph/types.ts';
import { OPTIMIZER_KINDS, createOptimizer, optimizerSettings } from '../../core/train/optimizers.ts';
import { buildData, dataNeeds, loadDataResources } from '../../core/data/sources.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const ofRole = (role: string) => catalogue.filter((d) => d.role === role);

/** The value of a penalty kind's term for the weights `w`, or null when it adds none. */
function penaltyValue(def: AnyKindDef, w: number[], params: Record<string, unknown>): number | null {
  let value: number | null = null;
  tf.tidy(() => {
    const t = def.penalty!(tf, tf.tensor1d(w), params);
    value = t === null ? null : t.dataSync()[0]!;
  });
  return value;
}

describe('optimizer kinds carry their update rule', () => {
  it('the trainer offers exactly the catalogue’s optimizer kinds, in palette order', () => {
    expect(OPTIMIZER_KINDS).toEqual(ofRole('optimizer').map((d) => d.kind));
    expect(OPTIMIZER_KINDS.length).toBeGreaterThan(0);
  });

  it.each(ofRole('optimizer').map((d) => [d.kind, d] as const))('%s has a rule whose hyper-parameters are its own params, from the shared table', (_kind, def) => {
    expect(def.optimizer).toBeDefined();
    for (const name of def.optimizer!.hyper) {
      expect(Object.keys(def.params)).toContain(name);
      expect(Object.keys(OPTIMIZER_HYPER)).toContain(name);
    }
    // Every number param that is not shared by all optimizers is a hyper-parameter the rule reads.
    const shared = new Set(Object.keys(ofRole('optimizer')[0]!.params));
    const own = Object.keys(def.params).filter((k) => !shared.has(k) && k !== 'learningRate');
    expect([...def.optimizer!.hyper].sort()).toEqual(own.sort());
    expect(new Set(def.optimizer!.slots).size).toBe(def.optimizer!.slots.length);
  });

  it('settings from a node take its params and the table’s defaults for the rest', () => {
    const s = optimizerSettings('rmsprop', { rho: 0.8, epsilon: 1e-6, learningRate: 0.1 });
    expect(s).toEqual({ kind: 'rmsprop', momentum: OPTIMIZER_HYPER.momentum.default, rho: 0.8, beta1: OPTIMIZER_HYPER.beta1.default, beta2: OPTIMIZER_HYPER.beta2.default, epsilon: 1e-6 });
    expect(() => optimizerSettings('dense', {})).toThrow(/unknown optimizer kind "dense"/);
  });

  it('an out-of-range hyper-parameter is refused with its name and range, an unknown kind by name', () => {
    expect(() => createOptimizer(tf, { ...optimizerSettings('adam', {}), beta2: 1 })).toThrow(/adam: beta2 \(ρ₂\): expected a number ≥ 0 and < 1, got 1/);
    expect(() => createOptimizer(tf, { ...optimizerSettings('adam', {}), kind: 'nope' as 'adam' })).toThrow(/unknown optimizer kind "nope"/);
  });

  it.each(OPTIMIZER_KINDS.map((k) => [k]))('%s keeps one state tensor per slot and variable', (kind) => {
    const w = tf.variable(tf.tensor1d([1, -2, 3]), true, `kinds-test/${kind}`);
    const g = tf.tensor1d([0.5, 0.5, -1]);
    const before = tf.memory().numTensors;
    const opt = createOptimizer(tf, optimizerSettings(kind, {}));
    opt.apply([w], [g], 0.1);
    const slots = catalogue.find((d) => d.kind === kind)!.optimizer!.slots;
    expect(opt.getState().map((s) => s.name)).toEqual(slots.map((s) => `kinds-test/${kind}/${s}`));
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, g]);
  });
});

describe('penalty kinds carry their term', () => {
  it.each(ofRole('penalty').map((d) => [d.kind, d] as const))('%s defines penalty(tf, w, params), zero-free for its defaults', (_kind, def) => {
    expect(def.penalty).toBeTypeOf('function');
    const before = tf.memory().numTensors;
    const value = penaltyValue(def, [1, -2, 3, -4], defaultParams(def.params));
    expect(value).not.toBeNull();
    expect(value!).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('L1 is α Σ|W| and L2 is (α/2) Σ W²; α = 0 adds no term', () => {
    const [l1, l2] = [catalogue.find((d) => d.kind === 'l1')!, catalogue.find((d) => d.kind === 'l2')!];
    const value = (def: AnyKindDef, alpha: number) => penaltyValue(def, [1, -2, 3], { alpha });
    expect(value(l1, 0.5)).toBeCloseTo(3, 6);
    expect(value(l2, 0.5)).toBeCloseTo(3.5, 6);
    expect(value(l1, 0)).toBeNull();
    expect(value(l2, 0)).toBeNull();
  });
});

describe('data kinds build their own dataset', () => {
  it.each(ofRole('dataset').map((d) => [d.kind, d] as const))('%s builds its default data (or says why not), describes it, and has a batch size and seed', (_kind, def) => {
    expect(def.data).toBeDefined();
    expect(Object.keys(def.params)).toEqual(expect.arrayContaining(['batchSize', 'seed']));
    const params = defaultParams(def.params);
    const described = def.data!.describe(params);
    expect(described.source).toMatch(/\S/);
    expect(Number.isInteger(described.samples)).toBe(true);
    if (def.data!.needs(params).length > 0) return; // needs a platform resource: covered below
    try {
      const d = def.data!.build(params, {});
      expect(d.train.n + d.val.n).toBe(described.samples);
    } catch (e) {
      // A kind whose defaults hold no data (a Table before an import) must say so in words.
      expect((e as Error).message).toMatch(/^Cannot build the .*: \w/);
    }
  });

  it('a document needs MNIST loaded exactly when a data node reads it', () => {
    const node = (kind: string, params: Record<string, unknown>) => ({ kind, params: params as never });
    expect(dataNeeds({ nodes: [node('dataset', { source: 'spirals' }), node('dense', {})] })).toEqual([]);
    expect(dataNeeds({ nodes: [node('dataset', { source: 'mnist' }), node('dataset', { source: 'mnist' })] })).toEqual(['mnist']);
    expect(dataNeeds({ nodes: [node('tableDataset', { data: '' }), node('mystery', {})] })).toEqual([]);
  });

  it('loads only what is needed, with the platform’s loader, and builds through the kind', async () => {
    const calls: string[] = [];
    const loaders = { mnist: async () => (calls.push('mnist'), { n: 0, images: new Uint8Array(0), labels: new Uint8Array(0) }) };
    expect(await loadDataResources({ nodes: [{ kind: 'dataset', params: { source: 'xor' } }] }, loaders)).toEqual({});
    expect(calls).toEqual([]);
    const loaded = await loadDataResources({ nodes: [{ kind: 'dataset', params: { source: 'mnist' } }] }, loaders);
    expect(calls).toEqual(['mnist']);
    expect(loaded.mnist?.n).toBe(0);
    expect(() => buildData({ kind: 'dense', params: {} }, {})).toThrow('"dense" is not a data kind: it cannot build a dataset');
  });
});
