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
import { kindDef } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import { exportOnnx } from '../../core/io/export/onnx.ts';
import { importOnnx } from '../../core/io/import/onnx.ts';
import { loadGraph } from '../../core/io/load.ts';
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
  // The convolution examples wait for an importer of ONNX Conv and pooling ops (not written yet).
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nngraph') && !f.startsWith('iris') && !/^mnist-(lenet|resnet|plain-cnn)\./.test(f)).sort();
  it.each(files)('%s: same structure, same predictions', async (file) => {
    const original = loadExample(file);
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
  });

  it('refuses bytes that are not ONNX, saying so', async () => {
    const r = await importOnnx(new TextEncoder().encode('{"format": "gradflow-graph"}'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^not an ONNX model/);
  });
});
