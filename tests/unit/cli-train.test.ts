/**
 * `gradflow train` end to end: what a user sees in the terminal, what scripts read from
 * --out, the graph written by --save (loadable, checkable, predicting like the run), and the
 * exit codes CI relies on (0 trained or stopped, 1 the graph cannot train or the run failed,
 * 2 usage). Runs in-process through main(), plus once through the real bin.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { TF } from '../../core/graph/types.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { Trainer } from '../../core/train/trainer.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XOR = join(ROOT, 'examples', 'xor.nngraph');
const STACK_LINE = /^\s+at /m;

interface Result {
  code: number;
  out: string;
  err: string;
}

async function gradflow(argv: string[], isTTY = false): Promise<Result> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY };
  const code = await main(argv, io);
  return { code, out, err };
}

let dir: string;
const path = (name: string) => join(dir, name);
const fixture = (name: string, doc: GraphDocument) => {
  writeFileSync(path(name), saveGraph(doc));
  return path(name);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradflow-train-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('gradflow train examples/xor.nngraph --out --save', () => {
  let result: Result;
  let report: {
    file: string;
    backend: string;
    backendFallbacks: string[];
    status: string;
    seed: number;
    settings: Record<string, unknown>;
    steps: number;
    epochs: { epoch: number; trainLoss: number; valLoss: number; valAccuracy: number; trainAccuracy: number; learningRate: number }[];
    stepLoss: number[];
    final: { valLoss: number; valAccuracy: number };
  };

  beforeAll(async () => {
    result = await gradflow(['train', XOR, '--out', path('run.json'), '--save', path('trained.nngraph')]);
    report = JSON.parse(readFileSync(path('run.json'), 'utf8'));
  });

  it('exits 0 and prints one line per epoch, with no progress bar when stdout is not a terminal', () => {
    const { code, out, err } = result;
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).not.toContain('\r');
    expect(out).not.toContain('\u001b[');
    expect(out.split('\n')[0]).toBe('Training XOR on wasm');
    const epochLines = out.split('\n').filter((l) => l.startsWith('epoch '));
    expect(epochLines).toHaveLength(60);
    expect(epochLines[0]).toMatch(/^epoch {2}1\/60 {2}loss \d+\.\d{4} {2}val_loss \d+\.\d{4} {2}acc \d+\.\d% {2}val_acc \d+\.\d% {2}\d+\.\ds$/);
    expect(epochLines[59]).toMatch(/^epoch 60\/60 /);
    expect(out).toMatch(/^done after 600 steps: validation loss \d\.\d{4}, validation accuracy (9[7-9]|100)\.\d%$/m);
    expect(out).toContain(`wrote ${path('run.json')}\n`);
    expect(out).toContain(`wrote ${path('trained.nngraph')}\n`);
  });

  it('--out writes the run: backend, settings, per-epoch metrics, every step loss, the final validation', () => {
    expect(report.file).toBe(XOR);
    expect(report.backend).toBe('wasm');
    expect(report.backendFallbacks).toEqual([]);
    expect(report.status).toBe('completed');
    expect(report.seed).toBe(1);
    expect(report.settings).toMatchObject({ optimizer: 'adam', learningRate: 0.03, batchSize: 32, epochs: 60, dataset: 'xor', samples: 400, steps: 600 });
    expect(report.steps).toBe(600);
    expect(report.stepLoss).toHaveLength(report.steps);
    expect(report.stepLoss.every(Number.isFinite)).toBe(true);
    expect(report.epochs).toHaveLength(60);
    expect(report.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const e of report.epochs) {
      expect(e.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(e.valAccuracy).toBeLessThanOrEqual(1);
      expect(e.learningRate).toBe(0.03);
    }
    expect(report.final.valAccuracy).toBeGreaterThanOrEqual(0.97);
    expect(report.final.valLoss).toBeCloseTo(report.epochs.at(-1)!.valLoss, 6);
    // The per-step curve goes down.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(report.stepLoss.slice(-50))).toBeLessThan(mean(report.stepLoss.slice(0, 50)) / 4);
  });

  it('--save writes the graph with its trained weights and the run; it loads, checks valid and predicts like the run', async () => {
    const loaded = loadGraph(readFileSync(path('trained.nngraph')));
    if (!loaded.ok) throw loaded.error;
    const doc = loaded.document;
    expect(doc.weights).toMatchObject({ step: 600, epoch: 60, backend: 'wasm' });
    expect(Object.keys(doc.weights!.tensors).sort()).toEqual(['hidden', 'out']);
    expect(doc.runs).toHaveLength(1);
    expect(doc.runs![0]).toMatchObject({ status: 'completed', backend: 'wasm', seed: 1 });
    expect(doc.runs![0]!.stepLoss).toEqual(report.stepLoss);
    expect(doc.runs![0]!.epochs.map((e) => e.valAccuracy)).toEqual(report.epochs.map((e) => e.valAccuracy));
    // The graph itself is unchanged.
    const original = loadGraph(readFileSync(XOR));
    if (!original.ok) throw original.error;
    expect(doc.nodes).toEqual(original.document.nodes);
    expect(doc.edges).toEqual(original.document.edges);

    const check = await gradflow(['check', path('trained.nngraph')]);
    expect(check.code).toBe(0);
    expect(check.out.trimEnd().endsWith(`${path('trained.nngraph')}: valid`)).toBe(true);

    // The weights predict as they did at the end of the run (same backend: wasm).
    expect(tf.getBackend()).toBe('wasm');
    const trainer = Trainer.create(tf as unknown as TF, doc);
    trainer.importWeights(doc.weights!);
    const { loss, accuracy } = await trainer.validate();
    expect(accuracy).toBe(report.final.valAccuracy);
    expect(loss).toBeCloseTo(report.final.valLoss, 6);
    trainer.dispose();
  });
});

describe('gradflow train: options', () => {
  it('--steps 3 stops after 3 steps and exits 0', async () => {
    const { code, out, err } = await gradflow(['train', XOR, '--steps', '3', '--out', path('steps.json')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^stopped after 3 steps: validation loss \d\.\d{4}, validation accuracy \d+\.\d%$/m);
    expect(out).not.toMatch(/^epoch /m);
    const report = JSON.parse(readFileSync(path('steps.json'), 'utf8'));
    expect(report).toMatchObject({ status: 'stopped', steps: 3 });
    expect(report.stepLoss).toHaveLength(3);
    expect(report.epochs).toEqual([]);
  });

  it('--epochs, --seed and --backend cpu are applied and recorded', async () => {
    const { code, out, err } = await gradflow(['train', XOR, '--epochs', '2', '--seed', '9', '--backend', 'cpu', '--out', path('opts.json')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('Training XOR on cpu');
    expect(out).toMatch(/^epoch 1\/2 /m);
    expect(out).toMatch(/^epoch 2\/2 /m);
    expect(out).toMatch(/^done after 20 steps/m);
    const report = JSON.parse(readFileSync(path('opts.json'), 'utf8'));
    expect(report).toMatchObject({ backend: 'cpu', seed: 9, steps: 20, settings: { epochs: 2 } });
    expect(report.stepLoss).toHaveLength(20);
    // The same run twice is the same run.
    await gradflow(['train', XOR, '--epochs', '2', '--seed', '9', '--backend', 'cpu', '--out', path('opts2.json')]);
    expect(JSON.parse(readFileSync(path('opts2.json'), 'utf8')).stepLoss).toEqual(report.stepLoss);
  });

  it('on a terminal it draws a progress line with \\r and clears it before each epoch line', async () => {
    const { code, out } = await gradflow(['train', XOR, '--epochs', '2', '--read-every', '5'], true);
    expect(code).toBe(0);
    expect(out).toMatch(/\r\[#*\.*\] epoch 1\/2 step 5\/20 loss \d\.\d{4} \d+ samples\/s ETA \d+s\u001b\[K/);
    // What stays on the screen: each line as the terminal shows it after its last \r and erase.
    const screen = out.split('\n').map((l) => l.split('\r').at(-1)!.replace(/\u001b\[K/g, ''));
    expect(screen).toHaveLength(5);
    expect(screen[0]).toBe('Training XOR on wasm');
    expect(screen[1]).toMatch(/^epoch 1\/2 {2}loss \d\.\d{4} {2}val_loss/);
    expect(screen[2]).toMatch(/^epoch 2\/2 {2}loss \d\.\d{4} {2}val_loss/);
    expect(screen[3]).toMatch(/^done after 20 steps/);
    expect(screen[4]).toBe('');
  });

  it('--help prints the options and exits 0', async () => {
    const { code, out } = await gradflow(['train', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--epochs', '--steps', '--backend', '--seed', '--out', '--save', '--read-every']) expect(out).toContain(flag);
  });
});

describe('gradflow train: failures', () => {
  it('a graph that cannot train (no optimizer) exits 1 with the reason and no stack trace', async () => {
    const g = new GraphBuilder('no optimizer');
    g.add('dataset', 'data', { source: 'xor' });
    g.add('dense', 'out', { units: 2 }).wire('data.x', 'out.in');
    g.add('softmaxCrossEntropy', 'loss').wire('out.out', 'loss.pred').wire('data.y', 'loss.target');
    const file = fixture('no-optimizer.nngraph', g.build());
    const { code, out, err } = await gradflow(['train', file, '--out', path('never.json')]);
    expect(code).toBe(1);
    expect(err).toContain(`error: ${file} cannot train:`);
    expect(err).toMatch(/optimizer/i);
    expect(err).not.toMatch(STACK_LINE);
    expect(out).toBe('');
    expect(() => readFileSync(path('never.json'))).toThrow();
  });

  it('a diverging graph exits 1 with the NaN/Infinity message naming the step and the node', async () => {
    const g = new GraphBuilder('diverges');
    g.add('dataset', 'data', { source: 'regression', fn: 'cubic', samples: 64, noise: 0, batchSize: 0, seed: 7 });
    g.chain('data.x', [['dense', 'fc', { units: 16 }], ['dense', 'out', { units: 1 }]]);
    g.add('meanSquaredError', 'loss').wire('out.out', 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'optimizer', { learningRate: 100, epochs: 50 }).wire('loss.loss', 'optimizer.loss');
    const file = fixture('diverges.nngraph', g.build());
    const { code, out, err } = await gradflow(['train', file, '--out', path('failed.json'), '--save', path('failed.nngraph')]);
    expect(code).toBe(1);
    expect(err).toMatch(/^error: the (loss|weights) became (NaN|Infinity|-Infinity|NaN or Infinity) at step \d+ \(epoch \d+\); the first non-finite values are in the [\w ]+ of (Dense 'fc'|Dense 'out'|Mean squared error 'loss')\./m);
    expect(err).not.toMatch(STACK_LINE);
    expect(out).toMatch(/^training failed$/m);
    const report = JSON.parse(readFileSync(path('failed.json'), 'utf8'));
    expect(report.status).toBe('failed');
    expect(err).toContain(report.message);
    // What is saved are the last good weights: finite, and the failed run with its message.
    const saved = loadGraph(readFileSync(path('failed.nngraph')));
    if (!saved.ok) throw saved.error;
    expect(saved.document.runs![0]).toMatchObject({ status: 'failed', message: report.message });
    expect(saved.document.weights).toBeDefined();
  });

  it.each([
    [['--epochs', '0'], /--epochs must be a whole number ≥ 1, got '0'/],
    [['--steps', '1.5'], /--steps must be a whole number ≥ 1/],
    [['--backend', 'webgl'], /--backend must be cpu, wasm or webgpu/],
    [['--read-every', '-1'], /--read-every/],
    [['--frobnicate'], /frobnicate/],
  ])('bad flags %j exit 2 with the usage', async (flags, message) => {
    const { code, out, err } = await gradflow(['train', XOR, ...flags]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('Usage: gradflow');
    expect(err).not.toMatch(STACK_LINE);
    expect(out).toBe('');
  });

  it('no file, or a file that is not there: 2 and 1', async () => {
    expect((await gradflow(['train'])).code).toBe(2);
    const missing = await gradflow(['train', path('nope.nngraph')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no such file');
  });
});

describe('the real command', () => {
  it('node bin/gradflow.mjs train examples/xor.nngraph --epochs 2', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'gradflow.mjs'), 'train', XOR, '--epochs', '2'], { cwd: ROOT });
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Training XOR on wasm');
    expect(lines[1]).toMatch(/^epoch 1\/2 {2}loss /);
    expect(lines[2]).toMatch(/^epoch 2\/2 {2}loss /);
    expect(lines[3]).toMatch(/^done after 20 steps: validation loss \d\.\d{4}, validation accuracy \d+\.\d%$/);
    expect(lines).toHaveLength(4);
  });

  it('exits with the code: 2 for a bad flag', async () => {
    const err = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'gradflow.mjs'), 'train', XOR, '--backend', 'webgl'], { cwd: ROOT }).catch((e: unknown) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/--backend must be cpu, wasm or webgpu/);
  });
});

describe('gradflow train on a file with trained weights', () => {
  it('continues from them, and --fresh starts over', async () => {
    const saved = path('continue.nngraph');
    expect((await gradflow(['train', XOR, '--epochs', '40', '--save', saved])).code).toBe(0);
    const again = await gradflow(['train', saved, '--epochs', '1']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Continuing from the trained weights/);
    const fresh = await gradflow(['train', saved, '--epochs', '1', '--fresh']);
    expect(fresh.code).toBe(0);
    expect(fresh.out).not.toMatch(/Continuing/);
    // Trained weights start far better than fresh ones.
    const firstEpochLoss = (text: string) => Number(/epoch 1\/1\s+loss (\d+\.\d+)/.exec(text)![1]);
    expect(firstEpochLoss(again.out)).toBeLessThan(firstEpochLoss(fresh.out) / 2);
  });
});
