/**
 * The .nngraph file format: what is saved loads back unchanged, saving is stable and
 * diff-friendly, old files are migrated, and every damaged file is refused with one clear
 * message naming the node and field, while a node of an unknown kind survives untouched.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { FORMAT_VERSION, type GraphDocument } from '../../core/graph/document.ts';
import { decodeFloat32, encodeFloat32 } from '../../core/io/base64.ts';
import { loadGraph, MAX_DEPTH, type LoadOptions, type LoadResult } from '../../core/io/load.ts';
import { MIGRATIONS, migrate, type Migration } from '../../core/io/migrations.ts';
import { saveGraph } from '../../core/io/save.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES_DIR = join(ROOT, 'examples');
const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.nngraph')).sort();
const readExample = (file: string) => readFileSync(join(EXAMPLES_DIR, file), 'utf8');

/** A small real file: Dataset -> hidden (Dense) -> tanh -> out (Dense) -> loss -> optimizer. */
const XOR = readExample('xor.nngraph');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RawFile = any;
/** The XOR file with a change made to its parsed JSON. */
function mutate(change: (file: RawFile) => void): string {
  const file = JSON.parse(XOR) as RawFile;
  change(file);
  return JSON.stringify(file, null, 2);
}

/** Replace text that must occur exactly once, so a fixture cannot silently stop applying. */
function replaceOnce(text: string, find: string, replacement: string): string {
  const at = text.indexOf(find);
  if (at < 0 || text.indexOf(find, at + 1) >= 0) throw new Error(`fixture: '${find}' must occur exactly once`);
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}

function loaded(input: string | Uint8Array, options?: LoadOptions): { document: GraphDocument; warnings: string[] } {
  const result = loadGraph(input, options);
  if (!result.ok) throw result.error;
  return result;
}

function failure(result: LoadResult) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.error;
}

const float32 = (...values: number[]) => encodeFloat32(new Float32Array(values));

/** A document using every part of the format: labels, an unknown kind, weights and runs. */
function richDocument(): GraphDocument {
  const g = new GraphBuilder('Everything', 'A graph with "quotes", ünïcödé and a\nnewline.');
  g.add('dataset', 'data', { source: 'moons', samples: 200 }, { label: 'Two moons' });
  g.add('dense', 'fc', { units: 3, initializer: 'heNormal' }, { label: 'Hidden', x: -12.5, y: 40.25 });
  g.add('relu', 'act').add('dense', 'head', { units: 2, bias: false });
  g.wire('data.x', 'fc.in').wire('fc.out', 'act.in').wire('act.out', 'head.in');
  g.add('softmaxCrossEntropy', 'loss').wire('head.out', 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'opt', { learningRate: 0.003 }).wire('loss.loss', 'opt.loss');
  const doc = g.build();
  doc.nodes.push({
    id: 'future',
    kind: 'attention',
    label: 'From a newer Gradflow',
    params: { heads: 4, mask: [1, 0, 1], causal: true, nested: { z: null, a: 'text' } },
    position: { x: 900, y: 10 },
  });
  doc.edges.push({ id: 'fc.out->future.query', source: 'fc', sourcePort: 'out', target: 'future', targetPort: 'query' });
  doc.weights = {
    step: 120,
    epoch: 3,
    backend: 'wasm',
    savedAt: '2026-01-02T03:04:05.000Z',
    tensors: {
      head: { kernel: { shape: [3, 2], dtype: 'float32', data: float32(0.5, -1.25, 3e-8, 1e30, -0, 7) } },
      fc: {
        kernel: { shape: [2, 3], dtype: 'float32', data: float32(1, 2, 3, 4, 5, 6) },
        bias: { shape: [3], dtype: 'float32', data: float32(0.1, 0.2, 0.3) },
      },
    },
  };
  doc.runs = [
    {
      id: 'run-1',
      startedAt: '2026-01-02T03:00:00.000Z',
      status: 'early-stopped',
      backend: 'wasm',
      seed: 7,
      settings: { optimizer: 'adam', learningRate: 0.003, batchSize: 32, schedule: { kind: 'step', rate: 0.5 } },
      epochs: [
        { epoch: 1, trainLoss: 0.7, valLoss: 0.69, trainAccuracy: 0.5, valAccuracy: 0.52, learningRate: 0.003, seconds: 0.4 },
        { epoch: 2, trainLoss: 0.4, valLoss: null, trainAccuracy: null, valAccuracy: null, learningRate: 0.003, seconds: 0.3 },
      ],
      stepLoss: [0.72, 0.7, 0.55, 0.41],
      message: 'no improvement for 5 epochs',
    },
    {
      id: 'run-2',
      startedAt: '2026-01-02T04:00:00.000Z',
      status: 'failed',
      backend: 'cpu',
      seed: 8,
      settings: {},
      epochs: [],
      stepLoss: [],
    },
  ];
  return doc;
}

describe('round trip', () => {
  it.each(EXAMPLE_FILES)('%s: load, save and load again gives the same document, and the same bytes', (file) => {
    const text = readExample(file);
    const { document } = loaded(text);
    const saved = saveGraph(document);
    expect(loaded(saved).document).toStrictEqual(document);
    expect(saveGraph(loaded(saved).document)).toBe(saved);
    // The committed examples are in the saved form already, so re-saving one makes no diff.
    expect(saved).toBe(text);
  });

  it('a document with labels, an unknown kind, weights and runs survives unchanged', () => {
    const doc = richDocument();
    const saved = saveGraph(doc);
    const result = loaded(saved);
    expect(result.document).toStrictEqual(doc);
    expect(result.warnings).toHaveLength(1);
    expect(saveGraph(result.document)).toBe(saved);
    expect(saveGraph(doc)).toBe(saved);
  });

  it('weights come back bit for bit', () => {
    const doc = richDocument();
    const back = loaded(saveGraph(doc)).document;
    const values = decodeFloat32(back.weights!.tensors.head!.kernel!.data)!;
    expect(Array.from(values)).toEqual(Array.from(new Float32Array([0.5, -1.25, 3e-8, 1e30, -0, 7])));
    expect(Object.is(values[4], -0)).toBe(true);
  });

  it('the document returned is not the one saved (no shared arrays)', () => {
    const doc = richDocument();
    const back = loaded(saveGraph(doc)).document;
    back.nodes[0]!.params.samples = 1;
    expect(doc.nodes[0]!.params.samples).toBe(200);
  });
});

describe('saved text', () => {
  /** Every object literal written with its keys in the reverse of the file's order. */
  const scrambled = {
    runs: undefined,
    weights: {
      tensors: {
        zeta: { w: { data: float32(1), dtype: 'float32', shape: [1] } },
        fc: { kernel: { data: float32(1, 2), dtype: 'float32', shape: [2, 1] }, bias: { data: float32(3), dtype: 'float32', shape: [1] } },
      },
      savedAt: 'S',
      backend: 'cpu',
      epoch: 1,
      step: 2,
    },
    edges: [{ targetPort: 'in', target: 'fc', sourcePort: 'x', source: 'in', id: 'in.x->fc.in' }],
    nodes: [
      { params: { shape: [2] }, position: { y: 0, x: 0 }, kind: 'input', id: 'in' },
      { params: { sigma: 0.01, initializer: 'zeros', bias: true, units: 1 }, position: { y: 2, x: 1.5 }, label: 'L', kind: 'dense', id: 'fc' },
      { params: {}, position: { y: 0, x: 0 }, kind: 'relu', id: 'zeta' },
    ],
    metadata: { appVersion: '0.1.0', modified: 'M', created: 'C', description: 'D', name: 'N' },
    version: 1,
    format: 'gradflow-graph',
  } as unknown as GraphDocument;

  it('has a fixed key order, one-line number lists and positions, and a final newline', () => {
    expect(saveGraph(scrambled)).toBe(`{
  "format": "gradflow-graph",
  "version": 1,
  "metadata": {
    "name": "N",
    "description": "D",
    "created": "C",
    "modified": "M",
    "appVersion": "0.1.0"
  },
  "nodes": [
    {
      "id": "in",
      "kind": "input",
      "position": { "x": 0, "y": 0 },
      "params": {
        "shape": [2]
      }
    },
    {
      "id": "fc",
      "kind": "dense",
      "label": "L",
      "position": { "x": 1.5, "y": 2 },
      "params": {
        "units": 1,
        "bias": true,
        "initializer": "zeros",
        "sigma": 0.01
      }
    },
    {
      "id": "zeta",
      "kind": "relu",
      "position": { "x": 0, "y": 0 },
      "params": {}
    }
  ],
  "edges": [
    {
      "id": "in.x->fc.in",
      "source": "in",
      "sourcePort": "x",
      "target": "fc",
      "targetPort": "in"
    }
  ],
  "weights": {
    "step": 2,
    "epoch": 1,
    "backend": "cpu",
    "savedAt": "S",
    "tensors": {
      "fc": {
        "bias": {
          "shape": [1],
          "dtype": "float32",
          "data": "${float32(3)}"
        },
        "kernel": {
          "shape": [2, 1],
          "dtype": "float32",
          "data": "${float32(1, 2)}"
        }
      },
      "zeta": {
        "w": {
          "shape": [1],
          "dtype": "float32",
          "data": "${float32(1)}"
        }
      }
    }
  }
}
`);
  });

  it('the same document always gives the same text', () => {
    const doc = richDocument();
    expect(saveGraph(doc)).toBe(saveGraph(structuredClone(doc)));
    expect(saveGraph(doc)).toBe(saveGraph(doc));
  });

  it('a graph without weights or runs writes neither', () => {
    const saved = saveGraph(loaded(XOR).document);
    expect(saved).not.toContain('"weights"');
    expect(saved).not.toContain('"runs"');
  });
});

describe('defaults', () => {
  it('a parameter missing from the file is filled in with its default, in catalogue order', () => {
    const text = mutate((f) => {
      delete f.nodes[1].params.sigma;
      delete f.nodes[1].params.units;
    });
    const result = loaded(text);
    const hidden = result.document.nodes.find((n) => n.id === 'hidden')!;
    expect(hidden.params).toEqual({ units: 16, bias: true, initializer: 'glorotUniform', sigma: 0.01 });
    expect(Object.keys(hidden.params)).toEqual(['units', 'bias', 'initializer', 'sigma']);
    expect(result.warnings).toEqual([]);
  });

  it('a node with no parameters at all gets every default', () => {
    const result = loaded(mutate((f) => (f.nodes[0].params = {})));
    expect(result.document.nodes[0]!.params).toMatchObject({ source: 'spirals', samples: 500, batchSize: 32 });
  });

  it('a UTF-8 byte-order mark and Windows line endings are accepted', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${XOR.replace(/\n/g, '\r\n')}`);
    expect(loaded(bytes).document).toStrictEqual(loaded(XOR).document);
  });
});

describe('migrations', () => {
  /** A synthetic version 2 in which Dense's 'bias' used to be called 'use_bias' in version 1. */
  const renameUseBias = (): Migration & { up: ReturnType<typeof vi.fn> } => ({
    from: 1,
    name: "rename Dense 'use_bias' to 'bias'",
    up: vi.fn((file: Record<string, unknown>) => ({
      ...file,
      nodes: (file.nodes as RawFile[]).map((n) => {
        if (n.kind !== 'dense' || !('use_bias' in n.params)) return n;
        const { use_bias: useBias, ...rest } = n.params;
        return { ...n, params: { ...rest, bias: useBias } };
      }),
    })),
  });
  const V1_FILE = mutate((f) => {
    delete f.nodes[1].params.bias;
    f.nodes[1].params.use_bias = false;
  });

  it('every version before the current one has a migration', () => {
    for (let v = 1; v < FORMAT_VERSION; v++) expect(MIGRATIONS.some((m) => m.from === v)).toBe(true);
    for (const m of MIGRATIONS) {
      expect(m.from).toBeLessThan(FORMAT_VERSION);
      expect(m.name.trim()).not.toBe('');
    }
  });

  it('without the migration, the old field is refused by name', () => {
    const error = failure(loadGraph(V1_FILE));
    expect(error.message).toContain('Dense has no parameter "use_bias"');
    expect(error.where).toBe("node 'hidden' (nodes[1]) → params.use_bias");
  });

  it("a version-1 file goes through the migration's up, and its change is in the document", () => {
    const step = renameUseBias();
    const result = loaded(V1_FILE, { migrations: [step], currentVersion: 2 });
    expect(step.up).toHaveBeenCalledTimes(1);
    expect(step.up.mock.calls[0]![0]).toMatchObject({ version: 1 });
    const hidden = result.document.nodes.find((n) => n.id === 'hidden')!;
    expect(hidden.params.bias).toBe(false);
    expect('use_bias' in hidden.params).toBe(false);
    // Everything else is as it was.
    expect(result.document.nodes.filter((n) => n.id !== 'hidden')).toStrictEqual(loaded(XOR).document.nodes.filter((n) => n.id !== 'hidden'));
  });

  it('a file already at the current version is not migrated', () => {
    const step = renameUseBias();
    const v2 = replaceOnce(XOR, '"version": 1', '"version": 2');
    expect(loaded(v2, { migrations: [step], currentVersion: 2 }).document.nodes).toStrictEqual(loaded(XOR).document.nodes);
    expect(step.up).not.toHaveBeenCalled();
  });

  it('steps run in order, one per version', () => {
    const calls: number[] = [];
    const steps: Migration[] = [2, 1].map((from) => ({
      from,
      name: `step ${from}`,
      up: (file) => {
        calls.push(from);
        expect(file.version).toBe(from);
        return file;
      },
    }));
    loaded(XOR, { migrations: steps, currentVersion: 3 });
    expect(calls).toEqual([1, 2]);
  });

  it('a missing step refuses the file and says which step', () => {
    const error = failure(loadGraph(XOR, { migrations: [renameUseBias()], currentVersion: 3 }));
    expect(error.message).toContain('no migration from format version 2 to 3');
    expect(error.message).toContain('file format version 1');
    expect(error.where).toBe('version');
  });

  it('a migration that throws refuses the file instead of crashing', () => {
    const broken: Migration = {
      from: 1,
      name: 'broken',
      up: () => {
        throw new Error('nodes[4] has no kind');
      },
    };
    const error = failure(loadGraph(XOR, { migrations: [broken], currentVersion: 2 }));
    expect(error.message).toContain('could not be upgraded to version 2 (nodes[4] has no kind)');
  });

  it('a file newer than the build is refused, naming both versions', () => {
    const v3 = replaceOnce(XOR, '"version": 1', '"version": 3');
    const error = failure(loadGraph(v3, { migrations: [renameUseBias()], currentVersion: 2 }));
    expect(error.message).toContain('format version 3');
    expect(error.message).toContain('reads format version 2 and older');
  });

  describe('migrate', () => {
    it('applies the steps and stamps each new version', () => {
      const out = migrate({ version: 1, a: 1 }, 1, 3, [
        { from: 1, name: 'double a', up: (f) => ({ ...f, a: (f.a as number) * 2 }) },
        { from: 2, name: 'add b', up: (f) => ({ ...f, b: f.version }) },
      ]);
      expect(out).toEqual({ version: 3, a: 2, b: 2 });
    });

    it('does nothing from the current version to itself', () => {
      const file = { version: 1 };
      expect(migrate(file, 1, 1, [])).toBe(file);
    });

    it('throws when a step is missing', () => {
      expect(() => migrate({ version: 1 }, 1, 2, [])).toThrow('no migration from format version 1 to 2');
      expect(() => migrate({ version: 1 }, 1, 3, [{ from: 1, name: 'x', up: (f) => f }])).toThrow('no migration from format version 2 to 3');
    });
  });
});

describe('size limits', () => {
  const WEIGHTS = (n: number) => ({
    step: 1,
    epoch: 1,
    backend: 'cpu',
    savedAt: 'now',
    tensors: { hidden: { big: { shape: [n], dtype: 'float32', data: encodeFloat32(new Float32Array(n)) } } },
  });

  it('trained weights do not count towards the graph limit', () => {
    const withWeights = mutate((f) => (f.weights = WEIGHTS(20_000)));
    expect(withWeights.length).toBeGreaterThan(100_000);
    expect(loaded(withWeights, { maxGraphBytes: XOR.length + 1024 }).document.weights!.tensors.hidden!.big!.shape).toEqual([20_000]);
  });

  it('a graph over the limit is refused, with a size that does not read as equal to the limit', () => {
    const limit = 1024 * 1024;
    const big = mutate((f) => f.nodes.push({ id: 'pad', kind: 'future', position: { x: 0, y: 0 }, params: { blob: 'x'.repeat(limit) } }));
    const error = failure(loadGraph(big, { maxGraphBytes: limit }));
    expect(error.message).toBe('the graph is too large (1.1 MiB without its weights; the limit is 1.0 MiB)');
    expect(loaded(big, { maxGraphBytes: big.length }).document.nodes.at(-1)!.params.blob).toHaveLength(limit);
  });
});

describe('a node of an unknown kind', () => {
  const TANH_NODE = `    {
      "id": "tanh",
      "kind": "tanh",
      "position": { "x": 480, "y": 0 },
      "params": {}
    },`;
  const FUTURE_NODE = `    {
      "id": "tanh",
      "kind": "swish",
      "label": "From the future",
      "position": { "x": 480, "y": 0 },
      "params": {
        "zeta": 2,
        "beta": [1, 2.5],
        "mode": "gated",
        "nested": {
          "z": null,
          "a": true
        }
      }
    },`;
  const FUTURE = replaceOnce(
    replaceOnce(
      replaceOnce(XOR, TANH_NODE, FUTURE_NODE),
      `"target": "tanh",\n      "targetPort": "in"`,
      `"target": "tanh",\n      "targetPort": "gate"`,
    ),
    `"source": "tanh",\n      "sourcePort": "out"`,
    `"source": "tanh",\n      "sourcePort": "activations"`,
  );

  it('loads with a warning instead of being refused', () => {
    const result = loaded(FUTURE);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain("node 'tanh' is a 'swish' node");
    expect(result.warnings[0]).toContain('cannot train');
  });

  it('keeps its parameters, label and wiring verbatim, including port names the catalogue does not know', () => {
    const { document } = loaded(FUTURE);
    const node = document.nodes.find((n) => n.id === 'tanh')!;
    expect(node).toStrictEqual({
      id: 'tanh',
      kind: 'swish',
      label: 'From the future',
      position: { x: 480, y: 0 },
      params: { zeta: 2, beta: [1, 2.5], mode: 'gated', nested: { z: null, a: true } },
    });
    expect(Object.keys(node.params)).toEqual(['zeta', 'beta', 'mode', 'nested']);
    expect(document.edges.find((e) => e.target === 'tanh')).toMatchObject({ source: 'hidden', sourcePort: 'out', targetPort: 'gate' });
    expect(document.edges.find((e) => e.source === 'tanh')).toMatchObject({ sourcePort: 'activations', target: 'out', targetPort: 'in' });
  });

  it('saves back identically', () => {
    expect(saveGraph(loaded(FUTURE).document)).toBe(FUTURE);
  });

  it('is an error in the analysis, so the graph cannot train until it is replaced', () => {
    const a = analyzeGraph(loaded(FUTURE).document);
    expect(a.issues.find((i) => i.code === 'kind/unknown')).toMatchObject({ severity: 'error', nodeId: 'tanh' });
    expect(a.canTrain).toBe(false);
  });

  it('still has to be a well-formed node', () => {
    const noPosition = replaceOnce(FUTURE, `      "label": "From the future",\n      "position": { "x": 480, "y": 0 },\n`, `      "label": "From the future",\n`);
    const error = failure(loadGraph(noPosition));
    expect(error.where).toBe("node 'tanh' (nodes[2]) → position");
    expect(error.message).toContain('"position" is missing');
  });
});

interface Damaged {
  name: string;
  input: string | Uint8Array;
  message: string | RegExp;
  where?: string;
}

const nested = (depth: number) => `{"format": "gradflow-graph", "x": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
const weights = (tensors: Record<string, unknown>) => ({ step: 1, epoch: 1, backend: 'cpu', savedAt: 'now', tensors });

const DAMAGED: Damaged[] = [
  // The parser's reason, without V8's quotation of the file's text.
  { name: 'not JSON', input: 'hello, this is not a graph', message: /^the file is not valid JSON \([^"]+\)$/ },
  { name: 'JSON with a syntax error', input: replaceOnce(XOR, '"kind": "tanh",', '"kind": "tanh"'), message: 'the file is not valid JSON', where: 'line 43, column 7' },
  { name: 'truncated JSON', input: XOR.slice(0, Math.floor(XOR.length / 2)), message: 'the file ends in the middle of the JSON: it is truncated or incomplete' },
  { name: 'truncated inside a string', input: XOR.slice(0, XOR.indexOf('glorotUniform') + 4), message: 'truncated' },
  { name: 'an empty file', input: '', message: 'the file is empty' },
  { name: 'only whitespace', input: ' \n\t\r\n  ', message: 'the file is empty' },
  { name: 'empty bytes', input: new Uint8Array(0), message: 'the file is empty' },
  { name: 'binary data with NULs', input: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]), message: 'this is binary data, not a Gradflow graph file' },
  { name: 'a NUL inside text', input: `{"format": "gradflow-graph"\u0000}`, message: 'this is binary data' },
  { name: 'invalid UTF-8', input: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]), message: 'the file is not UTF-8 text' },
  {
    name: 'a newer format version',
    input: replaceOnce(replaceOnce(XOR, '"version": 1', '"version": 7'), '"appVersion": "0.1.0"', '"appVersion": "0.9.2"'),
    message: `this file was made by Gradflow 0.9.2 with file format version 7; this Gradflow reads format version ${FORMAT_VERSION} and older. Update Gradflow to open it`,
  },
  { name: 'a newer format version without metadata', input: JSON.stringify({ format: 'gradflow-graph', version: 2 }), message: 'made by a newer Gradflow with file format version 2' },
  { name: 'a missing version', input: mutate((f) => delete f.version), message: '"version" is missing', where: 'version' },
  { name: 'a version that is text', input: mutate((f) => (f.version = '1')), message: '"version" must be a whole number ≥ 1, got "1"', where: 'version' },
  { name: 'version 0', input: mutate((f) => (f.version = 0)), message: 'got 0', where: 'version' },
  { name: 'a wrong "format"', input: replaceOnce(XOR, '"gradflow-graph"', '"excalidraw"'), message: 'not a Gradflow graph file: expected "format": "gradflow-graph", got "excalidraw"' },
  { name: 'no "format"', input: mutate((f) => delete f.format), message: 'not a Gradflow graph file: expected "format": "gradflow-graph"' },
  { name: 'missing metadata', input: mutate((f) => delete f.metadata), message: '"metadata" is missing (expected an object)', where: 'metadata' },
  { name: 'metadata without a name', input: mutate((f) => delete f.metadata.name), message: '"name" is missing', where: 'metadata.name' },
  { name: 'no nodes', input: mutate((f) => delete f.nodes), message: '"nodes" is missing (expected an array)', where: 'nodes' },
  { name: 'a top-level array', input: '[{"format": "gradflow-graph"}]', message: 'not a Gradflow graph file: expected a JSON object, got a list' },
  { name: 'a top-level number', input: '42', message: 'expected a JSON object, got number' },
  { name: 'null', input: 'null', message: 'expected a JSON object' },
  { name: 'an unknown top-level field', input: mutate((f) => (f.layout = {})), message: 'unknown field "layout"' },
  { name: 'a missing node id', input: mutate((f) => delete f.nodes[1].id), message: '"id" is missing (expected a string)', where: 'node (nodes[1]) → id' },
  { name: 'an empty node id', input: mutate((f) => (f.nodes[1].id = '')), message: '"id" is invalid', where: "node '' (nodes[1]) → id" },
  { name: 'a missing node kind', input: mutate((f) => delete f.nodes[2].kind), message: '"kind" is missing', where: "node 'tanh' (nodes[2]) → kind" },
  { name: 'a position that is text', input: mutate((f) => (f.nodes[2].position.x = '440')), message: '"x" must be a number, got a string', where: "node 'tanh' (nodes[2]) → position.x" },
  { name: 'duplicate node ids', input: mutate((f) => (f.nodes[2].id = 'hidden')), message: "two nodes have the id 'hidden'; every node needs its own", where: "node 'hidden' (nodes[2]) → id" },
  {
    name: 'duplicate edge ids',
    input: mutate((f) => (f.edges[2].id = f.edges[1].id)),
    message: "two edges have the id 'hidden.out->tanh.in'",
    where: "edge 'hidden.out->tanh.in' (edges[2])",
  },
  {
    name: 'an edge to a missing node',
    input: mutate((f) => (f.edges[1].target = 'ghost')),
    message: "the edge goes to node 'ghost', which is not in the file",
    where: "edge 'hidden.out->tanh.in' (edges[1]) → target",
  },
  {
    name: 'an edge from a missing node',
    input: mutate((f) => (f.edges[1].source = 'ghost')),
    message: "the edge comes from node 'ghost', which is not in the file",
    where: "edge 'hidden.out->tanh.in' (edges[1]) → source",
  },
  {
    name: 'an edge to a missing port',
    input: mutate((f) => (f.edges[1].targetPort = 'input')),
    message: "Tanh 'tanh' has no input port 'input' (it has 'in')",
    where: "edge 'hidden.out->tanh.in' (edges[1]) → targetPort",
  },
  {
    name: 'an edge from a missing port',
    input: mutate((f) => (f.edges[0].sourcePort = 'features')),
    message: "Dataset 'data' has no output port 'features' (it has 'x', 'y')",
    where: "edge 'data.x->hidden.in' (edges[0]) → sourcePort",
  },
  {
    name: 'two edges into a single-input port',
    input: mutate((f) => f.edges.push({ id: 'second', source: 'data', sourcePort: 'x', target: 'tanh', targetPort: 'in' })),
    message: "input 'in' of Tanh 'tanh' takes one edge, but edges 'hidden.out->tanh.in' and 'second' both go into it",
    where: "edge 'second' (edges[6])",
  },
  {
    name: 'a parameter of the wrong type',
    input: mutate((f) => (f.nodes[1].params.units = '8')),
    message: 'Units: expected a whole number from 1 to 65536, got the text "8"',
    where: "node 'hidden' (nodes[1]) → params.units",
  },
  {
    name: 'a parameter out of range',
    input: mutate((f) => (f.nodes[1].params.units = 0)),
    message: 'Units: expected a whole number from 1 to 65536, got 0',
    where: "node 'hidden' (nodes[1]) → params.units",
  },
  {
    name: 'a fractional whole number',
    input: mutate((f) => (f.nodes[1].params.units = 2.5)),
    message: 'got 2.5',
    where: "node 'hidden' (nodes[1]) → params.units",
  },
  {
    name: 'an unknown option',
    input: mutate((f) => (f.nodes[1].params.initializer = 'magic')),
    message: 'Initializer: expected one of "zeros", "normal", "glorotNormal", "glorotUniform", "heNormal", "heUniform", got the text "magic"',
    where: "node 'hidden' (nodes[1]) → params.initializer",
  },
  {
    name: 'a null parameter',
    input: mutate((f) => (f.nodes[0].params.noise = null)),
    message: 'Noise: expected a number ≥ 0 and ≤ 10, got null',
    where: "node 'data' (nodes[0]) → params.noise",
  },
  {
    name: 'an unknown parameter on a known kind',
    input: mutate((f) => (f.nodes[1].params.activation = 'relu')),
    message: 'Dense has no parameter "activation" (it has "units", "bias", "initializer", "sigma")',
    where: "node 'hidden' (nodes[1]) → params.activation",
  },
  { name: 'a NaN literal', input: replaceOnce(XOR, '"noise": 0.05', '"noise": NaN'), message: 'NaN is not a valid number in a graph file: every number must be finite', where: 'line 20, column 18' },
  { name: 'an Infinity literal', input: replaceOnce(XOR, '"noise": 0.05', '"noise": Infinity'), message: 'Infinity is not a valid number', where: 'line 20, column 18' },
  { name: 'a -Infinity literal', input: replaceOnce(XOR, '"noise": 0.05', '"noise": -Infinity'), message: '-Infinity is not a valid number', where: 'line 20, column 18' },
  {
    name: '1e999 (parses to Infinity)',
    input: replaceOnce(XOR, '"noise": 0.05', '"noise": 1e999'),
    message: 'a number is out of range (it reads as Infinity); every number in a graph file must be finite',
    where: "node 'data' (nodes[0]) → params.noise",
  },
  {
    name: '-1e999 in a position',
    input: replaceOnce(XOR, '"position": { "x": 480, "y": 0 }', '"position": { "x": -1e999, "y": 0 }'),
    message: 'it reads as -Infinity',
    where: "node 'tanh' (nodes[2]) → position.x",
  },
  {
    name: 'a "__proto__" key',
    input: replaceOnce(XOR, '"noise": 0.05', '"__proto__": { "polluted": true }'),
    message: 'the key "__proto__" is not allowed in a graph file',
    where: "node 'data' (nodes[0]) → params.__proto__",
  },
  { name: 'a "constructor" key', input: replaceOnce(XOR, '"format": "gradflow-graph",', '"format": "gradflow-graph", "constructor": 1,'), message: 'the key "constructor" is not allowed', where: 'constructor' },
  { name: 'a "prototype" key in metadata', input: replaceOnce(XOR, '"name": "XOR",', '"name": "XOR", "prototype": {},'), message: 'the key "prototype" is not allowed', where: 'metadata.prototype' },
  { name: '200-deep nesting', input: nested(200), message: `the JSON is nested more than ${MAX_DEPTH} levels deep`, where: `line 1, column ${'{"format": "gradflow-graph", "x": '.length + MAX_DEPTH}` },
  {
    name: 'weights with the wrong length',
    input: mutate((f) => (f.weights = weights({ hidden: { kernel: { shape: [2, 8], dtype: 'float32', data: float32(...new Array(15).fill(1)) } } }))),
    message: 'shape [2, 8] needs 16 values but the data holds 15',
    where: 'weights.tensors.hidden.kernel',
  },
  {
    name: 'weights for a missing node',
    input: mutate((f) => (f.weights = weights({ ghost: { kernel: { shape: [1], dtype: 'float32', data: float32(1) } } }))),
    message: "trained weights for node 'ghost', which is not in the file",
    where: 'weights.tensors.ghost',
  },
  {
    name: 'weights that are not base64',
    input: mutate((f) => (f.weights = weights({ hidden: { kernel: { shape: [1], dtype: 'float32', data: 'not*base64' } } }))),
    message: 'the weight data is not valid base64 float32',
    where: 'weights.tensors.hidden.kernel.data',
  },
  {
    name: 'weights of another dtype',
    input: mutate((f) => (f.weights = weights({ hidden: { kernel: { shape: [1], dtype: 'float64', data: float32(1) } } }))),
    message: '"dtype" must be "float32"',
    where: 'weights.tensors.hidden.kernel.dtype',
  },
];

describe('damaged files are refused with one clear message', () => {
  it.each(DAMAGED)('$name', ({ input, message, where }) => {
    const error = failure(loadGraph(input));
    expect(error.name).toBe('GraphFileError');
    if (typeof message === 'string') expect(error.message).toContain(message);
    else expect(error.message).toMatch(message);
    if (where !== undefined) {
      expect(error.where).toBe(where);
      expect(error.message.startsWith(`${where}: `)).toBe(true);
    }
    // One line, no stack trace or internal detail.
    expect(error.message).not.toMatch(/\n/);
    expect(error.message).not.toMatch(/could not be read|undefined|\[object/);
  });

  it('never pollutes Object.prototype', () => {
    loadGraph(replaceOnce(XOR, '"noise": 0.05', '"__proto__": { "polluted": true }'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the first problem found is the one reported, and nothing is half-loaded', () => {
    const result = loadGraph(
      mutate((f) => {
        f.nodes[1].params.units = -1;
        f.edges[1].target = 'ghost';
      }),
    );
    expect(failure(result).where).toBe("node 'hidden' (nodes[1]) → params.units");
    expect('document' in result).toBe(false);
  });

  it('deep but legal nesting inside an unknown node is accepted up to the limit', () => {
    const deep = (n: number) => mutate((f) => (f.nodes[2] = { ...f.nodes[2], kind: 'future', params: { deep: JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) } }));
    // The file itself nests 5 levels down to params (object, nodes, node, params, deep).
    expect(loadGraph(deep(MAX_DEPTH - 4)).ok).toBe(true);
    expect(failure(loadGraph(deep(MAX_DEPTH - 3))).message).toContain('nested more than');
  });
});
