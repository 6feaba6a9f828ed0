/**
 * Hostile files: graph files come from strangers. Every damaged or absurd one is refused (or
 * flagged) with a short message naming what and where, that echoes nothing unbounded and
 * nothing that could drive a terminal; what check calls trainable trains; weights are checked
 * against the graph; an absurd model is refused before it is allocated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalErrorReport, main, type Io } from '../../core/cli/main.ts';
import { DEFAULT_MEMORY_LIMIT, estimateMemory, memoryProblem, parseBytes } from '../../core/compile/memory.ts';
import { compilePlan } from '../../core/compile/plan.ts';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { clip, echo, escapeControls, preview, quoted, summarize, terminalSafe } from '../../core/graph/text.ts';
import type { TF } from '../../core/graph/types.ts';
import { encodeFloat32 } from '../../core/io/base64.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { NotTrainableError, Trainer } from '../../core/train/trainer.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XOR = readFileSync(join(ROOT, 'examples', 'xor.nngraph'), 'utf8');
/** Any control character a terminal acts on, or a bidirectional override. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const STACK_LINE = /^\s+at /m;
const MEGA = 'x'.repeat(1 << 20);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RawFile = any;
function mutate(change: (file: RawFile) => void): string {
  const file = JSON.parse(XOR) as RawFile;
  change(file);
  return JSON.stringify(file);
}

/** The XOR graph with zero weights of exactly the shapes its analysis gives. */
function xorWithWeights(): RawFile {
  const file = JSON.parse(XOR) as RawFile;
  const a = analyzeGraph(file as GraphDocument);
  const tensors: Record<string, Record<string, unknown>> = {};
  for (const [id, n] of Object.entries(a.nodes)) {
    for (const w of n.weights) {
      (tensors[id] ??= {})[w.name] = { shape: w.shape, dtype: 'float32', data: encodeFloat32(new Float32Array(w.shape.reduce((x, y) => x * y, 1))) };
    }
  }
  file.weights = { step: 10, epoch: 1, backend: 'cpu', savedAt: '2026-01-01T00:00:00.000Z', tensors };
  return file;
}
function weightsMutate(change: (file: RawFile) => void): string {
  const file = xorWithWeights();
  change(file);
  return JSON.stringify(file);
}
const floats = (...v: number[]) => encodeFloat32(new Float32Array(v));

interface Damaged {
  name: string;
  input: string;
  /** Text the one message must contain. */
  message: string | RegExp;
}

describe('damaged files are refused with one short, clean message', () => {
  const table: Damaged[] = [
    { name: 'a parameter called "toString"', input: mutate((f) => (f.nodes[1].params.toString = 1)), message: 'Dense has no parameter "toString"' },
    { name: 'a parameter called "hasOwnProperty"', input: mutate((f) => (f.nodes[1].params.hasOwnProperty = true)), message: 'Dense has no parameter "hasOwnProperty"' },
    { name: 'a parameter called "valueOf"', input: mutate((f) => (f.nodes[2].params.valueOf = 'x')), message: 'Tanh has no parameter "valueOf"' },
    { name: 'ESC in a node id', input: mutate((f) => (f.nodes[2].id = 'tanh\u001b[2J')), message: "a node id must not contain control characters (such as ESC, BEL, CR or NUL), but this one reads 'tanh\\e[2J'" },
    { name: 'BEL in a kind', input: mutate((f) => (f.nodes[2].kind = 'tanh\u0007')), message: "a node kind must not contain control characters (such as ESC, BEL, CR or NUL), but this one reads 'tanh\\a'" },
    { name: 'NUL in an edge id', input: mutate((f) => (f.edges[0].id = 'e\u0000')), message: "an edge id must not contain control characters" },
    { name: 'CR in a port name', input: mutate((f) => (f.edges[0].targetPort = 'in\rDONE')), message: "'in\\rDONE'" },
    { name: 'BS in a port name', input: mutate((f) => (f.edges[0].sourcePort = 'x\b\b')), message: "'x\\b\\b'" },
    { name: 'a C1 control (CSI) in an id', input: mutate((f) => (f.nodes[2].id = 'a\u009b31m')), message: "'a\\x9b31m'" },
    { name: 'a 1 MB port name', input: mutate((f) => (f.edges[1].targetPort = MEGA)), message: /has no input port 'x{50,60}…'/ },
    { name: 'a 1 MB format string', input: mutate((f) => (f.format = MEGA)), message: /expected "format": "gradflow-graph", got "x{50,60}…"/ },
    { name: 'a 1 MB version object', input: mutate((f) => (f.version = { big: MEGA })), message: /"version" must be a whole number ≥ 1, got \{"big":"x+…/ },
    { name: 'ten thousand unknown fields', input: mutate((f) => Object.assign(f, Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}`, i])))), message: /unknown fields .*… \(10,000 in all\)/ },
    { name: 'an unknown field with a 1 MB name', input: mutate((f) => (f[MEGA] = 1)), message: /unknown field "x+…"/ },
    { name: 'a 1 MB newer appVersion', input: mutate((f) => ((f.version = 99), (f.metadata.appVersion = MEGA))), message: /made by Gradflow x+…/ },
    { name: 'NaN in trained weights', input: weightsMutate((f) => (f.weights.tensors.hidden.bias.data = floats(0, 0, 0, NaN, 0, 0, 0, 0))), message: "the trained 'bias' of Dense 'hidden' holds NaN (value 3 of 8)" },
    { name: 'Infinity in trained weights', input: weightsMutate((f) => (f.weights.tensors.out.bias.data = floats(Infinity, 0))), message: "the trained 'bias' of Dense 'out' holds Infinity" },
    { name: 'trained weights for a node without weights', input: weightsMutate((f) => (f.weights.tensors.tanh = { kernel: { shape: [1], dtype: 'float32', data: floats(1) } })), message: "Tanh 'tanh' has no weights, but the file holds trained weights for it ('kernel')" },
    { name: 'trained weights for a node that is not there', input: weightsMutate((f) => (f.weights.tensors.ghost = {})), message: "trained weights for node 'ghost', which is not in the file" },
  ];

  it.each(table)('$name', ({ input, message }) => {
    const result = loadGraph(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.error.message;
    if (typeof message === 'string') expect(text).toContain(message);
    else expect(text).toMatch(message);
    expect(text.length).toBeLessThan(400);
    expect(text).not.toMatch(RAW_CONTROL);
  });

  it('labels may hold any text: they load, and every message that names them is escaped and bounded', () => {
    const label = `\u001b]0;pwned\u0007\r${'L'.repeat(180)}`;
    const r = loadGraph(mutate((f) => (f.nodes.push({ id: 'lonely', kind: 'relu', label, position: { x: 0, y: 0 }, params: {} }))));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.document.nodes.at(-1)!.label).toBe(label);
    const warning = analyzeGraph(r.document).issues.find((i) => i.nodeId === 'lonely')!;
    expect(warning.message).toContain("ReLU '\\e]0;pwned\\a\\rLLL");
    expect(warning.message).not.toMatch(RAW_CONTROL);
    expect(warning.message.length).toBeLessThan(200);
  });
});

describe('trained weights are checked against the graph', () => {
  it('weights that fit load without a word', () => {
    const r = loadGraph(JSON.stringify(xorWithWeights()));
    expect(r.ok && r.warnings).toEqual([]);
  });

  it.each([
    { name: 'a tensor of the wrong shape', change: (f: RawFile) => (f.weights.tensors.hidden.kernel = { shape: [2, 4], dtype: 'float32', data: floats(...Array(8).fill(0)) }), flag: "the kernel of Dense 'hidden' is [2, 4] but the graph needs [2, 8]" },
    { name: 'a tensor of the wrong rank', change: (f: RawFile) => (f.weights.tensors.out.bias = { shape: [1, 2], dtype: 'float32', data: floats(0, 0) }), flag: "the bias of Dense 'out' is [1, 2] but the graph needs [2]" },
    { name: 'a missing tensor', change: (f: RawFile) => delete f.weights.tensors.out.bias, flag: "Dense 'out' has no bias" },
    { name: 'a layer without any tensors', change: (f: RawFile) => delete f.weights.tensors.out, flag: "Dense 'out' has none" },
    { name: 'an unknown tensor name', change: (f: RawFile) => (f.weights.tensors.out.gamma = { shape: [2], dtype: 'float32', data: floats(1, 1) }), flag: "Dense 'out' has no tensor 'gamma' in this graph" },
  ])('$name: the file loads, and the weights are flagged as unusable, naming node and tensor', ({ change, flag }) => {
    const r = loadGraph(weightsMutate(change));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^the trained weights in the file do not fit the graph, so they cannot be used/);
    expect(r.warnings[0]).toContain(flag);
  });

  it('gradflow check shows the flag, and gradflow train refuses the weights instead of ignoring them', async () => {
    await inTempDir(async (dir) => {
    const path = join(dir, 'wide.nngraph');
    writeFileSync(path, weightsMutate((f) => (f.nodes[1].params.units = 16)));
    const checked = await cli('check', path);
    expect(checked.out).toContain("warning: the trained weights in the file do not fit the graph, so they cannot be used");
    expect(checked.out).toContain("the kernel of Dense 'hidden' is [2, 8] but the graph needs [2, 16]");
    const trained = await cli('train', path, '--backend', 'cpu', '--steps', '1');
    expect(trained.code).toBe(1);
    expect(trained.err).toContain("the saved kernel of Dense 'hidden' has shape [2, 8] but the graph needs [2, 16]");
    expect(trained.err).not.toMatch(STACK_LINE);
    });
  });

  it('a node called "toString" with no saved weights is reported as missing, not found on Object.prototype', () => {
    const r = loadGraph(
      weightsMutate((f) => {
        f.nodes[3].id = 'toString';
        for (const e of f.edges) for (const k of ['source', 'target']) if (e[k] === 'out') e[k] = 'toString';
        delete f.weights.tensors.out;
      }),
    );
    expect(r.ok && r.warnings[0]).toContain("Dense 'toString' has none");
  });
});

/** Run `body` with a fresh temporary folder, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-hostile-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('what check calls trainable, the compiler can run', () => {
  it('an Input feeding the network next to a Dataset is an error on the Input', () => {
    const g = new GraphBuilder('input next to data');
    g.add('dataset', 'data', { source: 'xor' }).add('input', 'inp', { shape: [2] });
    g.add('dense', 'fc', { units: 2 }).wire('inp.x', 'fc.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const a = analyzeGraph(g.doc);
    expect(a.issues.find((i) => i.code === 'graph/input-with-dataset')).toMatchObject({ severity: 'error', nodeId: 'inp' });
    expect(a.canTrain).toBe(false);
    expect(compilePlan(g.doc).ok).toBe(false);
  });

  it('a loss fed straight by the Dataset has nothing to train, and says so', () => {
    const g = new GraphBuilder('no weights');
    g.add('dataset', 'data', { source: 'xor' });
    g.add('meanSquaredError', 'loss').wire('data.x', 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'opt').wire('loss.loss', 'opt.loss');
    const a = analyzeGraph(g.doc);
    const e = a.issues.find((i) => i.code === 'graph/nothing-to-train');
    expect(e).toMatchObject({ severity: 'error', nodeId: 'loss', port: 'pred' });
    expect(e!.message).toContain("Mean squared error 'loss'");
    expect(a.canTrain).toBe(false);
  });

  it('gradflow train on such a file exits 1 with the message, never a stack trace', async () => {
    await inTempDir(async (dir) => {
    const g = new GraphBuilder('no weights');
    g.add('dataset', 'data', { source: 'xor' }).add('relu', 'r').wire('data.x', 'r.in');
    g.add('meanSquaredError', 'loss').wire('r.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'opt').wire('loss.loss', 'opt.loss');
    const path = join(dir, 'g.nngraph');
    writeFileSync(path, saveGraph(g.doc));
    const r = await cli('train', path, '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.err).toContain('nothing to train');
    expect(r.err).not.toContain('internal error');
    expect(r.err).not.toMatch(STACK_LINE);
    });
  });

  it('an internal error reads as a bug report, with the stack only on request', () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'shape')");
    const plain = internalErrorReport(e, false);
    expect(plain).toContain("gradflow: internal error: Cannot read properties of undefined (reading 'shape')");
    expect(plain).toContain('This is a bug in Gradflow, not a mistake in your file or command');
    expect(plain).toContain('GRADFLOW_DEBUG=1');
    expect(plain).not.toMatch(STACK_LINE);
    expect(internalErrorReport(e, true)).toMatch(STACK_LINE);
    expect(internalErrorReport(new Error(`\u001b[2J${MEGA}`), false).length).toBeLessThan(600);
  });
});

describe('messages about big graphs are summarised', () => {
  it('a cycle of 5,000 nodes is one short line', () => {
    const doc = new GraphBuilder('ring').add('input', 'src', { shape: [4] }).doc;
    for (let i = 0; i < 5000; i++) doc.nodes.push({ id: `n${i}`, kind: i === 0 ? 'add' : 'relu', params: {}, position: { x: i, y: 0 } });
    doc.edges.push({ id: 'src', source: 'src', sourcePort: 'x', target: 'n0', targetPort: 'in' });
    for (let i = 0; i < 5000; i++) doc.edges.push({ id: `e${i}`, source: `n${i}`, sourcePort: 'out', target: `n${(i + 1) % 5000}`, targetPort: 'in' });
    const cycle = analyzeGraph(doc).issues.find((i) => i.code === 'graph/cycle')!;
    expect(cycle.message).toMatch(/^cycle of 5,000 nodes: n0 → n1 → n2 → n3 → … → n4999 → n0\. Data must flow one way/);
    expect(cycle.message.length).toBeLessThan(200);
  });

  it('a self-loop loads, and reads as a node wired into itself rather than as a second edge', () => {
    const r = loadGraph(mutate((f) => f.edges.push({ id: 'loop', source: 'tanh', sourcePort: 'out', target: 'tanh', targetPort: 'in' })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const messages = analyzeGraph(r.document).issues.map((i) => i.message);
    expect(messages).toContain("'tanh' is wired into itself");
    expect(messages.join('\n')).not.toContain('takes one edge');
  });

  it('a thousand edges into one single-edge port are summarised', () => {
    const g = new GraphBuilder('fan in').add('relu', 'r');
    for (let i = 0; i < 1000; i++) g.add('input', `i${i}`, { shape: [2] }).wire(`i${i}.x`, 'r.in');
    const taken = analyzeGraph(g.doc).issues.find((i) => i.code === 'wiring/port-taken')!;
    expect(taken.message).toBe("'r''s input 'in' takes one edge but has 1,000 (from 'i0', 'i1', 'i2', … (1,000 in all)): use an Add or Concat node to combine them");
  });
});

describe('gradflow check never lets a file drive the terminal', () => {
  it('labels with escape sequences are printed escaped in the table and the warnings', async () => {
    await inTempDir(async (dir) => {
    const path = join(dir, 'esc.nngraph');
    writeFileSync(path, mutate((f) => ((f.nodes[2].label = '\u001b[2J\u001b[31mred\u0007\b'), (f.metadata.name = '\u001b]0;title\u0007'))));
    const r = await cli('check', path);
    expect(r.code).toBe(0);
    expect(r.out + r.err).not.toMatch(RAW_CONTROL);
    expect(r.out).toContain('tanh (\\e[2J\\e[31mred\\a\\b)');
    const json = await cli('check', path, '--json');
    expect(json.out).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.out).nodes[2].id).toBe('tanh');
    });
  });
});

describe('the memory a graph needs is estimated before anything is allocated', () => {
  const absurd = () => {
    const g = new GraphBuilder('absurd');
    g.add('dataset', 'data', { source: 'xor' });
    g.add('dense', 'wide', { units: 65_536 }).wire('data.x', 'wide.in');
    g.add('dense', 'huge', { units: 65_536 }).wire('wide.out', 'huge.in');
    g.add('dense', 'head', { units: 2 }).wire('huge.out', 'head.in');
    g.add('softmaxCrossEntropy', 'loss').wire('head.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    return g.doc;
  };

  it('counts weights, gradients, optimizer state and activations', () => {
    const doc = JSON.parse(XOR) as GraphDocument;
    const a = analyzeGraph(doc);
    const m = estimateMemory(doc, a);
    const params = a.totals.trainable; // 2·8 + 8 + 8·2 + 2 = 42
    expect(params).toBe(42);
    expect(m.weights).toBe(42 * 4);
    expect(m.gradients).toBe(42 * 4);
    expect(m.optimizerState).toBe(42 * 4 * m.optimizerSlots);
    expect(m.optimizerSlots).toBeGreaterThanOrEqual(2); // Adam keeps two moments
    const batch = (doc.nodes[0]!.params.batchSize as number) ?? 0;
    expect(m.batchSize).toBe(batch);
    // x [2], y [2], hidden [8], tanh [8], out [2], loss [] (1): forward value and gradient per batch row.
    expect(m.activations).toBe((2 + 2 + 8 + 8 + 2 + 1) * batch * 4 * 2);
    expect(m.total).toBe(m.weights + m.gradients + m.optimizerState + m.activations);
  });

  it('a 65,536 × 65,536 Dense is shown in check and refused by train, before it is allocated', async () => {
    const doc = absurd();
    const m = estimateMemory(doc, analyzeGraph(doc));
    expect(m.weights).toBeGreaterThan(65_536 * 65_536 * 4);
    expect(memoryProblem(m)).toMatch(/^training would need about \d+\.\d\d GB \(weights \d+\.\d\d GB, gradients .*\), above the limit of 4\.00 GB: .*--memory-limit \d+GB\)$/);
    const before = tf.memory().numTensors;
    expect(() => Trainer.create(tf as unknown as TF, doc, { backend: 'cpu' })).toThrow(NotTrainableError);
    expect(() => Trainer.create(tf as unknown as TF, doc, { backend: 'cpu' })).toThrow(/above the limit of 4\.00 GB/);
    expect(tf.memory().numTensors).toBe(before);

    await inTempDir(async (dir) => {
    const path = join(dir, 'absurd.nngraph');
    writeFileSync(path, saveGraph(doc));
    const checked = await cli('check', path);
    expect(checked.out).toMatch(/^Memory to train: about \d+\.\d\d GB/m);
    expect(checked.out).toContain('warning: training would need');
    const json = JSON.parse((await cli('check', path, '--json')).out);
    expect(json.memory).toMatchObject({ withinLimit: false, limit: DEFAULT_MEMORY_LIMIT });
    const trained = await cli('train', path, '--backend', 'cpu');
    expect(trained.code).toBe(1);
    expect(trained.err).toContain('above the limit of 4.00 GB');
    expect(trained.err).not.toMatch(STACK_LINE);
    });
  });

  it('the limit can be raised or lowered', () => {
    const doc = JSON.parse(XOR) as GraphDocument;
    expect(() => Trainer.create(tf as unknown as TF, doc, { backend: 'cpu', memoryLimit: 900 })).toThrow(/above the limit of 900 B/);
    expect(parseBytes('8GiB')).toBe(8 * 2 ** 30);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('2GB')).toBe(2e9);
    expect(parseBytes('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseBytes('lots')).toBeNull();
    expect(parseBytes('0')).toBeNull();
  });
});

describe('echoed values', () => {
  it('are escaped, bounded and summarised', () => {
    expect(escapeControls('a\u001b[31m\u0007\r\n\t\b\u0000\u0001\u009b\u202e')).toBe('a\\e[31m\\a\\r\\n\\t\\b\\0\\x01\\x9b\\u202e');
    expect(clip('x'.repeat(100))).toBe(`${'x'.repeat(59)}…`);
    expect(clip('😀'.repeat(40), 60)).not.toMatch(/[\ud800-\udbff]…$/);
    expect(echo(MEGA).length).toBe(60);
    expect(quoted('fc1')).toBe("'fc1'");
    expect(preview({ big: MEGA }).length).toBe(60);
    expect(preview(3)).toBe('3');
    expect(summarize(['a', 'b', 'c', 'd'])).toBe('a, b, c, d');
    expect(summarize(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c, … (5 in all)');
    expect(terminalSafe('line\n\u001b[2Jnext\tcol')).toBe('line\n\\e[2Jnext\tcol');
  });
});
