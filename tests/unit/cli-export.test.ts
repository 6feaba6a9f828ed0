/**
 * `gradflow export`: the file it writes opens in ONNX Runtime, a graph that cannot be
 * exported is refused with the reason and leaves nothing behind, usage mistakes exit 2.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { saveGraph } from '../../core/io/save.ts';

ort.env.wasm.numThreads = 1;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('gradflow export', () => {
  it('writes an ONNX file that ONNX Runtime opens, with the canvas names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-export-'));
    const out = join(dir, 'xor.onnx');
    const r = await run('export', join(ROOT, 'examples/xor.nngraph'), '--to', 'onnx', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${out} (initial weights`);
    const session = await ort.InferenceSession.create(readFileSync(out));
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['out', 'probabilities']);
    await session.release();
  });

  it('refuses a graph it cannot export, says why, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-export-'));
    const g = new GraphBuilder('unflat');
    g.add('dataset', 'data', { source: 'mnist' });
    g.add('dense', 'fc', { units: 10 }).wire('data.x', 'fc.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
    const file = join(dir, 'bad.nngraph');
    writeFileSync(file, saveGraph(g.build()));
    const r = await run('export', file, '--to', 'onnx');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot be exported to onnx:\n {2}- Dense 'fc' needs a flat input/);
    expect(existsSync(join(dir, 'bad.onnx'))).toBe(false);
  });

  it('writes a PyTorch project folder whole, and import-weights refuses weights of another graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-export-'));
    const out = join(dir, 'xor-pytorch');
    const r = await run('export', join(ROOT, 'examples/xor.nngraph'), '--to', 'pytorch', '--out', out);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'data.npz', 'model.py', 'train.py', 'weights.npz']);
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain("self.hidden = Dense(2, 8, bias=True, drop_connect=0)  # Dense 'hidden'");
    // The project's weights.npz (initial weights only: the example is untrained) loads back.
    const graph = join(dir, 'xor.nngraph');
    writeFileSync(graph, readFileSync(join(ROOT, 'examples/xor.nngraph')));
    const back = await run('import-weights', graph, join(out, 'weights.npz'));
    expect(back.err).toBe('');
    expect(back.out).toContain('with the initial weights');
    const wrong = await run('import-weights', join(ROOT, 'examples/mnist-mlp.nngraph'), join(out, 'weights.npz'), '--out', join(dir, 'x.nngraph'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain("has no 'fc1.kernel' (the kernel of Dense 'fc1', shape [784, 256])");
    expect(existsSync(join(dir, 'x.nngraph'))).toBe(false);
  });

  it('writes a TensorFlow.js LayersModel folder, and gradflow import reads it back into a graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-export-'));
    const graph = join(dir, 'xor.nngraph');
    writeFileSync(graph, readFileSync(join(ROOT, 'examples/xor.nngraph')));
    const r = await run('export', graph, '--to', 'tfjs');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'xor-tfjs');
    expect(r.out).toContain(`wrote ${out} (initial weights`);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    const back = await run('import', join(out, 'model.json'));
    expect(back.err).toBe('');
    // Named after the folder, written inside it (never over the graph it came from).
    expect(back.out).toContain(`wrote ${join(out, 'xor.nngraph')}: 4 nodes`);
    const imported = JSON.parse(readFileSync(join(out, 'xor.nngraph'), 'utf8')) as { nodes: { id: string; kind: string }[] };
    expect(imported.nodes.map((n) => `${n.id}:${n.kind}`)).toEqual(['Data:input', 'hidden:dense', 'tanh:tanh', 'out:dense']);
    // A kind with no Keras layer: named, and no folder is left behind.
    const dc = await run('export', join(ROOT, 'examples/mnist-dropconnect.nngraph'), '--to', 'tfjs', '--out', join(dir, 'dc'));
    expect(dc.code).toBe(1);
    expect(dc.err).toContain("DropConnect 'dropconnect1' cannot be exported to TensorFlow.js: the DropConnect kind has no Keras layer");
    expect(existsSync(join(dir, 'dc'))).toBe(false);
  });

  it.each([
    [['export', 'x.nngraph'], /export needs --to onnx\|pytorch/],
    [['export', 'x.nngraph', '--to', 'caffe'], /got 'caffe'/],
    [['export', '--to', 'onnx'], /export needs a FILE/],
  ])('%j is a usage error', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
