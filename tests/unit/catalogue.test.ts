/**
 * The node catalogue and graph analysis: every kind is described, has valid defaults, a
 * shape rule and a parameter count, and rejects bad parameters; the cross-node rules
 * (wiring, label leaks, losses, cycles) say what is wrong in words a student can act on.
 *
 * The per-kind tables are driven by `catalogue` itself, so a new kind without a shape case
 * here fails the suite until someone writes one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeGraph, type Analysis } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { catalogue, kindDef } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { checkParam, type ParamSpec, type ParamSpecs, type ParamValue } from '../../core/graph/params.ts';
import { CATEGORIES, type AnyKindDef, type Issue, type ParamCount, type Shape } from '../../core/graph/types.ts';
import { loadGraph } from '../../core/io/load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES_DIR = join(ROOT, 'examples');
const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.nngraph')).sort();

/** The node under test is always called 'n'. */
const N = 'n';

interface ShapeCase {
  /** Build a small graph around node 'n' of the kind. */
  build(g: GraphBuilder): void;
  outputs: Record<string, Shape | null>;
  params: ParamCount;
}

const none: ParamCount = { trainable: 0, nonTrainable: 0 };

/** Input [shape] -> n (kind, params): for single-input ops. */
const afterInput =
  (kind: string, shape: Shape, params: Record<string, ParamValue> = {}) =>
  (g: GraphBuilder) => {
    g.add('input', 'src', { shape });
    g.add(kind, N, params).wire('src.x', `${N}.in`);
  };

/** A shape-preserving node on [3, 5]. */
const elementwise = (kind: string, params: ParamCount = none, extra: Record<string, ParamValue> = {}): ShapeCase => ({
  build: afterInput(kind, [3, 5], extra),
  outputs: { out: [3, 5] },
  params,
});

/** Dataset -> Dense -> loss -> [n on the loss path] -> Adam. */
const onLossPath = (kind: string): ShapeCase => ({
  build(g) {
    g.add('dataset', 'data');
    g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add(kind, N).wire('loss.loss', `${N}.loss`);
    g.add('adam', 'opt').wire(`${N}.loss`, 'opt.loss');
  },
  outputs: { loss: [] },
  params: none,
});

/** Dataset y -> n -> loss target. */
const onTargets = (kind: string): ShapeCase => ({
  build(g) {
    g.add('dataset', 'data', { source: 'blobs', classes: 3 });
    g.add('dense', 'fc', { units: 3 }).wire('data.x', 'fc.in');
    g.add(kind, N).wire('data.y', `${N}.y`);
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire(`${N}.y`, 'loss.target');
  },
  outputs: { y: [3] },
  params: none,
});

/** Dataset -> Dense(units) -> n (a loss) -> SGD. */
const loss = (kind: string, data: Record<string, ParamValue>, units: number): ShapeCase => ({
  build(g) {
    g.add('dataset', 'data', data);
    g.add('dense', 'fc', { units }).wire('data.x', 'fc.in');
    g.add(kind, N).wire('fc.out', `${N}.pred`).wire('data.y', `${N}.target`);
    g.add('sgd', 'opt').wire(`${N}.loss`, 'opt.loss');
  },
  outputs: { loss: [] },
  params: none,
});

const optimizer = (kind: string): ShapeCase => ({
  build(g) {
    g.add('dataset', 'data');
    g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add(kind, N).wire('loss.loss', `${N}.loss`);
  },
  outputs: {},
  params: none,
});

const SHAPE_CASES: Record<string, ShapeCase> = {
  dataset: { build: (g) => void g.add('dataset', N), outputs: { x: [2], y: [2] }, params: none },
  tableDataset: {
    build: (g) =>
      void g.add('tableDataset', N, {
        data: 'height,weight,size\n1.8,75,L\n1.6,60,M\n1.5,48,S\n1.7,70,M\n1.9,90,L\n',
        features: ['height', 'weight'],
        label: 'size',
      }),
    outputs: { x: [2], y: [3] },
    params: none,
  },
  input: { build: (g) => void g.add('input', N, { shape: [3, 4] }), outputs: { x: [3, 4] }, params: none },
  dense: { build: afterInput('dense', [8], { units: 4 }), outputs: { out: [4] }, params: { trainable: 8 * 4 + 4, nonTrainable: 0 } },
  rbf: { build: afterInput('rbf', [8], { units: 4 }), outputs: { out: [4] }, params: { trainable: 8 * 4 + 4, nonTrainable: 0 } },
  maxout: {
    build: afterInput('maxout', [8], { units: 4, pieces: 3 }),
    outputs: { out: [4] },
    params: { trainable: 8 * 4 * 3 + 4 * 3, nonTrainable: 0 },
  },
  conv2d: { build: afterInput('conv2d', [6, 6, 2], { filters: 3 }), outputs: { out: [4, 4, 3] }, params: { trainable: 3 * 3 * 2 * 3 + 3, nonTrainable: 0 } },
  maxPool2d: { build: afterInput('maxPool2d', [4, 4, 2]), outputs: { out: [2, 2, 2] }, params: none },
  avgPool2d: { build: afterInput('avgPool2d', [5, 4, 2]), outputs: { out: [2, 2, 2] }, params: none },
  globalAvgPool2d: { build: afterInput('globalAvgPool2d', [4, 3, 2]), outputs: { out: [2] }, params: none },
  flatten: { build: afterInput('flatten', [3, 4]), outputs: { out: [12] }, params: none },
  reshape: { build: afterInput('reshape', [12], { shape: [3, -1] }), outputs: { out: [3, 4] }, params: none },
  add: {
    build(g) {
      g.add('input', 'a', { shape: [5] }).add('input', 'b', { shape: [5] });
      g.add('add', N).wire('a.x', `${N}.in`).wire('b.x', `${N}.in`);
    },
    outputs: { out: [5] },
    params: none,
  },
  concat: {
    build(g) {
      g.add('input', 'a', { shape: [5] }).add('input', 'b', { shape: [3] });
      g.add('concat', N).wire('a.x', `${N}.in`).wire('b.x', `${N}.in`);
    },
    outputs: { out: [8] },
    params: none,
  },
  relu: elementwise('relu'),
  leakyRelu: elementwise('leakyRelu'),
  prelu: elementwise('prelu', { trainable: 5, nonTrainable: 0 }),
  abs: elementwise('abs'),
  sigmoid: elementwise('sigmoid'),
  tanh: elementwise('tanh'),
  softmax: elementwise('softmax'),
  linear: elementwise('linear'),
  softplus: elementwise('softplus'),
  elu: elementwise('elu'),
  dropout: elementwise('dropout'),
  dropConnect: {
    build(g) {
      afterInput('dropConnect', [6])(g);
      g.add('dense', 'fc', { units: 2 }).wire(`${N}.out`, 'fc.in');
    },
    outputs: { out: [6] },
    params: none,
  },
  gaussianNoise: elementwise('gaussianNoise'),
  l1: onLossPath('l1'),
  l2: onLossPath('l2'),
  earlyStopping: onLossPath('earlyStopping'),
  labelSmoothing: onTargets('labelSmoothing'),
  labelNoise: onTargets('labelNoise'),
  batchNorm: elementwise('batchNorm', { trainable: 2 * 5, nonTrainable: 2 * 5 }),
  layerNorm: elementwise('layerNorm', { trainable: 2 * 5, nonTrainable: 0 }),
  softmaxCrossEntropy: loss('softmaxCrossEntropy', { source: 'blobs', classes: 4 }, 4),
  binaryCrossEntropy: loss('binaryCrossEntropy', { source: 'moons', targetEncoding: 'binary' }, 1),
  meanSquaredError: loss('meanSquaredError', { source: 'regression' }, 1),
  sgd: optimizer('sgd'),
  momentum: optimizer('momentum'),
  nesterov: optimizer('nesterov'),
  adagrad: optimizer('adagrad'),
  rmsprop: optimizer('rmsprop'),
  adam: optimizer('adam'),
};

function shapeCase(kind: string): ShapeCase {
  const c = SHAPE_CASES[kind];
  if (!c) throw new Error(`no shape case for node kind '${kind}': add one to SHAPE_CASES in this file`);
  return c;
}

function caseGraph(kind: string): GraphDocument {
  const g = new GraphBuilder(`case ${kind}`);
  shapeCase(kind).build(g);
  return g.build();
}

function graph(build: (g: GraphBuilder) => void): GraphDocument {
  const g = new GraphBuilder('test');
  build(g);
  return g.build();
}

const errorsOf = (a: Analysis, nodeId?: string): Issue[] =>
  a.issues.filter((i) => i.severity === 'error' && (nodeId === undefined || i.nodeId === nodeId));
const issue = (a: Analysis, code: string): Issue | undefined => a.issues.find((i) => i.code === code);

/** Values a spec must reject, with a name for the test title. */
function badValues(spec: ParamSpec): [string, unknown][] {
  const bad: [string, unknown][] = [];
  switch (spec.type) {
    case 'int':
      bad.push(['text', 'abc'], ['boolean', true], ['null', null], ['non-integer', spec.min + 0.5], ['NaN', NaN], ['Infinity', Infinity]);
      bad.push(['below the minimum', spec.min - 1]);
      if (spec.max !== undefined) bad.push(['above the maximum', spec.max + 1]);
      break;
    case 'number':
      bad.push(['text', 'abc'], ['list', [1]], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]);
      if (spec.min !== undefined) bad.push(['below the minimum', spec.exclusiveMin ? spec.min : spec.min - 1]);
      if (spec.max !== undefined) bad.push(['above the maximum', spec.exclusiveMax ? spec.max : spec.max + 1]);
      break;
    case 'boolean':
      bad.push(['text', 'true'], ['number', 1]);
      break;
    case 'enum':
      bad.push(['unknown option', 'no-such-option'], ['number', 0]);
      break;
    case 'shape':
      bad.push(['empty list', []], ['zero dimension', [0]], ['non-integer', [1.5]], ['text', '[2]'], ['NaN', [NaN]], ['Infinity', [Infinity]], ['too many dimensions', [1, 1, 1, 1, 1, 1, 1, 1, 1]]);
      bad.push(spec.allowInferred ? ['two inferred dimensions', [-1, -1]] : ['inferred dimension', [-1]]);
      break;
    case 'text':
      bad.push(['number', 1], ['list', ['a']], ['null', null], ['too long', 'x'.repeat(spec.maxLength + 1)]);
      break;
    case 'strings':
      bad.push(['text', 'a'], ['numbers', [1]], ['empty name', ['']], ['the same name twice', ['a', 'a']], ['too long a name', ['x'.repeat(spec.maxLength + 1)]], ['null', null]);
      break;
  }
  return bad;
}

const PARAM_ROWS = catalogue.flatMap((def) =>
  Object.entries(def.params as ParamSpecs).map(([key, spec]) => ({ kind: def.kind, key, spec })),
);
const BAD_PARAM_ROWS = PARAM_ROWS.flatMap(({ kind, key, spec }) =>
  badValues(spec).map(([what, value]) => ({ kind, key, label: spec.label, what, value })),
);

describe('the catalogue', () => {
  it('has the kinds the course needs, each once', () => {
    const kinds = catalogue.map((d) => d.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const k of ['dataset', 'dense', 'relu', 'softmaxCrossEntropy', 'adam', 'batchNorm', 'dropout', 'dropConnect']) {
      expect(kinds).toContain(k);
      expect(kindDef(k)?.kind).toBe(k);
    }
    expect(kindDef('no-such-kind')).toBeUndefined();
  });

  it.each(catalogue.map((d) => [d.kind, d] as const))('%s is described for the palette and inspector', (_kind, def: AnyKindDef) => {
    expect(def.title.trim()).not.toBe('');
    expect(def.description.trim().length).toBeGreaterThan(20);
    expect(CATEGORIES).toContain(def.category);
    const portNames = (ports: { name: string }[]) => ports.map((p) => p.name);
    expect(new Set(portNames(def.inputs)).size).toBe(def.inputs.length);
    expect(new Set(portNames(def.outputs)).size).toBe(def.outputs.length);
    for (const p of [...def.inputs, ...def.outputs]) expect(p.label.trim()).not.toBe('');
  });

  it.each(PARAM_ROWS.map((r) => [`${r.kind}.${r.key}`, r.spec] as const))('%s has a label, help and a valid default', (_name, spec) => {
    expect(spec.label.trim()).not.toBe('');
    expect(spec.help.trim().length).toBeGreaterThan(5);
    expect(checkParam(spec, spec.default)).toBeNull();
    if (spec.type === 'enum') {
      expect(spec.options.length).toBeGreaterThan(1);
      if (spec.optionLabels) expect(Object.keys(spec.optionLabels).sort()).toEqual([...spec.options].sort());
    }
  });
});

describe('shape rule and parameter count of every kind', () => {
  it.each(catalogue.map((d) => d.kind))('%s', (kind) => {
    const a = analyzeGraph(caseGraph(kind));
    const node = a.nodes[N]!;
    expect(node.known).toBe(true);
    expect(errorsOf(a, N)).toEqual([]);
    expect(node.outputs).toEqual(shapeCase(kind).outputs);
    expect(node.params).toEqual(shapeCase(kind).params);
    // The weights' sizes are what the counts are made of.
    const count = (trainable: boolean) =>
      node.weights.filter((w) => w.trainable === trainable).reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1), 0);
    expect(count(true)).toBe(node.params.trainable);
    expect(count(false)).toBe(node.params.nonTrainable);
  });
});

describe('parameter counts', () => {
  const countOf = (kind: string, inShape: Shape, params: Record<string, ParamValue> = {}) => {
    const a = analyzeGraph(graph((g) => afterInput(kind, inShape, params)(g)));
    expect(errorsOf(a, N)).toEqual([]);
    return a.nodes[N]!.params;
  };

  it('Dense has in·units weights plus units biases', () => {
    expect(countOf('dense', [784], { units: 256 })).toEqual({ trainable: 784 * 256 + 256, nonTrainable: 0 });
    expect(countOf('dense', [3], { units: 7 })).toEqual({ trainable: 3 * 7 + 7, nonTrainable: 0 });
  });

  it('Dense without bias has only in·units weights', () => {
    expect(countOf('dense', [784], { units: 256, bias: false })).toEqual({ trainable: 784 * 256, nonTrainable: 0 });
    const a = analyzeGraph(graph((g) => afterInput('dense', [3], { units: 7, bias: false })(g)));
    expect(a.nodes[N]!.weights.map((w) => w.name)).toEqual(['kernel']);
  });

  it('RBF has in·units centres and one width per unit', () => {
    expect(countOf('rbf', [2], { units: 10 })).toEqual({ trainable: 2 * 10 + 10, nonTrainable: 0 });
    expect(countOf('rbf', [5], { units: 3 })).toEqual({ trainable: 5 * 3 + 3, nonTrainable: 0 });
  });

  it('Maxout has in·units·k weights and units·k biases', () => {
    expect(countOf('maxout', [10], { units: 6, pieces: 2 })).toEqual({ trainable: 10 * 6 * 2 + 6 * 2, nonTrainable: 0 });
    expect(countOf('maxout', [4], { units: 3, pieces: 5 })).toEqual({ trainable: 4 * 3 * 5 + 3 * 5, nonTrainable: 0 });
  });

  it('PReLU learns one slope per feature', () => {
    expect(countOf('prelu', [64])).toEqual({ trainable: 64, nonTrainable: 0 });
    expect(countOf('prelu', [28, 28])).toEqual({ trainable: 28, nonTrainable: 0 });
  });

  it('BatchNorm has 2F trainable (γ, β) and 2F non-trainable (running mean and variance)', () => {
    expect(countOf('batchNorm', [64])).toEqual({ trainable: 2 * 64, nonTrainable: 2 * 64 });
    expect(countOf('batchNorm', [7])).toEqual({ trainable: 14, nonTrainable: 14 });
  });

  it('LayerNorm has 2F trainable (γ, β) and nothing else', () => {
    expect(countOf('layerNorm', [64])).toEqual({ trainable: 128, nonTrainable: 0 });
    expect(countOf('layerNorm', [7])).toEqual({ trainable: 14, nonTrainable: 0 });
  });

  it('the totals add up the nodes, trainable and not', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('input', 'src', { shape: [10] });
        g.chain('src.x', [
          ['dense', 'fc1', { units: 8 }],
          ['batchNorm', 'bn'],
          ['relu', 'r'],
          ['dense', 'fc2', { units: 3, bias: false }],
        ]);
      }),
    );
    expect(a.totals.trainable).toBe(10 * 8 + 8 + 16 + 8 * 3);
    expect(a.totals.nonTrainable).toBe(16);
    expect(a.totals.layers).toBe(2);
    expect(a.totals.depth).toBe(2);
  });
});

describe('parameter validation', () => {
  it.each(BAD_PARAM_ROWS)('$kind.$key rejects $what', ({ kind, key, label, value }) => {
    const doc = caseGraph(kind);
    const node = doc.nodes.find((n) => n.id === N)!;
    node.params[key] = value as ParamValue;
    const a = analyzeGraph(doc);
    const found = a.issues.filter((i) => i.nodeId === N && i.param === key);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', code: 'param/invalid' });
    expect(found[0]!.message).toContain(label);
    expect(found[0]!.message).toMatch(/expected|only one dimension/);
    expect(a.canTrain).toBe(false);
  });

  it('names the node, the field, the allowed range and the bad value', () => {
    const doc = graph((g) => afterInput('dense', [4], { units: 0 })(g));
    const a = analyzeGraph(doc);
    expect(a.issues[0]).toEqual({
      severity: 'error',
      code: 'param/invalid',
      nodeId: N,
      param: 'units',
      message: "Dense 'n': Units expected a whole number from 1 to 65536, got 0",
    });
    // The node's outputs are unknown rather than made up from a bad value.
    expect(a.nodes[N]!.outputs).toEqual({ out: null });
  });

  it('says a parameter is missing rather than printing "undefined"', () => {
    const doc = graph((g) => afterInput('dense', [4])(g));
    delete doc.nodes[1]!.params.units;
    const message = analyzeGraph(doc).issues.find((i) => i.param === 'units')?.message;
    expect(message).toContain('got nothing');
    expect(message).not.toContain('undefined');
  });

  it('checkParam accepts the edges of a range and rejects just past them', () => {
    const rate = kindDef('dropout')!.params.rate as ParamSpec;
    expect(checkParam(rate, 0)).toBeNull();
    expect(checkParam(rate, 0.999)).toBeNull();
    expect(checkParam(rate, 1)).toBe('expected a number ≥ 0 and < 1, got 1');
    const lr = kindDef('sgd')!.params.learningRate as ParamSpec;
    expect(checkParam(lr, 0)).toBe('expected a number > 0 and ≤ 100, got 0');
    expect(checkParam(lr, 100)).toBeNull();
    const units = kindDef('dense')!.params.units as ParamSpec;
    expect(checkParam(units, 1)).toBeNull();
    expect(checkParam(units, 65_536)).toBeNull();
    expect(checkParam(units, 65_537)).toBe('expected a whole number from 1 to 65536, got 65537');
    expect(checkParam(units, 3.5)).toBe('expected a whole number from 1 to 65536, got 3.5');
    expect(checkParam(units, '3')).toBe('expected a whole number from 1 to 65536, got the text "3"');
    expect(checkParam(units, NaN)).toBe('expected a whole number from 1 to 65536, got NaN');
  });
});

describe('shape rules between nodes', () => {
  it("tells the student to add a Flatten when a Dense gets an image", () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('dataset', 'data', { source: 'mnist', samples: 1000 });
        g.add('dense', 'fc2', { units: 10 }).wire('data.x', 'fc2.in');
      }),
    );
    const flat = issue(a, 'shape/needs-flat');
    expect(flat).toMatchObject({ severity: 'error', nodeId: 'fc2', port: 'in' });
    expect(flat!.message).toBe("Dense 'fc2' needs a flat input but gets [28, 28]: add a Flatten before it");
    expect(a.nodes.fc2!.outputs.out).toBeNull();
  });

  it('Add needs inputs of the same shape', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('input', 'a', { shape: [4] }).add('input', 'b', { shape: [3] });
        g.add('add', 'sum').wire('a.x', 'sum.in').wire('b.x', 'sum.in');
      }),
    );
    expect(issue(a, 'shape/mismatch')).toMatchObject({ severity: 'error', nodeId: 'sum', port: 'in' });
    expect(issue(a, 'shape/mismatch')!.message).toBe("Add 'sum' needs inputs of the same shape, gets [4] and [3]");
    expect(a.nodes.sum!.outputs.out).toBeNull();
  });

  it('Add needs at least two inputs', () => {
    const a = analyzeGraph(graph((g) => afterInput('add', [4])(g)));
    expect(issue(a, 'wiring/too-few')).toMatchObject({ severity: 'error', nodeId: N });
  });

  it('Concat sums the last dimensions and keeps the others', () => {
    const concat = (shapes: Shape[]) =>
      analyzeGraph(
        graph((g) => {
          shapes.forEach((shape, i) => g.add('input', `i${i}`, { shape }).wire(`i${i}.x`, 'cat.in'));
          g.add('concat', 'cat');
        }),
      );
    expect(concat([[16], [8]]).nodes.cat!.outputs.out).toEqual([24]);
    expect(concat([[2, 5], [2, 3], [2, 1]]).nodes.cat!.outputs.out).toEqual([2, 9]);
    const bad = concat([[2, 5], [3, 5]]);
    expect(bad.nodes.cat!.outputs.out).toBeNull();
    expect(issue(bad, 'shape/mismatch')!.message).toContain('[2, 5] and [3, 5]');
  });

  it('Reshape infers a -1 dimension and refuses a wrong size', () => {
    const reshape = (from: Shape, to: Shape) => analyzeGraph(graph((g) => afterInput('reshape', from, { shape: to })(g)));
    expect(reshape([784], [28, -1]).nodes[N]!.outputs.out).toEqual([28, 28]);
    expect(reshape([2, 6], [-1]).nodes[N]!.outputs.out).toEqual([12]);
    expect(reshape([12], [4, 3]).nodes[N]!.outputs.out).toEqual([4, 3]);

    const wrong = reshape([12], [5, 2]);
    expect(wrong.nodes[N]!.outputs.out).toBeNull();
    expect(issue(wrong, 'shape/reshape')).toMatchObject({ severity: 'error', nodeId: N, param: 'shape' });
    expect(issue(wrong, 'shape/reshape')!.message).toBe("Reshape 'n' cannot turn [12] (12 values) into [5, 2] (10 values)");

    const indivisible = reshape([12], [5, -1]);
    expect(indivisible.nodes[N]!.outputs.out).toBeNull();
    expect(issue(indivisible, 'shape/reshape')!.message).toContain('cannot turn [12] (12 values) into [5, -1]');
  });

  it('an unknown shape upstream leaves the shapes after it unknown, without extra errors', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('dataset', 'data', { source: 'mnist', samples: 1000 });
        g.chain('data.x', [
          ['dense', 'fc1', { units: 10 }],
          ['relu', 'r'],
          ['dense', 'fc2', { units: 3 }],
        ]);
      }),
    );
    expect(a.nodes.r!.outputs.out).toBeNull();
    expect(a.nodes.fc2!.outputs.out).toBeNull();
    expect(errorsOf(a, 'r')).toEqual([]);
    expect(errorsOf(a, 'fc2')).toEqual([]);
  });
});

describe('wiring rules', () => {
  /** A complete, trainable classifier; `between` goes between x and the head. */
  const classifier = (between: (g: GraphBuilder) => string = () => 'data.x') =>
    graph((g) => {
      g.add('dataset', 'data');
      const out = between(g);
      g.add('dense', 'head', { units: 2 }).wire(out, 'head.in');
      g.add('softmaxCrossEntropy', 'loss').wire('head.out', 'loss.pred').wire('data.y', 'loss.target');
      g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    });

  it('a complete classifier has no problems and can train', () => {
    const a = analyzeGraph(classifier());
    expect(a.issues).toEqual([]);
    expect(a.canTrain).toBe(true);
    expect(a.blockers).toEqual([]);
  });

  it('a graph with a Dataset but no loss cannot train', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('dataset', 'data');
        g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
      }),
    );
    const noLoss = issue(a, 'graph/no-loss');
    expect(noLoss?.severity).toBe('error');
    expect(noLoss?.message).toMatch(/^the graph has no loss/);
    expect(a.canTrain).toBe(false);
  });

  it('reports a cycle in the order the graph was built', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('input', 'src', { shape: [4] });
        g.add('add', 'a').add('relu', 'b');
        g.wire('src.x', 'a.in').wire('a.out', 'b.in').wire('b.out', 'a.in');
      }),
    );
    const cycle = issue(a, 'graph/cycle');
    expect(cycle?.severity).toBe('error');
    expect(cycle?.nodeId).toBe('a');
    expect(cycle?.message).toMatch(/^cycle: a → b → a\b/);
    expect(a.order).toEqual(['src']);
  });

  it('a node wired into itself is an error', () => {
    const a = analyzeGraph(graph((g) => g.add('input', 'src', { shape: [2] }).add('add', 'a').wire('src.x', 'a.in').wire('a.out', 'a.in')));
    expect(a.issues.find((i) => i.code === 'wiring/bad-edge')?.message).toBe("'a' is wired into itself");
  });

  it('warns about a Softmax before softmax cross-entropy', () => {
    const a = analyzeGraph(
      classifier((g) => {
        g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
        return 'fc.out';
      }),
    );
    expect(a.issues).toEqual([]);
    const doc = graph((g) => {
      g.add('dataset', 'data');
      g.chain('data.x', [
        ['dense', 'fc', { units: 2 }],
        ['softmax', 'sm'],
      ]);
      g.add('softmaxCrossEntropy', 'loss').wire('sm.out', 'loss.pred').wire('data.y', 'loss.target');
      g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    });
    const b = analyzeGraph(doc);
    const w = issue(b, 'loss/double-softmax');
    expect(w).toMatchObject({ severity: 'warning', nodeId: 'loss', port: 'pred' });
    expect(w!.message).toContain("Softmax 'sm'");
    expect(b.errors).toBe(0);
    expect(b.canTrain).toBe(true);
  });

  describe('DropConnect must feed exactly one Dense or Maxout', () => {
    const withDropConnect = (targets: [kind: string, id: string][]) =>
      graph((g) => {
        g.add('input', 'src', { shape: [6] });
        g.add('dropConnect', 'dc').wire('src.x', 'dc.in');
        for (const [kind, id] of targets) g.add(kind, id, kind === 'dense' ? { units: 2 } : {}).wire('dc.out', `${id}.in`);
      });

    it('into a Dense is fine', () => {
      const a = analyzeGraph(withDropConnect([['dense', 'fc']]));
      expect(errorsOf(a)).toEqual([]);
    });

    it('into a Maxout is fine', () => {
      expect(issue(analyzeGraph(withDropConnect([['maxout', 'mx']])), 'wiring/dropconnect')).toBeUndefined();
    });

    it('into a ReLU is an error', () => {
      const a = analyzeGraph(withDropConnect([['relu', 'r']]));
      const e = issue(a, 'wiring/dropconnect');
      expect(e).toMatchObject({ severity: 'error', nodeId: 'dc', port: 'out' });
      expect(e!.message).toContain("it goes into ReLU 'r'");
    });

    it('into two Dense layers is an error', () => {
      const a = analyzeGraph(
        withDropConnect([
          ['dense', 'fc1'],
          ['dense', 'fc2'],
        ]),
      );
      const e = issue(a, 'wiring/dropconnect');
      expect(e?.severity).toBe('error');
      expect(e!.message).toContain("Dense 'fc1', Dense 'fc2'");
    });

    it('into nothing is an error', () => {
      expect(issue(analyzeGraph(withDropConnect([])), 'wiring/dropconnect')?.severity).toBe('error');
    });
  });

  it('the Dataset y flowing into a layer is a label leak', () => {
    const a = analyzeGraph(
      classifier((g) => {
        g.add('dense', 'fc', { units: 4 }).wire('data.y', 'fc.in');
        return 'fc.out';
      }),
    );
    const leak = a.issues.find((i) => i.code === 'graph/label-leak' && i.nodeId === 'fc');
    expect(leak?.severity).toBe('error');
    expect(leak!.message).toContain('must not see the labels');
    expect(a.canTrain).toBe(false);
  });

  it("a loss's target must come from the Dataset y, not from activations", () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('dataset', 'data');
        g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
        g.add('dense', 'fake', { units: 2 }).wire('data.x', 'fake.in');
        g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('fake.out', 'loss.target');
        g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
      }),
    );
    expect(issue(a, 'graph/target-not-labels')).toMatchObject({ severity: 'error', nodeId: 'loss', port: 'target' });
    expect(a.canTrain).toBe(false);
  });

  it('two edges into a single-input port are an error', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('input', 'a', { shape: [3] }).add('input', 'b', { shape: [3] });
        g.add('relu', 'r').wire('a.x', 'r.in').wire('b.x', 'r.in');
      }),
    );
    const taken = issue(a, 'wiring/port-taken');
    expect(taken).toMatchObject({ severity: 'error', nodeId: 'r', port: 'in' });
    expect(taken!.message).toBe("'r''s input 'in' takes one edge but has 2 (from 'a', 'b'): use an Add or Concat node to combine them");
  });

  it('an edge to a port the kind does not have is an error naming the ports it has', () => {
    const a = analyzeGraph(graph((g) => g.add('input', 'a', { shape: [3] }).add('relu', 'r').wire('a.x', 'r.input')));
    expect(issue(a, 'wiring/bad-edge')).toMatchObject({ severity: 'error', nodeId: 'r', port: 'input' });
    expect(issue(a, 'wiring/bad-edge')!.message).toBe("ReLU 'r' has no input 'input' (it has 'in')");
  });

  it('a loss wired into a tensor port is an error', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('dataset', 'data');
        g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
        g.add('softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
        g.add('relu', 'r').wire('loss.loss', 'r.in');
      }),
    );
    expect(issue(a, 'wiring/bad-edge')!.message).toContain('gives a loss but ReLU');
  });

  describe('target encoding and the losses', () => {
    const withLoss = (lossKind: string, data: Record<string, ParamValue>, units: number) =>
      analyzeGraph(
        graph((g) => {
          g.add('dataset', 'data', data);
          g.add('dense', 'fc', { units }).wire('data.x', 'fc.in');
          g.add(lossKind, 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
          g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
        }),
      );

    it('softmax cross-entropy with one-hot targets is fine', () => {
      expect(withLoss('softmaxCrossEntropy', { source: 'moons' }, 2).errors).toBe(0);
    });

    it('softmax cross-entropy with binary 0/1 targets is an error', () => {
      const a = withLoss('softmaxCrossEntropy', { source: 'moons', targetEncoding: 'binary' }, 1);
      expect(issue(a, 'loss/encoding')).toMatchObject({ severity: 'error', nodeId: 'loss', port: 'target' });
      expect(issue(a, 'loss/encoding')!.message).toContain('needs one-hot class targets');
    });

    it('binary cross-entropy with 0/1 targets is fine', () => {
      expect(withLoss('binaryCrossEntropy', { source: 'moons', targetEncoding: 'binary' }, 1).errors).toBe(0);
    });

    it('binary cross-entropy with one-hot targets is an error', () => {
      const a = withLoss('binaryCrossEntropy', { source: 'blobs', classes: 3 }, 1);
      expect(issue(a, 'loss/encoding')).toMatchObject({ severity: 'error', nodeId: 'loss', port: 'target' });
      expect(issue(a, 'loss/encoding')!.message).toContain('needs 0/1 targets');
    });

    it('binary encoding with more than two classes is a Dataset error', () => {
      const a = withLoss('binaryCrossEntropy', { source: 'blobs', classes: 3, targetEncoding: 'binary' }, 1);
      expect(issue(a, 'param/dataset')).toMatchObject({ severity: 'error', nodeId: 'data' });
      expect(issue(a, 'param/dataset')!.message).toContain('binary target encoding needs 2 classes');
    });

    it('a head with the wrong number of units is a shape error on pred', () => {
      const a = withLoss('softmaxCrossEntropy', { source: 'blobs', classes: 4 }, 3);
      expect(issue(a, 'shape/mismatch')).toMatchObject({ severity: 'error', nodeId: 'loss', port: 'pred' });
      expect(issue(a, 'shape/mismatch')!.message).toContain('needs 4 units, one per class');
    });
  });
});

describe('unknown kinds and sketches', () => {
  it('an unknown kind is an error that blocks training, and its wiring is kept', () => {
    const doc = graph((g) => {
      g.add('dataset', 'data');
      g.add('dense', 'fc', { units: 2 }).wire('data.x', 'fc.in');
      g.add('softmaxCrossEntropy', 'loss').wire('data.y', 'loss.target');
      g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    });
    doc.nodes.push({ id: 'mystery', kind: 'swish', params: { beta: 1.5 }, position: { x: 0, y: 0 } });
    doc.edges.push(
      { id: 'e1', source: 'fc', sourcePort: 'out', target: 'mystery', targetPort: 'x' },
      { id: 'e2', source: 'mystery', sourcePort: 'gated', target: 'loss', targetPort: 'pred' },
    );
    const a = analyzeGraph(doc);
    const unknown = issue(a, 'kind/unknown');
    expect(unknown).toMatchObject({ severity: 'error', nodeId: 'mystery' });
    expect(unknown!.message).toContain("'swish'");
    expect(a.nodes.mystery!.known).toBe(false);
    // Its edges are not wiring errors: the placeholder's ports cannot be checked.
    expect(a.edges.e1!.valid).toBe(true);
    expect(a.edges.e2!.valid).toBe(true);
    expect(a.canTrain).toBe(false);
    expect(a.blockers[0]).toMatch(/error/);
  });

  it('an Input-only sketch without a loss gets warnings, not errors', () => {
    const a = analyzeGraph(
      graph((g) => {
        g.add('input', 'x', { shape: [784] });
        g.chain('x.x', [
          ['dense', 'fc1', { units: 32 }],
          ['relu', 'r1'],
          ['dense', 'fc2', { units: 10 }],
        ]);
      }),
    );
    expect(a.errors).toBe(0);
    expect(a.issues.every((i) => i.severity === 'warning')).toBe(true);
    expect(a.issues.map((i) => i.code)).toEqual(expect.arrayContaining(['graph/no-loss', 'graph/no-optimizer']));
    expect(a.totals.trainable).toBe(784 * 32 + 32 + 32 * 10 + 10);
    expect(a.canTrain).toBe(false);
    expect(a.blockers).toEqual(['the graph has no Dataset to train on']);
  });

  it('an empty graph has no problems but cannot train', () => {
    const a = analyzeGraph({ nodes: [], edges: [] });
    expect(a.issues).toEqual([]);
    expect(a.canTrain).toBe(false);
  });
});

describe('the examples', () => {
  it('are all there', () => {
    expect(EXAMPLE_FILES.length).toBeGreaterThanOrEqual(8);
    expect(EXAMPLE_FILES).toContain('mnist-mlp.nngraph');
  });

  it.each(EXAMPLE_FILES)('%s loads and analyses with no errors and can train', (file) => {
    const loaded = loadGraph(readFileSync(join(EXAMPLES_DIR, file)));
    if (!loaded.ok) throw loaded.error;
    expect(loaded.warnings).toEqual([]);
    const a = analyzeGraph(loaded.document);
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.errors).toBe(0);
    expect(a.canTrain).toBe(true);
    expect(a.totals.trainable).toBeGreaterThan(0);
  });

  it('mnist-mlp is the 784-256-128-10 MLP with 235,146 trainable parameters', () => {
    const loaded = loadGraph(readFileSync(join(EXAMPLES_DIR, 'mnist-mlp.nngraph')));
    if (!loaded.ok) throw loaded.error;
    const a = analyzeGraph(loaded.document);
    expect(a.totals.trainable).toBe(235_146);
    expect(a.totals.trainable).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    expect(a.totals.nonTrainable).toBe(0);
    expect(a.totals.layers).toBe(3);
    expect(a.nodes.flatten!.outputs.out).toEqual([784]);
    expect(a.nodes.fc3!.outputs.out).toEqual([10]);
  });
});
