/**
 * The BatchNorm experiment (Santurkar et al. 2018) and the Noisy BatchNorm it needs: the
 * noise acts in training only, with the configured mean and scale; ICS is exactly 0 for a
 * layer with nothing below it and matches a direct computation of ‖G − G'‖ on a tiny net;
 * the probes leave weights and running statistics as they were; the curvature gᵀHg/gᵀg is
 * the closed-form value on linear regression; the arms are the graphs they say; a result is
 * deterministic, leaves no tensor behind, and reopens the same from the file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { armDocument, batchnorm, batchNormSites, logSpaced, type BatchNormData } from '../../core/experiments/batchnorm.ts';
import { icsLayers, probe, unpackProbe, type ProbeLayout } from '../../core/experiments/batchnorm-probes.ts';
import { runExperiment, withResult } from '../../core/experiments/framework.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { Tensor, TF } from '../../core/graph/types.ts';
import { exportOnnx } from '../../core/io/export/onnx.ts';
import { exportPytorch } from '../../core/io/export/pytorch.ts';
import { initialWeights } from '../../core/io/weights.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { main, type Io } from '../../core/cli/main.ts';
import { linearRegression, ROOT, smallNet, trained } from './experiments-helpers.ts';
import { havePython, python } from './helpers/python.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** blobs → Dense(16) → BatchNorm(noise…) → ReLU → Dense(3) → softmax cross-entropy. */
function bnNet(noise: Record<string, ParamValue> = {}, samples = 3000): GraphDocument {
  const g = new GraphBuilder('bn net');
  g.add('dataset', 'data', { source: 'blobs', samples, classes: 3, noise: 0.3, validationFraction: 0.2, batchSize: 32, seed: 4 });
  const out = g.chain('data.x', [['dense', 'fc1', { units: 16 }], ['batchNorm', 'bn', noise], ['relu', 'act'], ['dense', 'fc2', { units: 3 }]]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('sgd', 'optimizer', { learningRate: 0.1, epochs: 2 }).wire('loss.loss', 'optimizer.loss');
  return g.build();
}

/** The BatchNorm node's output on a set, in training or inference mode, with a given stream of seeds. */
function bnOutput(t: Trainer, x: Tensor, y: Tensor, training: boolean, seed: number): Tensor {
  return tf.tidy(() => {
    const rng = createRng(seed);
    return t.program.forward({ x, y, training, seed: () => 1 + rng.int(1e9) }).outputs.get('bn')!.out!;
  });
}

describe('Noisy BatchNorm', () => {
  it('adds noise of the configured mean and scale in training, and nothing at inference', async () => {
    const before = tf.memory().numTensors;
    const fixed = { noise: true, noiseMeanFrom: 0.7, noiseMeanTo: 0.7, noiseScaleFrom: 1.5, noiseScaleTo: 1.5 };
    const noisy = Trainer.create(TFNS, bnNet(fixed), { instrument: false });
    const clean = Trainer.create(TFNS, bnNet(), { instrument: false });
    const set = noisy.evaluationSet(2400, 5);
    // Same file seed: the same initial weights, so the difference is the noise alone.
    const diff = tf.tidy(() => tf.sub(bnOutput(noisy, set.x, set.y, true, 9), bnOutput(clean, set.x, set.y, true, 9)));
    const d = Float64Array.from(await diff.data());
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    expect(d.length).toBe(2400 * 16);
    expect(mean).toBeCloseTo(0.7, 1);
    expect(Math.abs(mean - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(std - 1.5)).toBeLessThan(0.03);
    const atInference = tf.tidy(() => tf.sub(bnOutput(noisy, set.x, set.y, false, 9), bnOutput(clean, set.x, set.y, false, 9)));
    expect(Array.from(await atInference.data()).every((v) => v === 0)).toBe(true);
    for (const t of [diff, atInference, set.x, set.y]) t.dispose();
    noisy.dispose();
    clean.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('draws a new mean and scale within the ranges at every step, reproducibly for a seed', async () => {
    const noisy = Trainer.create(TFNS, bnNet({ noise: true, noiseMeanFrom: -2, noiseMeanTo: 1, noiseScaleFrom: 0.5, noiseScaleTo: 3 }), { instrument: false });
    const clean = Trainer.create(TFNS, bnNet(), { instrument: false });
    const set = noisy.evaluationSet(2000, 5);
    const stats: { mean: number; std: number }[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const diff = tf.tidy(() => tf.sub(bnOutput(noisy, set.x, set.y, true, seed), bnOutput(clean, set.x, set.y, true, seed)));
      const d = Float64Array.from(await diff.data());
      diff.dispose();
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      stats.push({ mean, std: Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length) });
    }
    for (const s of stats) {
      expect(s.mean).toBeGreaterThan(-2.05);
      expect(s.mean).toBeLessThan(1.05);
      expect(s.std).toBeGreaterThan(0.48);
      expect(s.std).toBeLessThan(3.05);
    }
    // Steps differ from one another…
    expect(new Set(stats.map((s) => s.mean.toFixed(2))).size).toBeGreaterThan(3);
    // …and the same seed gives the same noise.
    const a = bnOutput(noisy, set.x, set.y, true, 3);
    const b = bnOutput(noisy, set.x, set.y, true, 3);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    for (const t of [a, b, set.x, set.y]) t.dispose();
    noisy.dispose();
    clean.dispose();
  });

  it('exports to ONNX as the plain BatchNorm (the noise is training-only)', () => {
    const noisy = bnNet({ noise: true });
    const plain = bnNet();
    const a = exportOnnx(noisy, initialWeights(noisy));
    const b = exportOnnx(plain, initialWeights(plain));
    if (!a.ok || !b.ok) throw new Error('the export failed');
    expect(Buffer.from(a.value).equals(Buffer.from(b.value))).toBe(true);
  });

  it.skipIf(!havePython())('exports to PyTorch with the same noise in train mode and none in eval mode (Debian python3-torch)', async () => {
    const doc = bnNet({ noise: true, noiseMeanFrom: 0.7, noiseMeanTo: 0.7, noiseScaleFrom: 1.5, noiseScaleTo: 1.5 });
    const r = await exportPytorch(doc, { weights: initialWeights(doc), trained: false });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-pt-noisy-'));
    for (const f of r.value) writeFileSync(join(dir, f.path), f.bytes);
    const out = python(
      [
        '-c',
        [
          'import json, torch, model',
          'torch.manual_seed(0)',
          'm = model.GradflowModel()',
          'x = torch.randn(4000, 16) * 3 + 1',
          'plain = model.BatchNorm(16, 0.99, 0.001)',
          'm.bn.train(); plain.train()',
          'd = (m.bn(x) - plain(x)).detach()',
          'm.bn.eval(); plain.eval()',
          'e = (m.bn(x) - plain(x)).detach()',
          'print(json.dumps([d.mean().item(), d.std().item(), e.abs().max().item()]))',
        ].join('\n'),
      ],
      { cwd: dir },
    );
    const [mean, std, atEval] = JSON.parse(out) as [number, number, number];
    expect(Math.abs(mean - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(std - 1.5)).toBeLessThan(0.03);
    expect(atEval).toBe(0);
  });
});

/** x → Dense(4) → ReLU → Dense(1), MSE: two weighted layers. */
function tinyNet(): GraphDocument {
  const g = new GraphBuilder('tiny');
  g.add('dataset', 'data', { source: 'regression', fn: 'sin', samples: 40, noise: 0.05, validationFraction: 0, batchSize: 0, seed: 2 });
  const out = g.chain('data.x', [['dense', 'fc1', { units: 4 }], ['relu', 'r1'], ['dense', 'fc2', { units: 1 }]]);
  g.add('meanSquaredError', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('sgd', 'opt', { learningRate: 0.05, epochs: 1 }).wire('loss.loss', 'opt.loss');
  return g.build();
}

const layoutFor = (t: Trainer, o: Partial<ProbeLayout> = {}): ProbeLayout => ({ learningRate: 0.05, etas: [0.01, 0.1], layers: icsLayers(t), observe: null, noiseSeed: 7, ...o });

async function probeValues(t: Trainer, set: { x: Tensor; y: Tensor; n: number }, layout: ProbeLayout) {
  const r = probe(TFNS, t, set, layout);
  const v = unpackProbe(await r.values.data(), layout);
  r.values.dispose();
  r.observed?.dispose();
  return v;
}

describe('ICS from the optimization side', () => {
  it('is 0 (and cos 1) for a layer with nothing below it', async () => {
    const t = Trainer.create(TFNS, linearRegression(true), { instrument: false });
    const set = t.evaluationSet(1000, 1);
    const layout = layoutFor(t);
    expect(layout.layers).toEqual([{ nodeId: 'fc', own: [0, 1], below: [] }]);
    const v = await probeValues(t, set, layout);
    expect(v.icsDistance).toEqual([0]);
    expect(v.icsCosine[0]).toBeCloseTo(1, 6);
    set.x.dispose();
    set.y.dispose();
    t.dispose();
  });

  it('‖G − G′‖ and cos(G, G′) match a direct computation on a tiny net', async () => {
    const t = Trainer.create(TFNS, tinyNet(), { instrument: false });
    const set = t.evaluationSet(1000, 1);
    const layout = layoutFor(t, { learningRate: 0.3 });
    expect(layout.layers.map((l) => [l.nodeId, l.below])).toEqual([['fc1', []], ['fc2', [0, 1]]]);
    const v = await probeValues(t, set, layout);
    // Directly: G = ∇_{W2} L(W1, W2); G' = ∇_{W2} L(W1 − λ∇_{W1}L, W2).
    const [k1, b1, k2, b2] = t.program.trainable.map((w) => w.variable as Tensor) as [Tensor, Tensor, Tensor, Tensor];
    const loss = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) => tf.losses.meanSquaredError(set.y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(set.x, a), b)), c), d)) as tf.Scalar;
    const [direct, cos] = tf.tidy(() => {
      const g = tf.grads(loss)([k1, b1, k2, b2]);
      const g2 = tf.grads(loss)([tf.sub(k1, tf.mul(g[0]!, 0.3)), tf.sub(b1, tf.mul(g[1]!, 0.3)), k2, b2]);
      const d2 = tf.add(tf.sum(tf.square(tf.sub(g[2]!, g2[2]!))), tf.sum(tf.square(tf.sub(g[3]!, g2[3]!))));
      const dot = tf.add(tf.sum(tf.mul(g[2]!, g2[2]!)), tf.sum(tf.mul(g[3]!, g2[3]!)));
      const n1 = tf.sqrt(tf.add(tf.sum(tf.square(g[2]!)), tf.sum(tf.square(g[3]!))));
      const n2 = tf.sqrt(tf.add(tf.sum(tf.square(g2[2]!)), tf.sum(tf.square(g2[3]!))));
      return [tf.sqrt(d2).dataSync()[0]!, tf.div(dot, tf.mul(n1, n2)).dataSync()[0]!];
    });
    expect(direct).toBeGreaterThan(1e-4); // something below fc2 moved
    expect(v.icsDistance[0]).toBe(0);
    expect(v.icsDistance[1]).toBeCloseTo(direct, 5);
    expect(Math.abs(v.icsDistance[1]! - direct) / direct).toBeLessThan(1e-4);
    expect(v.icsCosine[1]).toBeCloseTo(cos, 5);
    set.x.dispose();
    set.y.dispose();
    t.dispose();
  });
});

describe('smoothness and curvature probes', () => {
  it('leave every weight and the running statistics unchanged, and no tensor behind', async () => {
    const doc = await trained(TFNS, smallNet({ batchNorm: true }), 40);
    const t = Trainer.create(TFNS, doc, { instrument: false });
    t.importWeights(doc.weights!);
    const set = t.evaluationSet(64, 3);
    const before = t.cloneWeights();
    const count = tf.memory().numTensors;
    const names = t.program.weights.map((w) => w.name);
    expect(names).toContain('movingMean');
    const v = await probeValues(t, set, layoutFor(t, { observe: 'fc2' }));
    expect(tf.memory().numTensors).toBe(count);
    expect(Number.isFinite(v.curvature)).toBe(true);
    expect(v.beta.every((b) => Number.isFinite(b) && b > 0)).toBe(true);
    const after = t.cloneWeights();
    for (let i = 0; i < before.length; i++) expect(Array.from(await after[i]!.data()), names[i]).toEqual(Array.from(await before[i]!.data()));
    for (const x of [...before, ...after, set.x, set.y]) x.dispose();
    t.dispose();
  });

  it('gᵀHg/gᵀg equals the closed form on linear regression, and β, predictiveness follow from it', async () => {
    const t = Trainer.create(TFNS, linearRegression(true), { instrument: false });
    const set = t.evaluationSet(1000, 1);
    const X = Array.from(await set.x.data());
    const Y = Array.from(await set.y.data());
    const [w, b] = await Promise.all(t.program.trainable.map(async (p) => Array.from(await p.variable.data())));
    const n = set.n;
    // X̃ = [X, 1], θ = [w, b]: g = 2X̃ᵀ(X̃θ − y)/n and H = 2X̃ᵀX̃/n, in float64.
    const row = (i: number) => [X[3 * i]!, X[3 * i + 1]!, X[3 * i + 2]!, 1];
    const theta = [...w!, b![0]!];
    const g = [0, 0, 0, 0];
    const H = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    for (let i = 0; i < n; i++) {
      const r = row(i);
      const e = r.reduce((a, x, j) => a + x * theta[j]!, 0) - Y[i]!;
      for (let j = 0; j < 4; j++) {
        g[j] = g[j]! + (2 * r[j]! * e) / n;
        for (let k = 0; k < 4; k++) H[j]![k] = H[j]![k]! + (2 * r[j]! * r[k]!) / n;
      }
    }
    const Hg = H.map((hr) => hr.reduce((a, h, k) => a + h * g[k]!, 0));
    const gg = g.reduce((a, x) => a + x * x, 0);
    const expected = g.reduce((a, x, j) => a + x * Hg[j]!, 0) / gg;
    const etas = [0.01, 0.1];
    const v = await probeValues(t, set, layoutFor(t, { etas }));
    expect(Math.abs(v.curvature - expected) / expected).toBeLessThan(0.01);
    // A quadratic: ∇L(W − ηg) = g − ηHg, so predictiveness is η‖Hg‖ and β is ‖Hg‖/‖g‖ for every η.
    const hgNorm = Math.sqrt(Hg.reduce((a, x) => a + x * x, 0));
    etas.forEach((eta, i) => {
      expect(Math.abs(v.predictiveness[i]! - eta * hgNorm) / (eta * hgNorm)).toBeLessThan(0.01);
      expect(Math.abs(v.beta[i]! - hgNorm / Math.sqrt(gg)) / (hgNorm / Math.sqrt(gg))).toBeLessThan(0.01);
    });
    set.x.dispose();
    set.y.dispose();
    t.dispose();
  });
});

describe('the arms', () => {
  it('Standard bypasses the BatchNorm nodes; Noisy turns their noise on; LayerNorm takes their place', () => {
    const doc = bnNet();
    const where = batchNormSites(doc);
    expect(where).toEqual({ sites: ['bn'], insertAfter: [] });
    if ('problem' in where) throw new Error(where.problem);
    const std = armDocument(doc, 'standard', where);
    expect(std.nodes.map((n) => n.id)).not.toContain('bn');
    expect(std.edges.find((e) => e.target === 'act')).toMatchObject({ source: 'fc1', sourcePort: 'out', targetPort: 'in' });
    expect(armDocument(doc, 'noisy', where).nodes.find((n) => n.id === 'bn')!.params.noise).toBe(true);
    expect(armDocument(doc, 'batchNorm', where).nodes.find((n) => n.id === 'bn')!.params.noise).toBe(false);
    expect(armDocument(doc, 'layerNorm', where).nodes.find((n) => n.id === 'bn')).toMatchObject({ kind: 'layerNorm', params: { epsilon: 1e-3 } });
  });

  it('a graph without BatchNorm gets one after each hidden weighted layer, not after the output layer', () => {
    const doc = smallNet();
    const where = batchNormSites(doc);
    expect(where).toEqual({ sites: ['bn-fc1'], insertAfter: ['fc1'] });
    if ('problem' in where) throw new Error(where.problem);
    expect(armDocument(doc, 'standard', where)).toBe(doc);
    const bn = armDocument(doc, 'batchNorm', where);
    expect(bn.edges.filter((e) => e.source === 'fc1')).toEqual([{ id: 'fc1.out->bn-fc1.in', source: 'fc1', sourcePort: 'out', target: 'bn-fc1', targetPort: 'in' }]);
    expect(bn.edges.find((e) => e.source === 'bn-fc1')).toMatchObject({ target: 'act', targetPort: 'in' });
  });

  it('refuses settings it cannot run, saying why', async () => {
    const run = (doc: GraphDocument, settings: Record<string, unknown>) => runExperiment(batchnorm, { tf: TFNS, doc, settings, weights: null });
    await expect(run(linearRegression(true), {})).rejects.toThrow('no BatchNorm node and no hidden weighted layer');
    await expect(run(bnNet(), { standard: false, batchNorm: false, noisy: false })).rejects.toThrow('choose at least one arm');
    await expect(run(bnNet(), { layer: 'act' })).rejects.toThrow('setting layer: "act" is not the id of a weighted layer');
    await expect(run(bnNet(), { stepCount: 0 })).rejects.toThrow('stepCount');
  });
});

describe('the experiment', () => {
  const settings = { layerNorm: true, steps: 30, probeEvery: 10, probeSamples: 64, stepCount: 3, sweepRates: 2, sweepFrom: 0.01, sweepTo: 1, sweepSteps: 10 };

  it('trains every arm, probes it, sweeps the rates; same seed, same result; no tensor left', async () => {
    const before = tf.memory().numTensors;
    const doc = bnNet({}, 600);
    const a = await runExperiment(batchnorm, { tf: TFNS, doc, settings, seed: 3, weights: null });
    expect(tf.memory().numTensors).toBe(before);
    const d = a.data as BatchNormData;
    expect(batchnorm.data.safeParse(d).success).toBe(true);
    expect(d.arms.map((x) => x.arm)).toEqual(['standard', 'batchNorm', 'noisy', 'layerNorm']);
    expect(d.etaFactors).toEqual(logSpaced(0.25, 4, 3));
    for (const arm of d.arms) {
      expect(arm.steps).toEqual([0, 10, 20, 30]);
      expect(arm.ics.layers).toEqual(['fc1', 'fc2']);
      expect(arm.ics.distance[0]).toEqual([0, 0, 0, 0]); // nothing below fc1
      expect(arm.ics.distance[1]!.every((x) => x !== null && x > 0)).toBe(true);
      for (const k of ['lossVariation', 'predictiveness', 'beta'] as const) arm[k].min.forEach((m, i) => expect(m!).toBeLessThanOrEqual(arm[k].max[i]!));
      expect(arm.distribution!.layer).toBe('fc2');
      expect(arm.distribution!.histograms[0]!.counts.reduce((x, y) => x + y, 0)).toBeGreaterThan(0.98 * 64 * 16);
      expect(arm.final.steps).toBe(30);
      expect(arm.sweep!.rates).toEqual([0.01, 1]);
      expect(arm.curve.loss.length).toBe(30);
    }
    const b = await runExperiment(batchnorm, { tf: TFNS, doc, settings, seed: 3, weights: null });
    expect(b.data).toEqual(a.data);
    // The saved file reopens with the same result.
    const text = saveGraph(withResult(doc, a));
    const reopened = loadGraph(text);
    if (!reopened.ok) throw reopened.error;
    expect(reopened.document.experiments!.results[0]).toEqual(JSON.parse(JSON.stringify(a)));
    expect(saveGraph(reopened.document)).toBe(text);
  });
});

describe('gradflow experiment batchnorm', () => {
  it('runs the comparison on a file and writes the series by plain names, per arm', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gradflow-bn-')), 'bn.json');
    let text = '';
    let err = '';
    const io: Io = { out: (t) => void (text += t), err: (t) => void (err += t), isTTY: false };
    const argv = ['experiment', 'batchnorm', join(ROOT, 'examples', 'xor.nngraph'), '--steps', '12', '--probe-every', '6', '--step-count', '2', '--sweep-rates', '0', '--no-noisy', '--layer-norm', '--backend', 'cpu', '--out', out];
    const code = await main(argv, io);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(text).toMatch(/BatchNorm inserted after: /);
    expect(text).toMatch(/^Standard\s+12 /m);
    expect(text).toMatch(/^\+LayerNorm\s+12 /m);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ experiment: 'batchnorm', status: 'completed', settings: { steps: 12, noisy: false, layerNorm: true } });
    expect(json.data.arms.map((a: { arm: string }) => a.arm)).toEqual(['standard', 'batchNorm', 'layerNorm']);
    for (const a of json.data.arms) {
      expect(Object.keys(a)).toEqual(expect.arrayContaining(['ics', 'beta', 'predictiveness', 'lossVariation', 'curvature', 'distribution', 'sweep']));
      expect(a.steps).toEqual([0, 6, 12]);
      expect(a.ics.distance[0]).toHaveLength(3);
    }
  });
});
