/**
 * Pruning masks in the exported PyTorch project: weights.npz carries them as
 * `mask/attribute.weight`, and train.py keeps the pruned weights at exactly 0 while it
 * trains (gradients masked before the update, weights after it), with optimizers that keep
 * state. A few steps on XOR: CI has 2 cores.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { exportPytorch } from '../../core/io/export/pytorch.ts';
import { storeMask } from '../../core/io/masks.ts';
import { decodeNpz, type NpyArray } from '../../core/io/npz.ts';
import { initialWeights } from '../../core/io/weights.ts';
import { havePython, python } from './helpers/python.ts';

/** XOR with a Dense hidden layer whose [2, 8] kernel keeps every other weight. */
function maskedXor(optimizer: string): { doc: GraphDocument; bits: Uint8Array } {
  const g = new GraphBuilder(`masked xor ${optimizer}`);
  g.add('dataset', 'data', { source: 'xor', samples: 64, batchSize: 16, seed: 5 });
  const out = g.chain('data.x', [
    ['dense', 'hidden', { units: 8 }],
    ['tanh', 'tanh'],
    ['dense', 'out', { units: 2 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add(optimizer, 'opt', { epochs: 3, learningRate: 0.1 }).wire('loss.loss', 'opt.loss');
  const doc = g.build();
  const bits = new Uint8Array(16).map((_, i) => (i % 2 === 0 ? 1 : 0));
  doc.masks = { hidden: { kernel: storeMask({ shape: [2, 8], bits }) } };
  return { doc, bits };
}

async function exportTo(doc: GraphDocument): Promise<{ dir: string; npz: Record<string, NpyArray> }> {
  const r = await exportPytorch(doc, { weights: initialWeights(doc), trained: false });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-pt-mask-'));
  for (const f of r.value) writeFileSync(join(dir, f.path), f.bytes);
  const weights = r.value.find((f) => f.path === 'weights.npz')!;
  return { dir, npz: await decodeNpz(weights.bytes) };
}

describe('the PyTorch export carries the pruning masks', () => {
  it('as mask/attribute.weight 0/1 arrays in weights.npz, only for masked weights', async () => {
    const { doc, bits } = maskedXor('momentum');
    const { npz } = await exportTo(doc);
    const mask = npz['mask/hidden.kernel']!;
    expect(mask.shape).toEqual([2, 8]);
    expect(Array.from(mask.data)).toEqual(Array.from(bits));
    expect(Object.keys(npz).filter((k) => k.startsWith('mask/'))).toEqual(['mask/hidden.kernel']);
  });
});

describe.skipIf(!havePython())('train.py keeps pruned weights at exactly 0 (Debian python3-torch)', () => {
  it.each(['momentum', 'adam'])('with %s: pruned entries are 0 in the --save output, kept ones trained', async (optimizer) => {
    const { doc, bits } = maskedXor(optimizer);
    const { dir, npz } = await exportTo(doc);
    python(['train.py', '--steps', '8', '--save', 'trained.npz'], { cwd: dir, timeoutMs: 120_000 });
    const saved = python(['-c', 'import numpy as np, json; print(json.dumps(np.load("trained.npz")["hidden.kernel"].astype(float).ravel().tolist()))'], { cwd: dir });
    const trained = JSON.parse(saved) as number[];
    const initial = Array.from(npz['initial/hidden.kernel']!.data);
    expect(trained).toHaveLength(16);
    trained.forEach((w, i) => {
      if (bits[i]) expect(w).not.toBe(initial[i]);
      else expect(Math.abs(w)).toBe(0);
    });
  });
});
