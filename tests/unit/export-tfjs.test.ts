/**
 * TensorFlow.js LayersModel export and import as a user relies on them: every example and
 * every kind with a Keras layer exports to a model.json + weights.bin that
 * `tf.loadLayersModel` (through its own http loader, fed from the files on disk) loads and
 * that predicts Gradflow's outputs on the validation set; kinds with no Keras layer are
 * named and nothing is written; the export comes back as a graph with the same structure and
 * the same predictions, and a model built and saved by tfjs itself imports too.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnistNode } from '../../core/data/mnist-node.ts';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { catalogue, kindDef } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import type { ExportFile } from '../../core/io/export/index.ts';
import { exportTfjs, kerasName } from '../../core/io/export/tfjs.ts';
import { importTfjs, importTfjsFiles } from '../../core/io/import/tfjs.ts';
import { encodeZip } from '../../core/io/npz.ts';
import { decodeWeightsBlock, initialWeights } from '../../core/io/weights.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { exampleFiles, loadExample } from './helpers/examples.ts';
import { attachTraining, maxRel, predictWith } from './helpers/imported.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** Examples with a kind no Keras layer computes: refused by name (tested below). */
const NO_KERAS = new Set(['mnist-dropconnect.nngraph']);

/** Write the export to a fresh folder, as `gradflow export --to tfjs` does. */
function writeExport(files: ExportFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-tfjs-'));
  for (const f of files) writeFileSync(join(dir, f.path), f.bytes);
  return dir;
}

/** tf.loadLayersModel on model.json in `dir`, through tfjs's http loader reading the files. */
function loadFromDisk(dir: string): Promise<tf.LayersModel> {
  const fetchFunc = (async (url: string) => new Response(readFileSync(join(dir, new URL(url).pathname.split('/').pop()!)))) as unknown as typeof fetch;
  return tf.loadLayersModel(tf.io.http('http://gradflow.test/model/model.json', { fetchFunc }));
}

/** The model's first output (the scores) on x, with tfjs. */
async function predictTfjs(model: tf.LayersModel, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const input = tf.tensor(x, shape);
  const out = model.predict(input);
  const first = Array.isArray(out) ? out[0]! : (out as tf.Tensor);
  const values = (await first.data()) as Float32Array;
  input.dispose();
  for (const t of Array.isArray(out) ? out : [out as tf.Tensor]) t.dispose();
  return values;
}

/** Every kind with a Keras layer at least once: activations, noise, normalizations, plumbing, images. */
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
    ['elu', 'elu'],
    ['dense', 'fc4', { units: 8 }],
    ['softplus', 'softplus'],
    ['dense', 'fc5', { units: 8, bias: false }],
    ['sigmoid', 'sigmoid'],
    ['dropout', 'drop', { rate: 0.3 }],
    ['dense', 'fc7', { units: 8 }],
    ['tanh', 'tanh'],
    ['linear', 'linear'],
    ['dense', 'out', { units: 3 }],
  ]);
  a.add('softmaxCrossEntropy', 'loss').wire(aOut, 'loss.pred').wire('data.y', 'loss.target');
  a.add('adam', 'opt', { learningRate: 0.01 }).wire('loss.loss', 'opt.loss');

  const b = new GraphBuilder('layers');
  b.add('dataset', 'data', { source: 'moons', samples: 200, targetEncoding: 'binary' });
  const trunk = b.chain('data.x', [
    ['dense', 'fc', { units: 6 }],
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
    ['prelu', 'prelu_grid'],
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
    ['conv2d', 'conv_dilated', { filters: 4, kernelSize: [3, 3], dilation: 2, bias: false }],
    ['avgPool2d', 'avg_same', { poolSize: [2, 3], stride: 1, padding: 'same' }],
  ]);
  c.add('avgPool2d', 'avg_valid').wire('avg_same.out', 'avg_valid.in');
  c.add('maxPool2d', 'max_valid', { poolSize: [2, 2], stride: 1 }).wire('avg_same.out', 'max_valid.in');
  c.add('globalAvgPool2d', 'gap').wire('avg_same.out', 'gap.in');
  c.add('flatten', 'flat').wire('avg_valid.out', 'flat.in');
  c.add('flatten', 'flat_max').wire('max_valid.out', 'flat_max.in');
  c.add('concat', 'cat').wire('flat.out', 'cat.in').wire('flat_max.out', 'cat.in').wire('gap.out', 'cat.in');
  c.add('dense', 'out', { units: 10 }).wire('cat.out', 'out.in');
  c.add('softmaxCrossEntropy', 'loss').wire('out.out', 'loss.pred').wire('data.y', 'loss.target');
  c.add('adam', 'opt', { learningRate: 0.01 }).wire('loss.loss', 'opt.loss');
  return [
    { name: 'activations', doc: a.build() },
    { name: 'layers', doc: b.build() },
    { name: 'images', doc: c.build() },
  ];
}

/** Train a few steps, export, load with tfjs, and compare it with Gradflow on (part of) the validation set. */
async function roundTrip(doc: GraphDocument, steps: number): Promise<{ files: ExportFile[]; diff: number; x: Float32Array; n: number; expected: Float32Array; dir: string }> {
  const mnist = doc.nodes.some((n) => n.params.source === 'mnist') ? await loadMnistNode() : undefined;
  const trainer = Trainer.create(TFNS, doc, { maxSteps: steps, instrument: false, ...(mnist ? { mnist } : {}) });
  try {
    await trainer.run();
    const weights = decodeWeightsBlock(await trainer.exportWeights());
    const exported = exportTfjs(doc, weights);
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const val = trainer.dataset.val;
    const n = Math.min(val.n, 200);
    const x = val.x.subarray(0, n * (val.x.length / val.n));
    const expected = await trainer.predict(x, n);
    const dir = writeExport(exported.value);
    const model = await loadFromDisk(dir);
    const got = await predictTfjs(model, x, [n, ...trainer.dataset.info.xShape]);
    model.dispose();
    return { files: exported.value, diff: maxRel(got, expected), x, n, expected, dir };
  } finally {
    trainer.dispose();
  }
}

/** The model's nodes by (Keras-safe) label and kind, in order. */
const structure = (d: GraphDocument) => d.nodes.filter((m) => kindDef(m.kind)!.role === 'op').map((m) => `${kerasName(m.label || m.id)}:${m.kind}`);

async function importBack(dir: string, name: string): Promise<GraphDocument> {
  const r = await importTfjs(readFileSync(join(dir, 'model.json'), 'utf8'), async (p) => readFileSync(join(dir, p)), name);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.document;
}

describe('TensorFlow.js export: tf.loadLayersModel predicts what Gradflow predicts', () => {
  it.each(exampleFiles.filter((f) => !NO_KERAS.has(f)))('%s, trained a few steps, and back into a graph', async (file) => {
    const before = tf.memory().numTensors;
    const doc = loadExample(file);
    const { diff, dir, x, n, expected } = await roundTrip(doc, 15);
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    // Import: same structure, same predictions once training is attached again. (A table
    // dataset's rows live in its node; the round trip is checked on the generated ones.)
    if (file.startsWith('iris')) return;
    const back = await importBack(dir, doc.metadata.name);
    expect(structure(back)).toEqual(structure(doc));
    const lossKind = doc.nodes.find((m) => kindDef(m.kind)!.role === 'loss')!.kind;
    const data = doc.nodes.find((m) => m.kind === 'dataset')!.params as Record<string, ParamValue>;
    expect(maxRel(await predictWith(TFNS, attachTraining(back, data, lossKind), x, n), expected)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(allKindsGraphs())('every kind with a Keras layer: $name graph, and back', async ({ doc }) => {
    const { diff, dir, x, n, expected } = await roundTrip(doc, 40);
    expect(diff).toBeLessThanOrEqual(1e-5);
    const back = await importBack(dir, doc.metadata.name);
    expect(structure(back)).toEqual(structure(doc));
    const lossKind = doc.nodes.find((m) => kindDef(m.kind)!.role === 'loss')!.kind;
    const data = doc.nodes.find((m) => m.kind === 'dataset')!.params as Record<string, ParamValue>;
    expect(maxRel(await predictWith(TFNS, attachTraining(back, data, lossKind), x, n), expected)).toBeLessThan(1e-5);
    // Parameters come back as set on the canvas.
    for (const m of doc.nodes.filter((m) => kindDef(m.kind)!.role === 'op')) {
      const twin = back.nodes.find((b) => b.label === kerasName(m.label || m.id))!;
      // Initializers do not travel (the weights do); a Reshape's -1 comes back resolved.
      for (const [k, v] of Object.entries(m.params)) {
        if (['initializer', 'sigma', 'alphaInit'].includes(k)) continue;
        const want = m.kind === 'reshape' && k === 'shape' ? analyzeGraph(doc).nodes[m.id]!.outputs.out : v;
        expect([m.id, k, twin.params[k]]).toEqual([m.id, k, want]);
      }
    }
  });

  it('the graphs above use every op kind that has a Keras layer, and each such kind reads its layers back', () => {
    const used = new Set(allKindsGraphs().flatMap((g) => g.doc.nodes.map((n) => n.kind)));
    const exportable = catalogue.filter((d) => d.role === 'op' && d.keras);
    expect(exportable.map((d) => d.kind).filter((k) => !used.has(k))).toEqual([]);
    expect(exportable.filter((d) => !d.fromKeras).map((d) => d.kind)).toEqual([]);
  });

  it('has the probabilities the loss implies as a second output', async () => {
    const doc = loadExample('xor.nngraph');
    const exported = exportTfjs(doc, initialWeights(doc));
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    expect(exported.value.map((f) => f.path)).toEqual(['model.json', 'weights.bin']);
    const model = await loadFromDisk(writeExport(exported.value));
    expect(model.outputNames).toEqual(['out', 'probabilities']);
    expect(model.inputs[0]!.shape).toEqual([null, 2]);
    const input = tf.tensor2d([[0, 1]]);
    const [scores, probs] = model.predict(input) as tf.Tensor[];
    const [a, b] = Array.from(await scores!.data());
    expect((await probs!.data())[0]).toBeCloseTo(Math.exp(a!) / (Math.exp(a!) + Math.exp(b!)), 6);
    tf.dispose([input, scores!, probs!]);
    model.dispose();
  });
});

describe('kinds a LayersModel cannot express', () => {
  it('names DropConnect, RBF, Maxout and |z| by node, and writes nothing', () => {
    const g = new GraphBuilder('no-keras');
    g.add('dataset', 'data', { source: 'spirals', samples: 100 });
    const out = g.chain('data.x', [
      ['rbf', 'centres', { units: 4 }],
      ['maxout', 'pieces', { units: 4 }],
      ['abs', 'rectify'],
      ['dropConnect', 'dc'],
      ['dense', 'out', { units: 2 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    const doc = g.build();
    const r = exportTfjs(doc, initialWeights(doc));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        "RBF units 'centres' cannot be exported to TensorFlow.js: the RBF units kind has no Keras layer",
        "Maxout 'pieces' cannot be exported to TensorFlow.js: the Maxout kind has no Keras layer",
        "Absolute value 'rectify' cannot be exported to TensorFlow.js: the Absolute value kind has no Keras layer",
        "DropConnect 'dc' cannot be exported to TensorFlow.js: the DropConnect kind has no Keras layer",
      ]);
    }
  });

  it('refuses the DropConnect example, naming both nodes', () => {
    const doc = loadExample('mnist-dropconnect.nngraph');
    const r = exportTfjs(doc, initialWeights(doc));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.split(' cannot')[0])).toEqual(["DropConnect 'dropconnect1'", "DropConnect 'dropconnect2'"]);
  });

  it('refuses a Noisy BatchNorm, whose training noise no Keras layer adds', () => {
    const g = new GraphBuilder('noisy');
    g.add('dataset', 'data', { source: 'spirals', samples: 100 });
    const out = g.chain('data.x', [['dense', 'fc', { units: 4 }], ['batchNorm', 'bn', { noise: true }], ['dense', 'out', { units: 2 }]]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    const doc = g.build();
    const r = exportTfjs(doc, initialWeights(doc));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(["BatchNorm 'bn': no Keras layer adds Noisy BatchNorm’s training noise (turn Noisy off to export it; its inference is the plain BatchNorm)"]);
  });

  it('refuses an ELU with α ≠ 1, which TensorFlow.js’s ELU layer does not compute', () => {
    const g = new GraphBuilder('elu');
    g.add('dataset', 'data', { source: 'spirals', samples: 100 });
    const out = g.chain('data.x', [['dense', 'fc', { units: 4 }], ['elu', 'soft', { alpha: 0.5 }], ['dense', 'out', { units: 2 }]]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    const doc = g.build();
    const r = exportTfjs(doc, initialWeights(doc));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(["ELU 'soft': TensorFlow.js's ELU layer computes only α = 1, and this one has α = 0.5"]);
  });
});

describe('importing LayersModels made elsewhere', () => {
  /** Save a tfjs model the way tfjs itself writes model.json and its weights. */
  async function saveTfjs(model: tf.LayersModel): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-tfjs-own-'));
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        const { modelTopology, weightSpecs, weightData, format, generatedBy, convertedBy } = a;
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology, format, generatedBy, convertedBy, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weightSpecs }] }));
        writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return dir;
  }

  it('a Sequential CNN with fused activations, built and saved by tfjs, predicts what tfjs predicts', async () => {
    const before = tf.memory().numTensors;
    const model = tf.sequential({ name: 'cnn' });
    model.add(tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1], name: 'image' }));
    model.add(tf.layers.conv2d({ filters: 3, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu', name: 'conv' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
    model.add(tf.layers.dropout({ rate: 0.2, name: 'drop' }));
    model.add(tf.layers.flatten({ name: 'flat' }));
    model.add(tf.layers.dense({ units: 8, activation: 'tanh', name: 'fc' }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'probs' }));
    const dir = await saveTfjs(model);
    const mnist = await loadMnistNode();
    const n = 50;
    const x = Float32Array.from(mnist.images.subarray(0, n * 784), (v) => v / 255);
    const expected = await predictTfjs(model, x, [n, 784]);
    model.dispose();

    const r = await importTfjs(readFileSync(join(dir, 'model.json'), 'utf8'), async (p) => readFileSync(join(dir, p)), 'cnn');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.document.nodes.map((m) => `${m.label}:${m.kind}`)).toEqual([
      'image_input:input', 'image:reshape', 'conv:conv2d', 'conv_relu:relu', 'pool:maxPool2d', 'flat:flatten', 'fc:dense', 'fc_tanh:tanh', 'probs:dense', 'probs_softmax:softmax',
    ]);
    expect(r.notes.join('\n')).toMatch(/Dropout layer 'drop' is the identity at inference/);
    const doc = attachTraining(r.document, { source: 'mnist', samples: 200 }, 'meanSquaredError');
    expect(maxRel(await predictWith(TFNS, doc, x, n), expected)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names every layer it cannot represent, and imports nothing', async () => {
    const input = tf.input({ shape: [4], name: 'x' });
    const a = tf.layers.dense({ units: 4, activation: 'selu', name: 'fc' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.repeatVector({ n: 2, name: 'repeat' }).apply(input) as tf.SymbolicTensor;
    const c = tf.layers.flatten({ name: 'flat' }).apply(b) as tf.SymbolicTensor;
    const d = tf.layers.concatenate({ name: 'cat' }).apply([a, c]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: d });
    const dir = await saveTfjs(model);
    model.dispose();
    const r = await importTfjs(readFileSync(join(dir, 'model.json'), 'utf8'), async (p) => readFileSync(join(dir, p)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect([...r.errors].sort()).toEqual(["Activation layer 'fc_selu' computes \"selu\", which has no Gradflow node", "RepeatVector layer 'repeat' has no Gradflow node"]);
  });

  it('reads the files a user picks: model.json with its .bin, or the .zip the app exports', async () => {
    const doc = loadExample('xor.nngraph');
    const exported = exportTfjs(doc, initialWeights(doc));
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const picked = exported.value.map((f) => ({ name: f.path, bytes: f.bytes }));
    const zip = encodeZip(exported.value.map((f) => ({ path: `xor-tfjs/${f.path}`, bytes: f.bytes })));
    // The graph is named after the folder in the zip, or after model.json.
    for (const [files, name] of [[picked, 'model'], [[{ name: 'xor-tfjs.zip', bytes: zip }], 'xor']] as const) {
      const r = await importTfjsFiles([...files]);
      if (!r.ok) throw new Error(r.errors.join('\n'));
      expect(r.document.metadata.name).toBe(name);
      expect(r.document.nodes.map((n) => n.kind)).toEqual(['input', 'dense', 'tanh', 'dense']);
      expect(r.document.weights!.tensors.hidden!.kernel!.shape).toEqual([2, 8]);
    }
    const onlyBin = await importTfjsFiles([picked[1]!]);
    expect(onlyBin.ok).toBe(false);
    if (!onlyBin.ok) expect(onlyBin.errors[0]).toMatch(/no model\.json among the chosen files/);
  });

  it('says what is wrong with a damaged model.json or missing weights', async () => {
    const doc = loadExample('xor.nngraph');
    const exported = exportTfjs(doc, initialWeights(doc));
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const json = new TextDecoder().decode(exported.value[0]!.bytes);
    const none = async () => null;
    const cases: [string, string, RegExp][] = [
      ['truncated JSON', json.slice(0, 40), /^model\.json is not JSON/],
      ['a graph model', JSON.stringify({ format: 'graph-model', modelTopology: {} }), /graph model/],
      ['no topology', '{}', /no modelTopology/],
      ['missing weights file', json, /the weight file 'weights\.bin' that model\.json names is missing/],
    ];
    for (const [what, text, message] of cases) {
      const r = await importTfjs(text, none);
      expect([what, r.ok]).toEqual([what, false]);
      if (!r.ok) expect(r.errors[0]).toMatch(message);
    }
    const short = await importTfjs(json, async () => exported.value[1]!.bytes.slice(0, 8));
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.errors[0]).toMatch(/shorter than model\.json says/);
  });
});
