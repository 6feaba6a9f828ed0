/** The runs' CSV export: one row per run and epoch, quoted by papaparse's rules so any CSV reader gets the cells back. */
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../core/graph/document.ts';
import { runsToCsv } from '../../renderer/export.ts';

const run = (over: Partial<RunRecord> = {}): RunRecord => ({
  id: 'run-1',
  startedAt: '2026-01-01T00:00:00.000Z',
  status: 'completed',
  backend: 'cpu',
  seed: 7,
  settings: { optimizer: 'adam', learningRate: 0.001, batchSize: 32 },
  epochs: [
    { epoch: 1, trainLoss: 0.5, valLoss: null, trainAccuracy: 0.75, valAccuracy: null, learningRate: 0.001, seconds: 1.25 },
    { epoch: 2, trainLoss: 0.25, valLoss: 0.3, trainAccuracy: 0.875, valAccuracy: 0.8, learningRate: 0.001, seconds: 1.5 },
  ],
  stepLoss: [],
  ...over,
});

describe('runsToCsv', () => {
  it('writes a header and one row per run and epoch, empty cells for missing values, and a final line end', () => {
    const csv = runsToCsv([run(), run({ seed: 8, epochs: [run().epochs[0]!] })]);
    expect(csv.endsWith('0.001,1.25\n')).toBe(true);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('run,started,status,backend,seed,optimizer,learning_rate,batch_size,epoch,train_loss,val_loss,train_accuracy,val_accuracy,epoch_learning_rate,seconds');
    expect(lines[1]).toBe('1,2026-01-01T00:00:00.000Z,completed,cpu,7,adam,0.001,32,1,0.5,,0.75,,0.001,1.25');
    expect(lines[3]!.startsWith('2,')).toBe(true);
  });

  it('quotes cells with commas, quotes and line breaks so they read back unchanged', () => {
    const awkward = 'a "custom", odd\r\nbackend';
    const csv = runsToCsv([run({ backend: awkward })]);
    const parsed = Papa.parse<string[]>(csv.trimEnd(), { delimiter: ',' });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data[1]![3]).toBe(awkward);
    expect(parsed.data.every((r) => r.length === 15)).toBe(true);
  });
});
