/**
 * The `experiments` block of the file format: results load and save unchanged; an older
 * block layout goes through its migrations; results of an experiment this Gradflow does not
 * know (a newer one) are kept verbatim; damaged results are refused with one message naming
 * the result and the field, never half-loaded. And `gradflow experiment` end to end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';
import { flagOf } from '../../core/cli/experiment.ts';
import type { ExperimentResult } from '../../core/graph/document.ts';
import { upgradeExperimentsBlock } from '../../core/io/experiments.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { example, ROOT } from './experiments-helpers.ts';

const result = (over: Partial<ExperimentResult> = {}): ExperimentResult => ({
  id: 'landscape-1',
  experiment: 'landscape',
  version: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  seconds: 1.5,
  status: 'completed',
  backend: 'cpu',
  seed: 1,
  settings: { dimensions: 1, points: 3 },
  weightsStep: 600,
  data: { dimensions: 1, xs: [-1, 0, 1], ys: [], loss: [0.9, 0.1, 0.7], accuracy: [0.5, 1, 0.6], center: { loss: 0.1, accuracy: 1 }, samples: 320, moved: 32 },
  ...over,
});

const xor = example('xor');
const fileWith = (block: unknown) => JSON.stringify({ ...JSON.parse(saveGraph(xor)), experiments: block });

describe('the experiments block', () => {
  it('loads and saves a result unchanged, after the runs', () => {
    const doc = { ...xor, experiments: { version: 1, results: [result()] } };
    const text = saveGraph(doc);
    expect(text.indexOf('"experiments"')).toBeGreaterThan(text.indexOf('"edges"'));
    const r = loadGraph(text);
    if (!r.ok) throw r.error;
    expect(r.document.experiments).toEqual(doc.experiments);
    expect(saveGraph(r.document)).toBe(text);
  });

  it("keeps a result of an experiment this Gradflow does not know, verbatim (a newer Gradflow's)", () => {
    const future = result({ id: 'x', experiment: 'hessianSpectrum', data: { anything: [1, 'two', { three: null }] } });
    const r = loadGraph(fileWith({ version: 1, results: [future] }));
    if (!r.ok) throw r.error;
    expect(r.document.experiments!.results[0]).toEqual(future);
  });

  it('keeps a result of a newer data version of a known experiment verbatim', () => {
    const newer = result({ version: 9, data: { surface: 'a layout this Gradflow cannot read' } });
    const r = loadGraph(fileWith({ version: 1, results: [newer] }));
    if (!r.ok) throw r.error;
    expect(r.document.experiments!.results[0]).toEqual(newer);
  });

  it('an older block layout goes through each migration in order', () => {
    const up = vi.fn((b: Record<string, unknown>) => ({ ...b, results: (b.entries as unknown[]) ?? [], entries: undefined }));
    const out = upgradeExperimentsBlock({ version: 1, entries: [result()] }, [{ from: 1, name: "rename 'entries' to 'results'", up }], 2) as Record<string, unknown>;
    expect(up).toHaveBeenCalledOnce();
    expect(out.version).toBe(2);
    expect(out.results).toEqual([result()]);
    expect(() => upgradeExperimentsBlock({ version: 1, results: [] }, [], 2)).toThrow('no migration from format version 1 to 2');
  });

  const DAMAGED: { name: string; block: unknown; message: string; where?: string }[] = [
    { name: 'a block that is a list', block: [], message: '"experiments" must be an object', where: 'experiments' },
    { name: 'a newer block layout', block: { version: 5, results: [] }, message: 'the experiments block has layout version 5, made by a newer Gradflow; this one reads version 1 and older' },
    { name: 'no results', block: { version: 1 }, message: '"results" is missing', where: 'experiments.results' },
    { name: 'an unknown field in a result', block: { version: 1, results: [{ ...result(), colour: 'red' }] }, message: 'unknown field "colour"', where: 'experiments.results[0]' },
    { name: 'a result without a seed', block: { version: 1, results: [{ ...result(), seed: undefined }] }, message: '"seed" is missing', where: 'experiments.results[0].seed' },
    { name: 'a status that is not one', block: { version: 1, results: [result({ status: 'lost' as never })] }, message: '"status" must be "completed" or "cancelled"', where: 'experiments.results[0].status' },
    { name: 'duplicate result ids', block: { version: 1, results: [result(), result()] }, message: "two results have the id 'landscape-1'", where: 'experiments.results[1].id' },
    {
      name: 'a loss that is text',
      block: { version: 1, results: [result({ data: { ...result().data, loss: [0.9, 'low', 0.7] } })] },
      message: "the loss landscape result 'landscape-1' is damaged",
      where: 'experiments.results[0].data.loss[1]',
    },
    {
      name: 'fewer losses than points',
      block: { version: 1, results: [result({ data: { ...result().data, loss: [0.9, 0.1] } })] },
      message: 'the grid has 3 points but there are 2 losses',
      where: 'experiments.results[0].data.loss',
    },
    {
      name: 'a landscape with no centre',
      block: { version: 1, results: [result({ data: { ...result().data, center: undefined } as never })] },
      message: 'damaged',
      where: 'experiments.results[0].data.center',
    },
    {
      name: 'an older data version nobody can read',
      block: { version: 1, results: [result({ version: 0 })] },
      message: "the loss landscape result 'landscape-1' has data version 0, which this Gradflow cannot read (it reads version 1)",
      where: 'experiments.results[0].version',
    },
  ];

  it.each(DAMAGED)('refuses $name with a message naming where', ({ block, message, where }) => {
    const r = loadGraph(fileWith(block));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(message);
    if (where) expect(r.error.where).toBe(where);
  });

  it('refuses a non-finite number in a result, like anywhere in the file', () => {
    const r = loadGraph(fileWith({ version: 1, results: [result()] }).replace('[0.9,0.1,0.7]', '[0.9,1e999,0.7]'));
    expect(!r.ok && r.error.message).toContain('every number in a graph file must be finite');
  });
});

describe('gradflow experiment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-exp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  async function gradflow(argv: string[], isTTY = false) {
    let out = '';
    let err = '';
    const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY };
    const code = await main(argv, io);
    return { code, out, err };
  }

  it('setting names become flags', () => {
    expect(flagOf('biasAndBN')).toBe('bias-and-bn');
    expect(flagOf('samples')).toBe('samples');
  });

  it('lists the experiments and the settings of one, with their help', async () => {
    const list = await gradflow(['experiment', '--help']);
    expect(list.code).toBe(0);
    expect(list.out).toContain('landscape');
    const one = await gradflow(['experiment', 'landscape', '--help']);
    expect(one.out).toMatch(/--grid N\s+The 2-D surface is evaluated on grid × grid points/);
    expect(one.out).toContain('a whole number from 3 to 51; default 25');
  });

  it('runs a landscape on a file, writes --out and --save, and the saved file reopens with the result', async () => {
    const out = join(dir, 'surface.json');
    const save = join(dir, 'with-surface.nngraph');
    const r = await gradflow(['experiment', 'landscape', join(ROOT, 'examples', 'xor.nngraph'), '--grid', '5', '--samples', '50', '--backend', 'cpu', '--seed', '3', '--out', out, '--save', save], true);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('has no trained weights: running on the initial weights');
    expect(r.out).toContain('2-D surface, 5 × 5 grid over [-1, 1], 50 examples');
    expect(r.out).toMatch(/\r\[#+\.*\] \d+\/25/); // the progress bar on a terminal
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ experiment: 'landscape', seed: 3, backend: 'cpu', status: 'completed', settings: { grid: 5, samples: 50 }, weightsStep: null });
    const loaded = loadGraph(readFileSync(save));
    if (!loaded.ok) throw loaded.error;
    const { file: _f, gradflow: _g, backendFallbacks: _b, ...stored } = json;
    expect(loaded.document.experiments!.results).toEqual([stored]);
  });

  it.each([
    ['sharpVsFlat', ['--epochs', '1', '--points', '3', '--samples', '20', '--iterations', '1', '--weight-decay', '0'], "Trains two runs from the graph's initial weights (batch 16 and the full training set): the trained weights in the file are not used"],
    ['trajectory', ['--epochs', '2', '--grid', '3', '--samples', '20'], 'Trains the graph from its initial weights, keeping a checkpoint at every epoch end: the trained weights in the file are not used'],
    ['interpolation', ['--end', 'second-run', '--points', '3', '--samples', '20'], 'From the initial weights to a second run trained here: the trained weights in the file are not used'],
  ])('%s on a graph without trained weights says what it trains itself, not that weights are missing', async (name, flags, line) => {
    const r = await gradflow(['experiment', name, join(ROOT, 'examples', 'xor.nngraph'), '--backend', 'cpu', ...flags]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toBe(line);
    expect(r.out).not.toContain('has no trained weights');
  });

  it('an experiment that needs trained weights the file lacks is refused before anything else is printed', async () => {
    const r = await gradflow(['experiment', 'interpolation', join(ROOT, 'examples', 'xor.nngraph'), '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('error: the graph has no trained weights: train it first, or interpolate from the initial weights to a second run\n');
  });

  it.each([
    [['experiment', 'landscpe', 'x.nngraph'], 2, "unknown experiment 'landscpe' (there are: landscape"],
    [['experiment', 'landscape'], 2, 'experiment landscape needs a FILE'],
    [['experiment', 'landscape', join(ROOT, 'examples', 'xor.nngraph'), '--grid', '99', '--backend', 'cpu'], 1, 'landscape setting grid (Grid): expected a whole number from 3 to 51, got 99'],
    [['experiment', 'landscape', join(ROOT, 'examples', 'xor.nngraph'), '--samples', 'many', '--backend', 'cpu'], 1, 'landscape setting samples (Samples): expected a whole number from 1 to 1000000, got the text "many"'],
    // webgl runs in the app only; webgpu runs in Node (tests/unit/cli-webgpu.test.ts).
    [['experiment', 'landscape', join(ROOT, 'examples', 'xor.nngraph'), '--backend', 'webgl'], 2, '--backend must be cpu, wasm or webgpu'],
  ])('%j exits %i saying what is wrong', async (argv, code, message) => {
    const r = await gradflow(argv as string[]);
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
  });
});
