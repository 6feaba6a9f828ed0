/**
 * ONNX export as a user relies on it: every example and every model kind exports to a file
 * that the ONNX checker accepts and that ONNX Runtime runs to Gradflow's own outputs on the
 * validation set (trained weights, BatchNorm running statistics, Dropout/DropConnect in
 * their inference form); names follow the canvas; an untrained export holds the weights
 * Gradflow would start from.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnistNode } from '../../core/data/mnist-node.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { catalogue } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { buildOnnxModel, exportOnnx, ONNX_INPUT } from '../../core/io/export/onnx.ts';
import { decodeModel } from '../../core/io/onnx/proto.ts';
import { loadGraph } from '../../core/io/load.ts';
import { decodeWeightsBlock, initialWeights } from '../../core/io/weights.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { havePython, python } from './helpers/python.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;
ort.env.wasm.numThreads = 1;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const EXAMPLES = join(import.meta.dirname, '../../examples');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nngraph')).sort();

function loadExample(file: string): GraphDocument {
  const r = loadGraph(readFileSync(join(EXAMPLES, file)));
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
}

/** Every op kind at least once: activations, noise, DropConnect, normalizations, plumbing. */
function allKindsGraphs(): { name: string; doc: GraphDocument }[] {
  const a = new GraphBuilder('activations');
  a.add('dataset', 'data', { source: 'spirals', samples: 200, classes: 3 });
  const aOut = a.chain('data.x', [
    ['gaussianNoise', 'noise', { sigma: 0.05 }],
    ['dense', 'fc0', { units: 8 }],
    ['relu', 'relu'],
    ['dense', 'fc1', { units: 8 }],
    ['prelu', 'prelu'],
    ['dense', 'fc2', { units: 8 }],
    ['leakyRelu', 'leaky', { alpha: 0.1 }],
    ['dense', 'fc3', { units: 8 }],
    ['elu', 'elu', { alpha: 0.5 }],
    ['dense', 'fc4', { units: 8 }],
    ['softplus', 'softplus'],
    ['dense', 'fc5', { units: 8 }],
    ['abs', 'abs'],
    ['dense', 'fc6', { units: 8 }],
    ['sigmoid', 'sigmoid'],
    ['dropout', 'drop', { rate: 0.3 }],
    ['dense', 'fc7', { units: 8 }],
    ['tanh', 'tanh'],
    ['linear', 'linear'],
    ['elu', 'elu1'],
    ['dropConnect', 'dc', { rate: 0.4 }],
    ['dense', 'out', { units: 3 }],
  ]);
  a.add('softmaxCrossEntropy', 'loss').wire(aOut, 'loss.pred').wire('data.y', 'loss.target');
  a.add('adam', 'opt', { learningRate: 0.01 }).wire('loss.loss', 'opt.loss');

  const b = new GraphBuilder('layers');
  b.add('dataset', 'data', { source: 'moons', samples: 200, targetEncoding: 'binary' });
  const trunk = b.chain('data.x', [
    ['rbf', 'rbf', { units: 6 }],
    ['maxout', 'maxout', { units: 6, pieces: 3 }],
    ['layerNorm', 'ln'],
    ['batchNorm', 'bn', { momentum: 0.5 }],
    ['softmax', 'soft'],
  ]);
  b.add('dense', 'left', { units: 3 }).wire(trunk, 'left.in');
  b.add('dense', 'right', { units: 3, bias: false }).wire(trunk, 'right.in');
  b.add('add', 'sum').wire('left.out', 'sum.in').wire('right.out', 'sum.in');
  b.add('concat', 'cat').wire('sum.out', 'cat.in').wire('left.out', 'cat.in');
  const tail = b.chain('cat.out', [
    ['reshape', 'grid', { shape: [2, -1] }],
    ['batchNorm', 'bn_grid', { momentum: 0.5 }],
    ['flatten', 'flat'],
    ['dense', 'out', { units: 1 }],
  ]);
  b.add('binaryCrossEntropy', 'loss').wire(tail, 'loss.pred').wire('data.y', 'loss.target');
  b.add('sgd', 'opt', { learningRate: 0.05 }).wire('loss.loss', 'opt.loss');
  const c = new GraphBuilder('images');
  c.add('dataset', 'data', { source: 'mnist', samples: 200, batchSize: 32 });
  c.chain('data.x', [
    ['reshape', 'image', { shape: [28, 28, 1] }],
    ['conv2d', 'conv_same', { filters: 4, kernelSize: [3, 2], stride: 2, padding: 'same' }],
    ['batchNorm', 'bn_image', { momentum: 0.5 }],
    ['relu', 'relu'],
    ['maxPool2d', 'max_same', { poolSize: [3, 3], stride: 2, padding: 'same' }],
    ['dropConnect', 'dc', { rate: 0.25 }],
    ['conv2d', 'conv_dilated', { filters: 4, kernelSize: [3, 3], dilation: 2, bias: false }],
    ['avgPool2d', 'avg_same', { poolSize: [2, 3], stride: 1, padding: 'same' }],
  ]);
  c.add('avgPool2d', 'avg_valid').wire('avg_same.out', 'avg_valid.in');
  c.add('globalAvgPool2d', 'gap').wire('avg_same.out', 'gap.in');
  c.add('flatten', 'flat').wire('avg_valid.out', 'flat.in');
  c.add('concat', 'cat').wire('flat.out', 'cat.in').wire('gap.out', 'cat.in');
  c.add('dense', 'out', { units: 10 }).wire('cat.out', 'out.in');
  c.add('softmaxCrossEntropy', 'loss').wire('out.out', 'loss.pred').wire('data.y', 'loss.target');
  c.add('adam', 'opt', { learningRate: 0.01 }).wire('loss.loss', 'opt.loss');
  return [
    { name: 'activations', doc: a.build() },
    { name: 'layers', doc: b.build() },
    { name: 'images', doc: c.build() },
  ];
}

async function ortRun(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const r = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, shape) });
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(r)) out[k] = v.data as Float32Array;
  await session.release();
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

/** Train a few steps, export, and compare ONNX Runtime with Gradflow on the validation set. */
async function checkAgainstGradflow(doc: GraphDocument, steps: number): Promise<{ bytes: Uint8Array; diff: number }> {
  const mnist = doc.nodes.some((n) => n.params.source === 'mnist') ? await loadMnistNode() : undefined;
  const trainer = Trainer.create(TFNS, doc, { maxSteps: steps, instrument: false, ...(mnist ? { mnist } : {}) });
  try {
    await trainer.run();
    const weights = decodeWeightsBlock(await trainer.exportWeights());
    const exported = exportOnnx(doc, weights);
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const val = trainer.dataset.val;
    const expected = await trainer.predict(val.x, val.n);
    const got = await ortRun(exported.value, val.x, [val.n, ...trainer.dataset.info.xShape]);
    const outputName = decodeModel(exported.value).graph.output[0]!.name;
    return { bytes: exported.value, diff: maxRelDiff(got[outputName]!, expected) };
  } finally {
    trainer.dispose();
  }
}

describe('ONNX export runs in ONNX Runtime to Gradflow outputs', () => {
  it.each(exampleFiles)('%s, trained a few steps', async (file) => {
    const before = tf.memory().numTensors;
    const { diff } = await checkAgainstGradflow(loadExample(file), 15);
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(allKindsGraphs())('every model kind: $name graph', async ({ doc }) => {
    const { bytes, diff } = await checkAgainstGradflow(doc, 40);
    expect(diff).toBeLessThanOrEqual(1e-5);
    // Node names follow the canvas labels.
    const names = decodeModel(bytes).graph.node.map((n) => n.name);
    for (const n of doc.nodes.filter((n) => catalogue.find((d) => d.kind === n.kind)?.role === 'op')) expect(names).toContain(n.id);
  });

  it('the graphs above use every op kind that has an ONNX form', () => {
    const used = new Set(allKindsGraphs().flatMap((g) => g.doc.nodes.map((n) => n.kind)));
    const exportable = catalogue.filter((d) => d.role === 'op' && d.onnx).map((d) => d.kind);
    expect(exportable.filter((k) => !used.has(k))).toEqual([]);
  });

  it('names each node whose kind has no ONNX form, and writes nothing', () => {
    const doc = loadExample('xor.nngraph');
    const hidden = doc.nodes.find((n) => n.id === 'hidden')!;
    const r = buildOnnxModel(doc, initialWeights(doc), { has: (n) => n.id !== hidden.id });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([`Dense 'hidden' cannot be exported to ONNX: the Dense kind has no ONNX form`]);
  });

  it('has the probabilities the loss implies as a second output', async () => {
    const doc = loadExample('xor.nngraph');
    const exported = exportOnnx(doc, initialWeights(doc));
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const model = decodeModel(exported.value);
    expect(model.graph.input.map((i) => i.name)).toEqual(['x']);
    expect(model.graph.output.map((o) => o.name)).toEqual(['out', 'probabilities']);
    expect(model.opsetImport[0]!.version).toBe(17);
    const r = await ortRun(exported.value, new Float32Array([0, 0, 1, 0]), [2, 2]);
    for (let row = 0; row < 2; row++) {
      const [a, b] = [r.out![2 * row]!, r.out![2 * row + 1]!];
      expect(r.probabilities![2 * row]!).toBeCloseTo(Math.exp(a) / (Math.exp(a) + Math.exp(b)), 6);
    }
  });
});

describe('untrained exports', () => {
  it.each(['xor.nngraph', 'mnist-batchnorm.nngraph', 'residual-mlp.nngraph'])('%s holds the weights the Trainer starts from', async (file) => {
    const doc = loadExample(file);
    const mnist = doc.nodes.some((n) => n.params.source === 'mnist') ? await loadMnistNode() : undefined;
    const trainer = Trainer.create(TFNS, doc, { instrument: false, ...(mnist ? { mnist } : {}) });
    const fromTrainer = decodeWeightsBlock(await trainer.exportWeights());
    trainer.dispose();
    expect(initialWeights(doc)).toEqual(fromTrainer);
  });

  it('refuses a graph with no model output, saying why', () => {
    const g = new GraphBuilder('empty');
    g.add('dataset', 'data');
    const r = exportOnnx(g.build(), {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/no layers/);
  });

  it('refuses a graph with errors on the model path, naming the node', () => {
    const g = new GraphBuilder('bad');
    g.add('dataset', 'data', { source: 'mnist' });
    g.add('dense', 'fc', { units: 10 }).wire('data.x', 'fc.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
    const r = exportOnnx(g.build(), {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/Dense 'fc' needs a flat input/);
  });
});

describe.skipIf(!havePython())('the ONNX checker (Debian python3-onnx)', () => {
  it('accepts every example and every model kind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-onnx-'));
    const docs = [...exampleFiles.map((f) => ({ name: f, doc: loadExample(f) })), ...allKindsGraphs()];
    for (const { name, doc } of docs) {
      const r = exportOnnx(doc, initialWeights(doc));
      if (!r.ok) throw new Error(r.errors.join('\n'));
      writeFileSync(join(dir, `${name}.onnx`), r.value);
    }
    const out = python(['-c', `
import glob, onnx, sys
for f in sorted(glob.glob(sys.argv[1] + '/*.onnx')):
    onnx.checker.check_model(onnx.load(f), full_check=True)
    print('ok', f)
`, dir]);
    expect(out.trim().split('\n')).toHaveLength(docs.length);
  });
});
