/**
 * ONNX import as a user relies on it: a model made by torch.onnx.export (Debian's torch)
 * becomes a graph that predicts what torch predicts once a Dataset, a loss and an
 * optimizer are attached; Gradflow's own exports come back with the same structure and the
 * same predictions; an op Gradflow cannot represent is named with its node, and nothing is
 * imported.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
import { exportOnnx } from '../../core/io/export/onnx.ts';
import { importOnnx } from '../../core/io/import/onnx.ts';
import { loadGraph } from '../../core/io/load.ts';
import { DataType, encodeModel, type NodeProto, type TensorProto } from '../../core/io/onnx/proto.ts';
import { decodeNpz } from '../../core/io/npz.ts';
import { decodeWeightsBlock } from '../../core/io/weights.ts';
import { Trainer } from '../../core/train/trainer.ts';
import { attachTraining, maxRel, predictWith as predictWithTf } from './helpers/imported.ts';
import { havePython, python } from './helpers/python.ts';

tf.enableProdMode();
const TFNS = tf as unknown as TF;
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const EXAMPLES = join(import.meta.dirname, '../../examples');
const loadExample = (file: string): GraphDocument => {
  const r = loadGraph(readFileSync(join(EXAMPLES, file)));
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
};

const predictWith = (doc: GraphDocument, x: Float32Array, n: number) => predictWithTf(TFNS, doc, x, n);

const TORCH_MODEL = `
import sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.fc1 = nn.Linear(2, 16); s.bn = nn.BatchNorm1d(16); s.act = nn.ReLU(); s.drop = nn.Dropout(0.3)
        s.fc2 = nn.Linear(16, 16); s.ln = nn.LayerNorm(16); s.t = nn.Tanh(); s.leaky = nn.LeakyReLU(0.1)
        s.fc3 = nn.Linear(16, 16, bias=False); s.elu = nn.ELU(0.5); s.prelu = nn.PReLU(32); s.out = nn.Linear(32, 3)
    def forward(s, x):
        h = s.drop(s.act(s.bn(s.fc1(x))))
        r = s.t(s.ln(s.fc2(h))) + s.leaky(h)
        c = torch.cat([torch.sigmoid(s.fc3(r)), s.elu(r)], -1)
        return s.out(s.prelu(torch.flatten(c, 1)))
m = Net()
with torch.no_grad():
    m.bn.running_mean.uniform_(-1, 1); m.bn.running_var.uniform_(0.5, 2); m.prelu.weight.uniform_(0, 0.5)
m.eval()
x = torch.randn(64, 2)
torch.onnx.export(m, x, sys.argv[1] + "/net.onnx", input_names=["x"], output_names=["scores"], dynamic_axes={"x": {0: "N"}, "scores": {0: "N"}}, opset_version=17)
np.savez(sys.argv[1] + "/io.npz", x=x.numpy(), y=m(x).detach().numpy())
`;

/** Two branches over a channels-first image, joined twice: the Flatten of a c·h·w image feeds a Linear. */
const TORCH_CNN = `
import sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(1, 4, 3, padding=1); s.bn = nn.BatchNorm2d(4); s.pool = nn.MaxPool2d(2)
        s.conv2 = nn.Conv2d(4, 6, (3, 2), stride=2); s.avg = nn.AvgPool2d(2, stride=1); s.gap = nn.AdaptiveAvgPool2d(1)
        s.fc = nn.Linear(6 * 5 * 6 + 6, 10); s.side = nn.Conv2d(4, 10, 3, dilation=2)
    def forward(s, x):
        h = s.pool(s.bn(torch.relu(s.conv1(x))))  # after the ReLU: torch would fold a BatchNorm right after a Conv into it
        a = torch.relu(s.conv2(h))
        z = s.fc(torch.cat([torch.flatten(s.avg(a), 1), torch.flatten(s.gap(a), 1)], 1))
        return z + s.side(h).mean((2, 3))
m = Net()
with torch.no_grad():
    m.bn.running_mean.uniform_(-1, 1); m.bn.running_var.uniform_(0.5, 2)
m.eval()
x = torch.rand(16, 1, 28, 28)
torch.onnx.export(m, x, sys.argv[1] + "/cnn.onnx", input_names=["x"], output_names=["scores"], dynamic_axes={"x": {0: "N"}, "scores": {0: "N"}}, opset_version=17)
np.savez(sys.argv[1] + "/io.npz", x=x.numpy(), y=m(x).detach().numpy())
`;

describe.skipIf(!havePython())('a model made by torch.onnx.export (Debian python3-torch)', () => {
  it('imports into an editable graph that predicts what torch predicts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-torch-onnx-'));
    python(['-c', TORCH_MODEL, dir]);
    const r = await importOnnx(readFileSync(join(dir, 'net.onnx')), 'net');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const doc = r.document;
    expect(doc.nodes.map((n) => `${n.label}:${n.kind}`)).toEqual([
      'x:input', 'fc1:dense', 'bn:batchNorm', 'act:relu', 'fc2:dense', 'ln:layerNorm', 't:tanh', 'leaky:leakyRelu', 'Add:add',
      'fc3:dense', 'Sigmoid:sigmoid', 'elu:elu', 'Concat:concat', 'Flatten:flatten', 'prelu:prelu', 'out:dense',
    ]);
    expect(analyzeGraph(doc).errors).toBe(0);
    // Laid out left to right by ELK: the input comes first.
    expect(doc.nodes[0]!.position.x).toBeLessThan(doc.nodes.find((n) => n.label === 'out')!.position.x);
    const io = await decodeNpz(readFileSync(join(dir, 'io.npz')));
    const got = await predictWith(attachTraining(doc, { source: 'spirals', classes: 3, samples: 100 }), io.x!.data as Float32Array, 64);
    expect(maxRel(got, io.y!.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('imports a CNN (Conv, BatchNorm2d, MaxPool, AvgPool, global pooling, Flatten into Linear) that predicts what torch predicts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-torch-onnx-'));
    python(['-c', TORCH_CNN, dir]);
    const r = await importOnnx(readFileSync(join(dir, 'cnn.onnx')), 'cnn');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const doc = r.document;
    expect(doc.nodes.map((n) => n.kind)).toEqual(['input', 'conv2d', 'relu', 'batchNorm', 'maxPool2d', 'conv2d', 'relu', 'avgPool2d', 'flatten', 'globalAvgPool2d', 'concat', 'dense', 'conv2d', 'globalAvgPool2d', 'add']);
    expect(doc.nodes[0]!.params.shape).toEqual([28, 28, 1]);
    expect(doc.nodes.filter((n) => n.kind === 'conv2d').map((n) => [n.params.kernelSize, n.params.stride, n.params.padding, n.params.dilation])).toEqual([[[3, 3], 1, 'same', 1], [[3, 2], 2, 'valid', 1], [[3, 3], 1, 'valid', 2]]);
    expect(r.notes.join('\n')).toMatch(/is an image \[1, 28, 28\] \(channels first, as ONNX has it\)/);
    expect(analyzeGraph(doc).errors).toBe(0);
    const io = await decodeNpz(readFileSync(join(dir, 'io.npz')));
    // One channel: torch's [N, 1, 28, 28] are the same values as Gradflow's [N, 28, 28, 1].
    const got = await predictWith(attachTraining(doc, { source: 'mnist', samples: 200 }, 'meanSquaredError'), io.x!.data as Float32Array, 16);
    expect(maxRel(got, io.y!.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('names what it cannot follow in a CNN: a grouped convolution, strides that differ per axis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-torch-onnx-'));
    python(['-c', `
import sys, torch, torch.nn as nn
class Two(nn.Module):
    def __init__(s):
        super().__init__()
        s.grouped = nn.Conv2d(2, 4, 3, groups=2); s.wide = nn.Conv2d(2, 4, 3, stride=(1, 2))
    def forward(s, x):
        return s.grouped(x), s.wide(x)
torch.onnx.export(Two().eval(), torch.randn(3, 2, 8, 8), sys.argv[1] + "/bad.onnx", input_names=["x"], opset_version=17)
`, dir]);
    const r = await importOnnx(readFileSync(join(dir, 'bad.onnx')));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        "Conv node '/grouped/Conv' is a grouped convolution (group = 2); Gradflow's Conv2D connects every input channel to every filter",
        "Conv node '/wide/Conv' has strides [1, 2]; Gradflow uses one stride for height and width of 2-D images",
      ]);
    }
  });

  it('names an op it cannot represent, with its node, and imports nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-torch-onnx-'));
    python(['-c', `
import sys, torch, torch.nn as nn
m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Hardswish(), nn.Linear(8, 2)).eval()
torch.onnx.export(m, torch.randn(3, 4), sys.argv[1] + "/bad.onnx", input_names=["x"], opset_version=17)
`, dir]);
    const r = await importOnnx(readFileSync(join(dir, 'bad.onnx')));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([`HardSwish node '/2/HardSwish': the op HardSwish has no Gradflow node`]);
  });
});

describe('Gradflow’s own ONNX exports come back', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nngraph') && !f.startsWith('iris')).sort();
  it.each(files)('%s: same structure, same predictions', async (file) => {
    await comesBack(loadExample(file));
  });

  it('a DropConnect before a Conv2D, with same padding, stride and dilation, comes back as it was', async () => {
    const g = new GraphBuilder('dc-conv');
    g.add('dataset', 'data', { source: 'mnist', samples: 200, batchSize: 32 });
    const out = g.chain('data.x', [
      ['reshape', 'image', { shape: [28, 28, 1] }],
      ['conv2d', 'conv_same', { filters: 3, kernelSize: [3, 2], stride: 2, padding: 'same' }],
      ['relu', 'relu'],
      ['avgPool2d', 'avg_same', { poolSize: [3, 3], stride: 2, padding: 'same' }],
      ['dropConnect', 'dc', { rate: 0.25 }],
      ['conv2d', 'conv_dilated', { filters: 4, kernelSize: [3, 3], dilation: 2, bias: false }],
      ['flatten', 'flat'],
      ['dense', 'out', { units: 10 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const back = await comesBack(g.build());
    expect(back.nodes.find((n) => n.label === 'dc')!.params.rate).toBe(0.25);
  });

  async function comesBack(original: GraphDocument): Promise<GraphDocument> {
    const mnist = original.nodes.some((n) => n.params.source === 'mnist') ? await loadMnistNode() : undefined;
    const trainer = Trainer.create(TFNS, original, { instrument: false, maxSteps: 5, ...(mnist ? { mnist } : {}) });
    await trainer.run();
    const block = await trainer.exportWeights();
    const val = trainer.dataset.val;
    const n = Math.min(val.n, 200);
    const x = val.x.subarray(0, n * (val.x.length / val.n));
    const expected = await trainer.predict(x, n);
    trainer.dispose();
    const exported = exportOnnx(original, decodeWeightsBlock(block));
    if (!exported.ok) throw new Error(exported.errors.join('\n'));
    const r = await importOnnx(exported.value, original.metadata.name);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    // Structure: the same model nodes, by label and kind, in order (the probabilities output
    // is left to the loss).
    const model = (d: GraphDocument) =>
      d.nodes.filter((m) => kindDef(m.kind)!.role === 'op').map((m) => `${m.label || m.id}:${m.kind}`);
    expect(model(r.document)).toEqual(model(original));
    expect(r.notes.join('\n')).toMatch(/probabilities|^$/);
    const lossKind = original.nodes.find((m) => kindDef(m.kind)!.role === 'loss')!.kind;
    const data = original.nodes.find((m) => m.kind === 'dataset')!.params as Record<string, ParamValue>;
    const got = await predictWith(attachTraining(r.document, data, lossKind), x, n);
    expect(maxRel(got, expected)).toBeLessThan(1e-5);
    return r.document;
  }

  it('refuses bytes that are not ONNX, saying so', async () => {
    const r = await importOnnx(new TextEncoder().encode('{"format": "gradflow-graph"}'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^not an ONNX model/);
  });
});

/** A small ONNX model written by hand: the input x [N, features], the nodes, the output y. */
function handMade(features: number, node: NodeProto[], initializer: TensorProto[] = []): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ version: 17 }],
    graph: {
      node,
      initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: features }] } } } }],
      output: [{ name: 'y' }],
    },
  });
}
const floats = (name: string, dims: number[], values: number[]): TensorProto => ({ name, dims, dataType: DataType.FLOAT, floatData: values });

/**
 * Op kinds with an ONNX form that read nothing back, each with the reason: a new kind with
 * an exporter adds a reader (NodeKindDef.fromOnnx) or a line here.
 */
const NOT_READ_BACK: Record<string, string> = {
  rbf: 'exported as a dozen elementwise ops (‖x − c‖² expanded), not one op a reader could claim',
  maxout: 'exported as Gemm, Reshape and ReduceMax: the Gemm reads back as a Dense',
  linear: 'exported as an Identity, which the importer leaves out',
  dropConnect: 'exported as an Identity; the layer it feeds reads it back (Gemm’s α, a kernel times p)',
  gaussianNoise: 'no noise at inference: exported as an Identity, which the importer leaves out',
};

describe('each ONNX op becomes the kind that reads it (NodeKindDef.fromOnnx)', () => {
  it('every op kind with an ONNX form reads its op back, or says why not', () => {
    const unread = catalogue.filter((d) => d.role === 'op' && d.onnx && !d.fromOnnx).map((d) => d.kind);
    expect(unread.sort()).toEqual(Object.keys(NOT_READ_BACK).sort());
  });

  it('names an op no kind reads, with its node, and imports nothing', async () => {
    const r = await importOnnx(handMade(4, [
      { opType: 'Relu', name: 'act', input: ['x'], output: ['h'] },
      { opType: 'HardSwish', name: 'hs', input: ['h'], output: ['y'] },
    ]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([`HardSwish node 'hs': the op HardSwish has no Gradflow node`]);
  });

  it('an op type several kinds claim goes to the one whose reader takes it: a MatMul’s bias Add is the Dense’s bias', async () => {
    const w = [1, 2, 3, 4, 5, 6];
    const r = await importOnnx(handMade(2, [
      { opType: 'MatMul', name: 'fc', input: ['x', 'W'], output: ['m'] },
      { opType: 'Add', name: 'fc_bias', input: ['m', 'b'], output: ['y'] },
    ], [floats('W', [2, 3], w), floats('b', [3], [0.5, -1, 2])]));
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.document.nodes.map((n) => `${n.label}:${n.kind}`)).toEqual(['x:input', 'fc:dense']);
    expect(r.document.nodes[1]!.params).toMatchObject({ units: 3, bias: true });
    const weights = decodeWeightsBlock(r.document.weights!).fc!;
    expect([...weights.kernel!.values]).toEqual(w);
    expect([...weights.bias!.values]).toEqual([0.5, -1, 2]);
  });

  it('an Add of two tensors is an Add node; an Add of a constant that is no MatMul’s bias is refused by name', async () => {
    const sum = await importOnnx(handMade(3, [
      { opType: 'Relu', name: 'a', input: ['x'], output: ['ha'] },
      { opType: 'Tanh', name: 'b', input: ['x'], output: ['hb'] },
      { opType: 'Add', name: 'skip', input: ['ha', 'hb'], output: ['y'] },
    ]));
    if (!sum.ok) throw new Error(sum.errors.join('\n'));
    expect(sum.document.nodes.map((n) => `${n.label}:${n.kind}`)).toEqual(['x:input', 'a:relu', 'b:tanh', 'skip:add']);
    expect(sum.document.edges.filter((e) => e.target === 'skip').map((e) => e.source)).toEqual(['a', 'b']);

    const shifted = await importOnnx(handMade(3, [
      { opType: 'Relu', name: 'act', input: ['x'], output: ['h'] },
      { opType: 'Add', name: 'shift', input: ['h', 'c'], output: ['y'] },
    ], [floats('c', [3], [1, 1, 1])]));
    expect(shifted.ok).toBe(false);
    if (!shifted.ok) expect(shifted.errors).toEqual([`Add node 'shift' adds a constant, which Gradflow represents only as the bias of a MatMul it follows`]);
  });
});
