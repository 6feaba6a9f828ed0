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
    // (x − min)/width·bins ≥ 0, so the cast's truncation is the floor: clip, then cast.
    const idx = tf.cast(tf.clipByValue(tf.mul(tf.div(tf.sub(flat, mn), width), bins), 0, bins - 1), 'int32');
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

/**
 * What one instrumented step measures, in packing order: the instrumented edges (by edge id)
 * and the layers with trainable weights (by node id), with `bins` histogram bins. The packed
 * vector is, in float32:
 *
 *     loss | per edge: meanAbs, rms | per layer: weightNorm, gradNorm, updateRatio,
 *            weights histogram, gradients histogram, activations histogram (min = NaN: none)
 *
 * where a histogram is [min, max, counts × bins]. {@link packInstrumentation} writes it and
 * {@link unpackInstrumentation} reads it; nothing else knows the offsets.
 */
export interface InstrumentLayout {
  edges: readonly string[];
  layers: readonly string[];
  bins: number;
}

/** The tensors one layer contributes, all from the same step. */
export interface LayerTensors {
  /** The layer's trainable weights after the update. */
  weights: Tensor[];
  /** The same weights before the update (for ‖ΔW‖/‖W‖). */
  before: Tensor[];
  /** Their gradients (after clipping: what the optimizer used). */
  grads: Tensor[];
  /** Index (into weights) of the tensor whose histograms are drawn: the weight matrix. */
  main: number;
  /** The layer's output on the batch, when it was computed (null: no activation histogram). */
  activation: Tensor | null;
}

const histogramLength = (bins: number): number => 2 + bins;
const layerLength = (bins: number): number => 3 + 3 * histogramLength(bins);

/** Length of the packed vector for a layout. */
export function packedLength(layout: InstrumentLayout): number {
  return 1 + 2 * layout.edges.length + layerLength(layout.bins) * layout.layers.length;
}

/**
 * Reduce one step's tensors on the device into the packed vector of `layout` (one read-back
 * brings everything). `edgeGrads[i]` is dL/d(edge i); `layers[i]` belongs to layer i.
 */
export function packInstrumentation(tf: TF, layout: InstrumentLayout, loss: Tensor, edgeGrads: Tensor[], layers: LayerTensors[]): Tensor {
  if (edgeGrads.length !== layout.edges.length || layers.length !== layout.layers.length) {
    throw new Error(`internal: instrumentation has ${edgeGrads.length} edges and ${layers.length} layers, the layout ${layout.edges.length} and ${layout.layers.length}`);
  }
  return tf.tidy(() => {
    const parts: Tensor[] = [tf.reshape(loss, [1])];
    for (const g of edgeGrads) parts.push(magnitudeTensor(tf, g));
    for (const l of layers) {
      const delta = l.weights.map((w, i) => tf.sub(w, l.before[i]!));
      parts.push(tf.reshape(normTensor(tf, l.weights), [1]));
      parts.push(tf.reshape(normTensor(tf, l.grads), [1]));
      parts.push(tf.reshape(tf.div(normTensor(tf, delta), tf.maximum(normTensor(tf, l.before), 1e-12)), [1]));
      parts.push(histogramTensor(tf, l.weights[l.main]!, layout.bins));
      parts.push(histogramTensor(tf, l.grads[l.main]!, layout.bins));
      parts.push(l.activation ? histogramTensor(tf, l.activation, layout.bins) : tf.fill([histogramLength(layout.bins)], NaN));
    }
    return tf.concat(parts);
  });
}

/** Read a packed vector of `layout` back into named values. */
export function unpackInstrumentation(layout: InstrumentLayout, v: Float32Array | number[], step: number, epoch: number): Instrumentation {
  if (v.length !== packedLength(layout)) throw new Error(`internal: the instrumentation vector has ${v.length} values, its layout ${packedLength(layout)}`);
  const h = histogramLength(layout.bins);
  let at = 0;
  const loss = v[at++]!;
  const edges: Instrumentation['edges'] = {};
  for (const id of layout.edges) {
    edges[id] = { meanAbs: v[at]!, rms: v[at + 1]! };
    at += 2;
  }
  const layers: Record<string, LayerStats> = {};
  for (const id of layout.layers) {
    layers[id] = {
      weightNorm: v[at]!,
      gradNorm: v[at + 1]!,
      updateRatio: v[at + 2]!,
      weights: readHistogram(v, at + 3, layout.bins),
      gradients: readHistogram(v, at + 3 + h, layout.bins),
      activations: Number.isNaN(v[at + 3 + 2 * h]!) ? null : readHistogram(v, at + 3 + 2 * h, layout.bins),
    };
    at += layerLength(layout.bins);
  }
  return { step, epoch, loss, edges, layers };
}
