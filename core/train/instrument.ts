/**
 * Instrumentation reductions, computed on the device from the same forward/backward pass as
 * the training step and packed into one flat tensor, so one asynchronous read brings back
 * everything the canvas draws: per-edge gradient magnitudes, per-layer norms and histograms.
 */
import type { Tensor, TF } from '../graph/types.ts';

export const DEFAULT_BINS = 30;

export interface Histogram {
  min: number;
  max: number;
  /** Counts in `bins` equal-width bins over [min, max]. */
  counts: number[];
}

export interface EdgeGradient {
  /** Mean of |dL/da| over the batch and units. */
  meanAbs: number;
  /** Root mean square of dL/da. */
  rms: number;
}

export interface LayerStats {
  weightNorm: number;
  gradNorm: number;
  /** ‖ΔW‖ / ‖W‖ for this step: ~1e-3 is healthy; much larger means a too-large learning rate. */
  updateRatio: number;
  weights: Histogram;
  gradients: Histogram;
  activations: Histogram | null;
}

export interface Instrumentation {
  /** Optimizer steps taken, this one included. */
  step: number;
  /** The epoch (from 1) this step belongs to. */
  epoch: number;
  loss: number;
  edges: Record<string, EdgeGradient>;
  layers: Record<string, LayerStats>;
}

/** [min, max, counts...] of a tensor's values, as one 1-D tensor of length 2 + bins. */
export function histogramTensor(tf: TF, t: Tensor, bins = DEFAULT_BINS): Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(t, [-1]);
    const mn = tf.min(flat);
    const mx = tf.max(flat);
    const width = tf.maximum(tf.sub(mx, mn), 1e-12);
    const idx = tf.cast(tf.clipByValue(tf.floor(tf.mul(tf.div(tf.sub(flat, mn), width), bins)), 0, bins - 1), 'int32');
    const counts = tf.cast(tf.bincount(idx as tfTypes1D, [], bins), 'float32');
    return tf.concat([tf.reshape(mn, [1]), tf.reshape(mx, [1]), counts]);
  });
}
type tfTypes1D = import('@tensorflow/tfjs').Tensor1D;

export function readHistogram(v: Float32Array | number[], at: number, bins = DEFAULT_BINS): Histogram {
  return { min: v[at]!, max: v[at + 1]!, counts: Array.from(v.slice(at + 2, at + 2 + bins)) };
}

/** mean |g| and RMS of g as a 2-element tensor. */
export function magnitudeTensor(tf: TF, g: Tensor): Tensor {
  return tf.tidy(() => tf.stack([tf.mean(tf.abs(g)), tf.sqrt(tf.mean(tf.square(g)))]));
}

/** Global L2 norm of several tensors, as a scalar tensor. */
export function normTensor(tf: TF, ts: Tensor[]): Tensor {
  return tf.tidy(() => tf.sqrt(tf.addN(ts.map((t) => tf.sum(tf.square(t))))));
}
