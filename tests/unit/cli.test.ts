/**
 * `gradflow check`: what a user sees in the terminal and what scripts read from --json,
 * with the exit codes that CI relies on (0 valid, 1 invalid file or graph, 2 usage).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { saveGraph } from '../../core/io/save.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES_DIR = join(ROOT, 'examples');
const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.nngraph')).sort();
const MNIST_MLP = join(EXAMPLES_DIR, 'mnist-mlp.nngraph');

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

/** A stack trace line, as Node prints them. */
const STACK_LINE = /^\s+at /m;

let dir: string;
const fixture = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradflow-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('gradflow check on a valid graph', () => {
  it('prints the table and the totals of the MNIST MLP and exits 0', async () => {
    const { code, out, err } = await run('check', MNIST_MLP);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('Total parameters: 235,146 (trainable 235,146, non-trainable 0)');
    expect(out).toMatch(/^fc1\s+Dense\s+\[256\]\s+200,960$/m);
    expect(out).toMatch(/^data \(Data\)\s+Dataset\s+x: \[28, 28\]\s+y: \[10\]\s+-$/m);
    expect(out).toContain('Weighted layers: 3, depth: 3, nodes: 9, edges: 9');
    expect(out.trimEnd().endsWith(`${MNIST_MLP}: valid`)).toBe(true);
  });

  it('--json prints a report that parses, with the totals', async () => {
    const { code, out, err } = await run('check', MNIST_MLP, '--json');
    expect(code).toBe(0);
    expect(err).toBe('');
    const report = JSON.parse(out);
    expect(report.totals.parameters).toBe(235_146);
    expect(report.totals.trainable).toBe(235_146);
    expect(report).toMatchObject({ file: MNIST_MLP, valid: true, canTrain: true, blockers: [], issues: [], loadWarnings: [] });
    expect(report.nodes).toHaveLength(9);
    expect(report.nodes.find((n: { id: string }) => n.id === 'fc3')).toEqual({
      id: 'fc3',
      kind: 'dense',
      known: true,
      outputs: { out: [10] },
      parameters: { trainable: 1290, nonTrainable: 0 },
    });
  });

  it('--json may come before the file', async () => {
    const { code, out } = await run('check', '--json', MNIST_MLP);
    expect(code).toBe(0);
    expect(JSON.parse(out).valid).toBe(true);
  });

  it.each(EXAMPLE_FILES)('%s is valid', async (file) => {
    const { code, out, err } = await run('check', join(EXAMPLES_DIR, file));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(': valid');
    expect(out).not.toContain('cannot train');
  });

  it('a sketch with only warnings is valid but says why it cannot train', async () => {
    const g = new GraphBuilder('sketch');
    g.add('input', 'x', { shape: [784] });
    g.chain('x.x', [['dense', 'fc', { units: 10 }]]);
    const path = fixture('sketch.nngraph', saveGraph(g.build()));
    const { code, out, err } = await run('check', path);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('warning: the graph has no loss');
    expect(out).toContain(`${path}: valid (cannot train: the graph has no Dataset to train on)`);
  });
});

describe('gradflow check on a graph with problems', () => {
  it('prints the error and exits 1', async () => {
    const g = new GraphBuilder('no flatten');
    g.add('dataset', 'data', { source: 'mnist', samples: 1000 });
    g.add('dense', 'fc2', { units: 10 }).wire('data.x', 'fc2.in');
    g.add('softmaxCrossEntropy', 'loss').wire('fc2.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const path = fixture('no-flatten.nngraph', saveGraph(g.build()));
    const { code, out, err } = await run('check', path);
    expect(code).toBe(1);
    expect(err).toContain("error: Dense 'fc2' needs a flat input but gets [28, 28]: add a Flatten before it");
    expect(out.trimEnd().endsWith(`${path}: 1 error`)).toBe(true);
    expect(`${out}${err}`).not.toMatch(STACK_LINE);

    const json = await run('check', path, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.valid).toBe(false);
    expect(report.canTrain).toBe(false);
    expect(report.issues[0]).toMatchObject({ severity: 'error', code: 'shape/needs-flat', nodeId: 'fc2' });
  });

  it('a node of an unknown kind loads with a warning, shows in the table and fails the check', async () => {
    const text = readFileSync(MNIST_MLP, 'utf8').replace('"kind": "relu"', '"kind": "swish"');
    const path = fixture('future.nngraph', text);
    const { code, out, err } = await run('check', path);
    expect(code).toBe(1);
    expect(out).toContain("warning: node 'relu1' is a 'swish' node");
    expect(out).toMatch(/^relu1\s+swish \(unknown\)\s+\?/m);
    expect(err).toContain("error: 'relu1' is a 'swish' node");
  });
});

describe('gradflow check on a file it cannot read', () => {
  const DAMAGED: [name: string, content: string | Uint8Array, message: string][] = [
    ['not JSON', 'this is not a graph', 'the file is not valid JSON'],
    ['truncated', readFileSync(MNIST_MLP, 'utf8').slice(0, 1000), 'the file ends in the middle of the JSON: it is truncated or incomplete'],
    ['empty', '', 'the file is empty'],
    ['binary', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'this is binary data, not a Gradflow graph file'],
    ['NaN', readFileSync(MNIST_MLP, 'utf8').replace('"noise": 0.1', '"noise": NaN'), 'line 20, column 18: NaN is not a valid number in a graph file'],
    [
      'bad parameter',
      readFileSync(MNIST_MLP, 'utf8').replace('"units": 256', '"units": -3'),
      "node 'fc1' (nodes[2]) → params.units: Units: expected a whole number from 1 to 65536, got -3",
    ],
  ];

  it.each(DAMAGED)('%s: exits 1 with one readable line and no stack trace', async (name, content, message) => {
    const path = fixture(`${name.replace(/\W/g, '-')}.nngraph`, content);
    const { code, out, err } = await run('check', path);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err.startsWith(`error: ${path}: `)).toBe(true);
    expect(err).toContain(message);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).not.toMatch(STACK_LINE);
    expect(err).not.toContain('internal error');
  });

  it('--json reports a load error as JSON', async () => {
    const path = fixture('empty-json.nngraph', '');
    const { code, out, err } = await run('check', path, '--json');
    expect(code).toBe(1);
    expect(err).toBe('');
    expect(JSON.parse(out)).toEqual({ file: path, valid: false, loadError: `${path}: the file is empty` });
  });

  it('a missing file exits 1 with "no such file"', async () => {
    const path = join(dir, 'does-not-exist.nngraph');
    const { code, out, err } = await run('check', path);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(`error: cannot read ${path}: no such file\n`);
  });

  it('a folder exits 1 and says it is a folder', async () => {
    const folder = join(dir, 'a-folder.nngraph');
    mkdirSync(folder, { recursive: true });
    const { code, err } = await run('check', folder);
    expect(code).toBe(1);
    expect(err).toBe(`error: ${folder} is a folder, not a graph file\n`);
  });
});

describe('usage', () => {
  it('no arguments exits 2 with the usage', async () => {
    const { code, out, err } = await run();
    expect(code).toBe(2);
    expect(`${out}${err}`).toContain('Usage: gradflow <command>');
    expect(`${out}${err}`).toContain('check FILE');
  });

  it('an unknown command exits 2, names it and shows the usage', async () => {
    const { code, out, err } = await run('frobnicate');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain("gradflow: unknown command 'frobnicate'");
    expect(err).toContain('Usage: gradflow <command>');
    expect(err).not.toMatch(STACK_LINE);
  });

  it('check without a file exits 2', async () => {
    const { code, err } = await run('check');
    expect(code).toBe(2);
    expect(err).toContain('gradflow: check needs a FILE');
  });

  it('check with two files exits 2', async () => {
    const { code, err } = await run('check', MNIST_MLP, MNIST_MLP);
    expect(code).toBe(2);
    expect(err).toContain('check takes one FILE');
  });

  it('an unknown option exits 2 without a stack trace', async () => {
    const { code, err } = await run('check', MNIST_MLP, '--frobnicate');
    expect(code).toBe(2);
    expect(err).toContain('--frobnicate');
    expect(err).not.toMatch(STACK_LINE);
  });

  it('help and check --help exit 0', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: gradflow <command>');
    const checkHelp = await run('check', '--help');
    expect(checkHelp.code).toBe(0);
    expect(checkHelp.out).toContain('Usage: gradflow check FILE [--json]');
  });
});

describe('the installed command', () => {
  it('node bin/gradflow.mjs check examples/mnist-mlp.nngraph prints 235,146 and exits 0', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/gradflow.mjs', 'check', 'examples/mnist-mlp.nngraph'], {
      cwd: ROOT,
      timeout: 60_000,
    });
    // execFile rejects on a non-zero exit code, so reaching here means it exited 0.
    expect(stdout).toContain('Total parameters: 235,146');
    expect(stdout).toContain('examples/mnist-mlp.nngraph: valid');
    expect(stderr).toBe('');
  });

  it('exits 1 on a damaged file', async () => {
    const path = fixture('bin-damaged.nngraph', '{"format": "gradflow-graph", ');
    const result = await promisify(execFile)(process.execPath, ['bin/gradflow.mjs', 'check', path], { cwd: ROOT, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('truncated');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
