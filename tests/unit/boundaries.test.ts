/**
 * The boundaries the architecture promises, checked rather than kept by discipline:
 * core/ imports no UI code, files outside the catalogue do not decide by kind id, and the
 * README's kinds table is the catalogue's.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../core/graph/catalogue.ts';
import { coreBoundaryViolations, kindIdMentions, kindsTable, ROOT, TABLE_END, TABLE_START, withKindsTable } from '../../scripts/catalogue-checks.ts';

/**
 * Every file outside core/graph/kinds/ and tests/ that names a kind id, with the reason.
 * A string that is also a kind id is not always about that kind: node roles ('dataset',
 * 'input', 'earlyStopping') and a few words ('input', 'abs', 'relu') share the names.
 */
const EXPLAINED: Record<string, Record<string, string>> = {
  'core/cli/bench.ts': Object.fromEntries(['adam', 'dataset', 'dense', 'flatten', 'relu', 'softmaxCrossEntropy'].map((k) => [k, 'builds the benchmark’s MNIST MLP graph: naming kinds is its content'])),
  'core/graph/types.ts': {
    dataset: 'a NodeRole name',
    input: 'a NodeRole name',
    earlyStopping: 'a NodeRole name',
    relu: 'the FusableActivation TF.js can fuse into a matMul (kinds declare it with fusableAs)',
    softmax: 'an OutputActivation a loss may apply itself (kinds declare it with activation / appliesActivation)',
    sigmoid: 'an OutputActivation a loss may apply itself (as above)',
  },
  'core/compile/plan.ts': {
    dataset: 'a NodeRole name',
    input: 'a NodeRole name',
    earlyStopping: 'a NodeRole name (and the TrainingSettings field)',
  },
  'core/compile/memory.ts': { dataset: 'a NodeRole name' },
  'core/graph/analyze.ts': {
    dataset: 'a NodeRole name',
    input: 'a NodeRole name',
    earlyStopping: 'a NodeRole name',
  },
  'core/io/export/inference.ts': {
    dataset: 'a NodeRole name',
    input: 'a NodeRole name',
  },
  'core/io/export/pytorch-train.ts': { earlyStopping: 'the key of the early-stopping settings in train.py’s CONFIG (the TrainingSettings field), not a decision by kind: the optimizer and penalties are the kinds’ own Python' },
  'core/io/export/pytorch.ts': Object.fromEntries(['softmax', 'sigmoid'].map((k) => [k, 'an OutputActivation a loss applies (kinds declare it with appliesActivation), named in model.py’s docstring'])),
  'core/io/import/onnx.ts': { input: 'a NodeRole name: every import starts from the catalogue’s Input kind, found by its role (the model’s input is no op a kind could read)' },
  'core/io/import/assemble.ts': { softmax: 'an OutputActivation value (kinds declare it with activation), in the note it writes' },
  'core/io/import/tfjs.ts': { linear: 'Keras’s name for "no activation" in a Dense or Conv2D config, not the Linear kind' },
  'core/experiments/sharp-flat.ts': { l2: 'the weight-decay variants are the L2 penalty (weight decay in the course): the experiment sets the graph’s L2 node or adds one, so naming the kind is its content' },
  'core/experiments/batchnorm.ts': {
    batchNorm: 'the BatchNorm experiment is about that kind: its arms bypass, insert, or turn the noise of the BatchNorm nodes on (naming the kind is its content)',
    layerNorm: 'its +LayerNorm arm puts LayerNorm in the BatchNorm nodes\' places',
  },
  'core/data/synthetic.ts': { abs: 'the regression function |x|, not the absolute-value activation' },
  'core/data/types.ts': { abs: 'the regression function |x|, not the absolute-value activation' },
  'core/experiments/variants.ts': { add: 'the skip-connection experiment removes residual Adds (x + F(x)) to build its no-skip variant: naming the kind it removes is its content' },
  'renderer/guide.ts': Object.fromEntries(['dataset', 'dense', 'flatten', 'relu', 'softmaxCrossEntropy'].map((k) => [k, 'the step-by-step guide ticks off the MNIST MLP tutorial’s own nodes: naming them is its content'])),
  'renderer/components/Canvas.tsx': { input: 'a port side (input/output), not the Input kind' },
  'renderer/components/QuickAdd.tsx': { input: 'a port side (input/output), not the Input kind' },
  'renderer/nodes/NodeCard.tsx': { input: 'a port side in an accessible label' },
  'renderer/platform/dom-files.ts': { input: 'the HTML <input> element of the file picker' },
};

/** Folders whose files may name any kind: they build graphs (examples, benchmarks), they do not decide by kind. */
const GRAPH_BUILDERS: Record<string, string> = {
  'scripts/': 'scripts build the example and benchmark graphs (make-examples, bench-graph, …): naming kinds is their content',
};

/**
 * Files that still decide by kind id where the kind should say it (an exporter hook, a
 * property): known debts of issue 9, listed here so that they stay visible and no new one
 * slips in unexplained. Each names every id it may mention; move them into the kinds.
 * Empty since the ONNX importer and the PyTorch training script ask the kinds.
 */
const KNOWN_DEBTS: Record<string, string> = {};

describe('kind ids outside the catalogue', () => {
  it('every file outside core/graph/kinds/ and tests/ that names a kind id is explained', () => {
    const unexplained = kindIdMentions()
      .filter(({ file }) => !Object.keys(GRAPH_BUILDERS).some((dir) => file.startsWith(dir)) && !KNOWN_DEBTS[file])
      .flatMap(({ file, ids }) => ids.filter((id) => !EXPLAINED[file]?.[id]).map((id) => `${file}: '${id}'`));
    expect(unexplained, 'decide by a property of the kind (core/graph/kinds/) instead, or explain the mention here').toEqual([]);
  });

  it('finds a kind id in code, not in comments, and not in the catalogue itself', () => {
    const root = mkdtempSync(join(tmpdir(), 'gradflow-kinds-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('core/train/x.ts', "// uses 'adam'\nexport const isAdam = (k: string) => k === 'adam';\n");
    write('renderer/y.tsx', "/* 'dense' */ export const y = 1;\n");
    write('core/graph/kinds/z.ts', "export const kind = 'dense';\n");
    for (const d of ['electron', 'scripts', 'bin']) mkdirSync(join(root, d), { recursive: true });
    expect(kindIdMentions(root)).toEqual([{ file: 'core/train/x.ts', ids: ['adam'] }]);
  });
});

describe('core/ stays pure', () => {
  it('imports nothing from renderer/, electron/ or UI packages, and pulls in no DOM lib', () => {
    expect(coreBoundaryViolations()).toEqual([]);
  });

  it('the check catches each way of crossing the boundary', () => {
    const root = mkdtempSync(join(tmpdir(), 'gradflow-core-'));
    mkdirSync(join(root, 'core', 'a'), { recursive: true });
    writeFileSync(
      join(root, 'core', 'a', 'bad.ts'),
      [
        "/// <reference lib=\"dom\" />",
        "import { useStore } from '../../renderer/store/editor.ts';",
        "import type { BrowserWindow } from 'electron';",
        "const React = await import('react');",
        "import { fine } from '../b.ts';",
        'declare const window: unknown;',
        "// import x from 'react' in a comment does not count",
      ].join('\n'),
    );
    const problems = coreBoundaryViolations(root);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/renderer\/store\/editor\.ts is outside core/);
    expect(problems.join('\n')).toMatch(/imports electron, a UI package/);
    expect(problems.join('\n')).toMatch(/imports react, a UI package/);
    expect(problems.join('\n')).toMatch(/references the dom lib/);
    expect(problems.join('\n')).toMatch(/declares the DOM global window/);
  });
});

describe('the README’s kinds table', () => {
  it('is the one generated from the catalogue (run `npx tsx scripts/catalogue-checks.ts --readme` after changing a kind)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(withKindsTable(readme) === readme, 'README.md’s kinds table is out of date').toBe(true);
  });

  it('has one row per kind with its title, id and description', () => {
    const rows = kindsTable().split('\n').slice(2);
    expect(rows).toHaveLength(catalogue.length);
    for (const d of catalogue) expect(rows.some((r) => r.includes(`| ${d.title} | \`${d.kind}\` |`))).toBe(true);
    expect(() => withKindsTable('no markers')).toThrow(TABLE_START);
    expect(withKindsTable(`a\n${TABLE_START}\nold\n${TABLE_END}\nb`)).toBe(`a\n${TABLE_START}\n${kindsTable()}\n${TABLE_END}\nb`);
  });
});
