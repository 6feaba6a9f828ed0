/**
 * The course's comparisons as a user relies on them: the variants are the user's graph edited
 * (without its skips: the same layers and weights; wider: hidden layers × k, the output as it
 * is; another initializer on every layer), each variant is trained and gets its own surface
 * on one grid whose centre is its trained minimum, and the initialization runs each draw a
 * trajectory ending at their minimum. No tensor is left behind; a seed gives the same result.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExperimentError, runExperiment } from '../../core/experiments/framework.ts';
import { initialization, type InitializationData } from '../../core/experiments/initialization.ts';
import { skipConnections } from '../../core/experiments/skip-connections.ts';
import { localMinima, residualAdds, withInitializer, withoutSkips, withWidth, type SurfacesData } from '../../core/experiments/variants.ts';
import { width } from '../../core/experiments/width.ts';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { example, smallNet } from './experiments-helpers.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const trainable = (doc: Pick<GraphDocument, 'nodes' | 'edges'>) => analyzeGraph(doc).canTrain;
const paramCount = (doc: Pick<GraphDocument, 'nodes' | 'edges'>) => analyzeGraph(doc).totals.trainable;
const units = (doc: Pick<GraphDocument, 'nodes'>) => Object.fromEntries(doc.nodes.filter((n) => n.kind === 'dense').map((n) => [n.id, n.params.units]));

/** The residual example, small: 2 epochs on 200 moons. */
function smallResidual(): GraphDocument {
  const doc = example('residual-mlp');
  return { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'dataset' ? { ...n, params: { ...n.params, samples: 200 } } : n.kind === 'adam' ? { ...n, params: { ...n.params, epochs: 3 } } : n)) };
}

describe('variants of the user’s graph', () => {
  it('without skips: every residual Add goes, what it fed is fed by the branch F(x), the layers and weights stay', () => {
    const deep = example('residual-deep-mlp');
    const adds = residualAdds(deep);
    expect(adds.map((a) => a.add)).toEqual(['b1_add', 'b2_add', 'b3_add', 'b4_add', 'b5_add']);
    // The skip carries the block's input (stem_relu into block 1); the branch is the block's last Dense.
    expect(adds[0]).toMatchObject({ skip: { source: 'stem_relu' }, branch: { source: 'b1_fc2' } });
    const plain = withoutSkips(deep);
    expect(plain.nodes.some((n) => n.kind === 'add')).toBe(false);
    expect(residualAdds(plain)).toEqual([]);
    expect(plain.edges.find((e) => e.target === 'b1_relu2')).toMatchObject({ source: 'b1_fc2', sourcePort: 'out' });
    expect(trainable(plain)).toBe(true);
    expect(paramCount(plain)).toBe(paramCount(deep));
    expect(deep.nodes.filter((n) => n.kind === 'dense')).toHaveLength(12);
    // The plain example is exactly the residual one without its Adds (same layers, same wiring otherwise).
    expect(units(example('deep-relu-mlp'))).toEqual(units(plain));
  });

  it('wider: hidden Dense units × k, the output layer as the task fixes it', () => {
    const doc = example('deep-relu-mlp');
    const wide = withWidth(doc, 4);
    for (const [id, u] of Object.entries(units(wide))) expect(u).toBe(id === 'head' ? 2 : 64);
    expect(trainable(wide)).toBe(true);
    // 2·64 + 10 hidden 64×64 + 64·2 kernels, plus biases.
    expect(paramCount(wide)).toBe(2 * 64 + 64 + 10 * (64 * 64 + 64) + 64 * 2 + 2);
    expect(withWidth(doc, 1)).toEqual(doc);
  });

  it('another initializer on every layer that has one', () => {
    const doc = withInitializer(example('deep-relu-mlp'), 'normal', 0.01);
    const dense = doc.nodes.filter((n) => n.kind === 'dense');
    expect(dense).toHaveLength(12);
    for (const n of dense) expect(n.params).toMatchObject({ initializer: 'normal', sigma: 0.01 });
  });

  it('counts the strict local minima of a surface (8 neighbours), the border included', () => {
    // 3 × 3: a bowl has one minimum; a ridge through the middle leaves one on each side.
    expect(localMinima([4, 3, 4, 3, 1, 3, 4, 3, 4], 3, 3)).toBe(1);
    expect(localMinima([1, 5, 1, 2, 5, 2, 1, 5, 1], 3, 3)).toBe(4);
    expect(localMinima([1, null, 2, 2, 2, 2, 2, 2, 2], 3, 3)).toBe(1);
  });
});

describe('the comparison experiments', () => {
  it('skip connections: both variants trained, each surface centred on its own minimum, deterministic, no tensor left', async () => {
    const doc = smallResidual();
    const before = tf.memory().numTensors;
    const r = await runExperiment(skipConnections, { tf: TFNS, doc, settings: { grid: 3, samples: 60 }, seed: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as SurfacesData;
    expect(d.variants.map((v) => v.label)).toEqual(['with skips (2 Adds)', 'without skips']);
    expect(d.xs).toEqual([-1, 0, 1]);
    for (const v of d.variants) {
      expect(v.loss).toHaveLength(9);
      expect(v.loss[4]).toBeCloseTo(v.centerLoss, 5);
      expect(v.steps).toBe(3 * Math.ceil(160 / 32));
      expect(v.testError).not.toBeNull();
      expect(v.parameters).toBe(d.variants[0]!.parameters);
    }
    const again = await runExperiment(skipConnections, { tf: TFNS, doc, settings: { grid: 3, samples: 60 }, seed: 4 });
    expect(again.data).toEqual(r.data);
  });

  it('refuses a graph without skips, and widths that are not whole factors', async () => {
    await expect(runExperiment(skipConnections, { tf: TFNS, doc: smallNet(), settings: {} })).rejects.toThrow(ExperimentError);
    await expect(runExperiment(skipConnections, { tf: TFNS, doc: smallNet(), settings: {} })).rejects.toThrow('the graph has no skip connection');
    await expect(runExperiment(width, { tf: TFNS, doc: smallNet(), settings: { widths: [1, 100] } })).rejects.toThrow('Widths must be 1 to 8 whole factors from 1 to 64, got [1, 100]');
    await expect(runExperiment(initialization, { tf: TFNS, doc: smallNet(), settings: { initializers: ['lecun'] } })).rejects.toThrow('Initializers: there is no "lecun"');
  });

  it('width: one run per factor, the weights growing with k', async () => {
    const r = await runExperiment(width, { tf: TFNS, doc: smallNet({ optimizer: { epochs: 2 } }), settings: { widths: [1, 3], grid: 3, samples: 40 } });
    const d = r.data as SurfacesData;
    expect(d.variants.map((v) => v.label)).toEqual(['width ×1', 'width ×3']);
    // moons → Dense(8k) → ReLU → Dense(2): 2·8k + 8k + 8k·2 + 2.
    expect(d.variants.map((v) => v.parameters)).toEqual([42, 122]);
  });

  it('initialization: a trajectory per initializer, from its start to its own minimum at (0, 0)', async () => {
    const before = tf.memory().numTensors;
    const r = await runExperiment(initialization, { tf: TFNS, doc: smallNet({ optimizer: { epochs: 3 } }), settings: { grid: 3, samples: 40 } });
    expect(tf.memory().numTensors).toBe(before);
    const d = r.data as InitializationData;
    expect(d.runs.map((x) => x.label)).toEqual(['N(0, 0.01²)', 'He normal', 'Xavier normal']);
    for (const run of d.runs) {
      const p = run.trajectory.path;
      expect(p.x).toHaveLength(4);
      expect(p.epoch).toEqual([0, 1, 2, 3]);
      expect(p.x[3]).toBe(0);
      expect(p.y[3]).toBe(0);
      for (const e of run.trajectory.explained) expect(e).toBeGreaterThanOrEqual(0);
      expect(run.trajectory.explained[0]! + run.trajectory.explained[1]!).toBeLessThanOrEqual(1 + 1e-6);
      expect(run.trajectory.loss.every((v) => v !== null && Number.isFinite(v))).toBe(true);
    }
    // Different initial weights: different starting points.
    expect(d.runs[0]!.trajectory.path.x[0]).not.toBe(d.runs[1]!.trajectory.path.x[0]);
  });
});
