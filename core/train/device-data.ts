/**
 * A dataset's splits on the device and the batches cut from them: what a training step, an
 * evaluation and an experiment's evaluation set read.
 */
import { gatherBatch } from '../data/dataset.ts';
import { createRng } from '../data/rng.ts';
import type { Dataset, Split } from '../data/types.ts';
import type { Tensor, TF } from '../graph/types.ts';

/** Examples on the device: features, targets and their number. */
export interface DeviceSplit {
  x: Tensor;
  y: Tensor;
  n: number;
}

/** One batch: rows order[from..to) of the training split. */
export interface Batch {
  order: Uint32Array;
  from: number;
  to: number;
}

/** Backends whose tensors live in host memory, where a batch is cheapest copied on the host. */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/** Upload a split of `dataset` as tensors of its x and y shapes; the caller disposes them. */
export function uploadSplit(tf: TF, dataset: Dataset, s: Split): DeviceSplit {
  return {
    x: tf.tensor(s.x, [s.n, ...dataset.info.xShape], 'float32'),
    y: tf.tensor(s.y, [s.n, ...dataset.info.yShape], 'float32'),
    n: s.n,
  };
}

/**
 * The batch's rows as tensors. On the CPU-side backends (wasm, cpu) the rows are copied on
 * the host and uploaded: a plain copy, where tf.gather on wasm took ~3 ms per 128 MNIST
 * rows, a fifth of a whole step. On GPU backends the data stays on the device (`train`, the
 * uploaded training split) and is gathered there, so nothing crosses the bus per step. The
 * values are the same either way.
 */
export function batchTensors(tf: TF, dataset: Dataset, train: DeviceSplit, b: Batch): { x: Tensor; y: Tensor } {
  const n = b.to - b.from;
  const info = dataset.info;
  if (HOST_GATHER_BACKENDS.has(tf.getBackend())) {
    // Fresh arrays each step: the cpu backend keeps the array it is given, without a copy.
    const rows = gatherBatch(dataset.train, b.order, b.from, b.to);
    return { x: tf.tensor(rows.x, [n, ...info.xShape], 'float32'), y: tf.tensor(rows.y, [n, ...info.yShape], 'float32') };
  }
  const idx = tf.tensor1d(Int32Array.from(b.order.subarray(b.from, b.to)), 'int32');
  return { x: tf.gather(train.x, idx), y: tf.gather(train.y, idx) };
}

/**
 * A seeded subset of `samples` examples of `from`, in stored order, as new tensors (all of
 * them, in order, when `samples` covers the split). The caller disposes x and y.
 */
export function sampleSplit(tf: TF, from: DeviceSplit, samples: number, seed: number): DeviceSplit {
  if (samples >= from.n) return { x: tf.clone(from.x), y: tf.clone(from.y), n: from.n };
  const order = createRng(seed).shuffle(Int32Array.from({ length: from.n }, (_, i) => i)).subarray(0, samples);
  return tf.tidy(() => {
    const idx = tf.tensor1d(Int32Array.from(order).sort(), 'int32');
    return { x: tf.gather(from.x, idx), y: tf.gather(from.y, idx), n: samples };
  });
}
