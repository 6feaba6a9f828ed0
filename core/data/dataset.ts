/**
 * Builds a Dataset node's data (generated or MNIST), splits it into train/validation, and
 * plans seeded mini-batches for the trainer.
 *
 * Randomness: one Rng seeded with `p.seed` is forked into a generation stream and a split
 * stream, so changing the validation fraction moves the split boundary without changing which
 * points are generated or the shuffled order.
 */
import { datasetInfo, datasetProblems, validationCount } from './info.ts';
import { MNIST_PIXELS, type MnistData } from './mnist.ts';
import { createRng, type Rng } from './rng.ts';
import { encodeLabels, generateSynthetic } from './synthetic.ts';
import type { Dataset, DatasetParams, Split } from './types.ts';

/** Number of scalars in one row of the given per-sample shape ([] is a scalar: 1). */
export function rowSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether building `p` needs the MNIST digits passed to buildDataset. */
export function needsMnist(p: Pick<DatasetParams, 'source'>): boolean {
  return p.source === 'mnist';
}

/** A seeded random permutation of 0..n-1. */
export function shuffledOrder(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return rng.shuffle(order);
}

/**
 * Shuffles row indices 0..n-1 with `rng` and splits them: the first
 * validationCount(n, fraction) shuffled indices go to validation, the rest to training.
 */
export function splitIndices(
  n: number,
  fraction: number,
  rng: Rng,
): { train: Uint32Array; val: Uint32Array } {
  const order = shuffledOrder(n, rng);
  const nVal = validationCount(n, fraction);
  return { train: order.subarray(nVal), val: order.subarray(0, nVal) };
}

/**
 * Copies rows `indices` of a row-major table with `width` scalars per row into a new
 * Float32Array, dividing each value by `divisor` (255 turns uint8 pixels into [0, 1]).
 */
export function gatherRows(
  src: ArrayLike<number>,
  width: number,
  indices: ArrayLike<number>,
  divisor = 1,
): Float32Array {
  const out = new Float32Array(indices.length * width);
  for (let j = 0; j < indices.length; j++) {
    const from = indices[j]! * width;
    const to = j * width;
    for (let k = 0; k < width; k++) out[to + k] = src[from + k]! / divisor;
  }
  return out;
}

/** Throws for parameters no dataset can be built from, with the reasons as one message. */
function checkParams(p: DatasetParams): void {
  const problems: string[] = [];
  if (!Number.isInteger(p.samples) || p.samples < 1) {
    problems.push(`samples must be a whole number of at least 1, got ${p.samples}`);
  }
  if (!(Number.isFinite(p.noise) && p.noise >= 0)) {
    problems.push(`noise must be 0 or more, got ${p.noise}`);
  }
  if (!(p.validationFraction >= 0 && p.validationFraction < 1)) {
    problems.push(`validation fraction must be in [0, 1), got ${p.validationFraction}`);
  }
  if (
    (p.source === 'spirals' || p.source === 'blobs') &&
    !(Number.isInteger(p.classes) && p.classes >= 2 && p.classes <= 255)
  ) {
    problems.push(`${p.source} needs a whole number of classes from 2, got ${p.classes}`);
  }
  problems.push(...datasetProblems(p));
  if (problems.length > 0) throw new Error(`Cannot build the dataset: ${problems.join('; ')}`);
}

/**
 * Generates the dataset `p` describes (or, for MNIST, takes the first `p.samples` digits of
 * `mnist`, pixels scaled to [0, 1], each image flattened row-major to 784 values although
 * xShape is [28, 28]), shuffles it with `p.seed` and splits off
 * validationCount(samples, validationFraction) rows for validation.
 * Throws an Error with a readable message for invalid parameters or missing MNIST data.
 */
export function buildDataset(p: DatasetParams, mnist?: MnistData): Dataset {
  checkParams(p);
  const info = datasetInfo(p);
  const root = createRng(p.seed);
  const genRng = root.fork();
  const splitRng = root.fork();
  const n = p.samples;
  const { train, val } = splitIndices(n, p.validationFraction, splitRng);
  const xWidth = rowSize(info.xShape);
  const yWidth = rowSize(info.yShape);

  if (needsMnist(p)) {
    if (!mnist) {
      throw new Error('The MNIST dataset needs the MNIST digits, but none were loaded');
    }
    if (mnist.n < n) {
      throw new Error(`MNIST has ${mnist.n} digits loaded, but ${n} samples were asked for`);
    }
    if (xWidth !== MNIST_PIXELS) throw new Error(`MNIST rows are ${MNIST_PIXELS}, not ${xWidth}`);
    // Gather straight from the uint8 digits so the full float copy never exists twice.
    const take = (indices: Uint32Array): Split => ({
      x: gatherRows(mnist.images, MNIST_PIXELS, indices, 255),
      y: encodeLabels(gatherRows(mnist.labels, 1, indices), info.classes, p.targetEncoding),
      n: indices.length,
    });
    return { info, train: take(train), val: take(val) };
  }

  const all = generateSynthetic(p, genRng);
  const take = (indices: Uint32Array): Split => ({
    x: gatherRows(all.x, xWidth, indices),
    y: gatherRows(all.y, yWidth, indices),
    n: indices.length,
  });
  return { info, train: take(train), val: take(val) };
}

/** Half-open row range [from, to) of one batch within an epoch's order. */
export interface BatchRange {
  from: number;
  to: number;
}

/**
 * Splits n rows into consecutive batches of `batchSize`; batchSize 0 (or ≥ n) gives one
 * batch of all rows, and a last partial batch is kept rather than dropped. n = 0 gives none.
 */
export function batchRanges(n: number, batchSize: number): BatchRange[] {
  if (!(Number.isInteger(batchSize) && batchSize >= 0)) {
    throw new Error(`batch size must be a whole number of 0 or more, got ${batchSize}`);
  }
  const size = batchSize === 0 ? n : batchSize;
  const ranges: BatchRange[] = [];
  for (let from = 0; from < n; from += size) ranges.push({ from, to: Math.min(n, from + size) });
  return ranges;
}

/** One epoch's plan: a permutation of the split's rows, and the batches to slice from it. */
export interface EpochPlan {
  order: Uint32Array;
  batches: BatchRange[];
}

/**
 * Plans one epoch over `split`: a fresh seeded permutation (draw it from an Rng that
 * persists across epochs, so each epoch differs yet the run is reproducible) and the batch
 * ranges for `batchSize`. Pass each range to gatherBatch.
 */
export function epochBatches(split: Split, batchSize: number, rng: Rng): EpochPlan {
  return { order: shuffledOrder(split.n, rng), batches: batchRanges(split.n, batchSize) };
}

/**
 * Copies rows order[from..to) of `split` (or rows from..to in stored order when `order` is
 * null, e.g. for evaluation) into one batch. When `xOut`/`yOut` are given (sized for a full
 * batch) they are reused and the result holds views of their first rows, so a training loop
 * allocates nothing per batch.
 */
export function gatherBatch(
  split: Split,
  order: Uint32Array | null,
  from: number,
  to: number,
  xOut?: Float32Array,
  yOut?: Float32Array,
): Split {
  const limit = order ? order.length : split.n;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= limit)) {
    throw new Error(`batch rows [${from}, ${to}) are outside [0, ${limit})`);
  }
  const m = to - from;
  if (split.n === 0) return { x: new Float32Array(0), y: new Float32Array(0), n: 0 };
  const xw = split.x.length / split.n;
  const yw = split.y.length / split.n;
  const x = outBuffer(xOut, m * xw, 'x');
  const y = outBuffer(yOut, m * yw, 'y');
  for (let j = 0; j < m; j++) {
    const row = order ? order[from + j]! : from + j;
    x.set(split.x.subarray(row * xw, (row + 1) * xw), j * xw);
    y.set(split.y.subarray(row * yw, (row + 1) * yw), j * yw);
  }
  return { x, y, n: m };
}

function outBuffer(out: Float32Array | undefined, length: number, name: string): Float32Array {
  if (!out) return new Float32Array(length);
  if (out.length < length) {
    throw new Error(`${name} batch buffer holds ${out.length} values, the batch needs ${length}`);
  }
  return out.subarray(0, length);
}
