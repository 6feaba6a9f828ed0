/**
 * What the dashboard draws besides curves, computed from the current weights in inference
 * mode: the decision boundary of a 2-D classifier and each hidden unit's own map over the
 * same plane (as TensorFlow Playground shows), the fitted curve of a 1-D regression, the
 * confusion matrix on the validation set, predictions for a few test digits, and the filters
 * and feature maps of convolutional layers.
 * Each call does one forward pass and one asynchronous read.
 */
import type { Tensor } from '../graph/types.ts';
import type { Trainer } from './trainer.ts';

export interface Plane {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  res: number;
}

export interface BoundaryView {
  plane: Plane;
  classes: number;
  /** Predicted class per cell, row-major from (x0, y1) top-left. */
  cls: Uint8Array;
  /** Confidence of that class per cell, in [0, 1]. */
  conf: Float32Array;
  /** Hidden units' outputs over the plane: node id -> res*res values per unit, unit-major. */
  units: Record<string, { units: number; values: Float32Array; min: number; max: number }>;
}

export interface CurveView {
  x: Float32Array;
  y: Float32Array;
}

export interface ConfusionView {
  classes: number;
  /** Which examples it counts: the validation set, or the training set when none is held out. */
  split: 'validation' | 'training';
  /** counts[truth * classes + predicted] */
  counts: number[];
}

export interface DigitsView {
  pixels: Float32Array;
  labels: number[];
  predictions: number[];
}

/** One Conv2D layer as the canvas draws it: its filters as small images, and its feature maps for one example. */
export interface ConvLayerView {
  filters: number;
  kh: number;
  kw: number;
  /** Input channels of the layer; the filter images show the weights of channel 0. */
  channels: number;
  /** filters × kh × kw weights of input channel 0, filter-major, row-major. */
  kernel: Float32Array;
  /** Largest |weight| of the layer, the colour scale of its filters. */
  kernelSpan: number;
  /** Height and width of the feature maps. */
  oh: number;
  ow: number;
  /** Feature maps of the chosen example, up to `maxMaps` of them, map-major, row-major. */
  maps: Float32Array;
  /** Largest |value| over the maps drawn. */
  mapSpan: number;
}

export interface ConvView {
  /** Which validation (or training) example the feature maps are of. */
  example: number;
  /** The example's pixels (28×28 for MNIST), to draw beside the maps; null for other inputs. */
  input: Float32Array | null;
  layers: Record<string, ConvLayerView>;
}

/**
 * Filters and feature maps of every convolutional layer (Conv2D), for example `example` of the validation set
 * (the training set when none is held out): one forward pass of that example and one read.
 * Null when the graph has no Conv2D.
 */
export async function convView(trainer: Trainer, example = 0, maxMaps = 16): Promise<ConvView | null> {
  // Convolutions are the layers whose kernel is [kh, kw, c_in, c_out].
  const layers = trainer.plan.nodes.filter((n) => !n.onTargetPath && n.weights.some((w) => w.name === 'kernel' && w.shape.length === 4));
  if (!layers.length) return null;
  const tf = trainer.program.tf;
  const split = trainer.dataset.val.n > 0 ? trainer.dataset.val : trainer.dataset.train;
  const index = Math.max(0, Math.min(split.n - 1, Math.floor(example)));
  const info = trainer.dataset.info;
  const width = info.xShape.reduce((a, b) => a * b, 1);
  const pixels = split.x.slice(index * width, (index + 1) * width);
  const packed = tf.tidy(() => {
    const x = tf.tensor(pixels, [1, ...info.xShape]);
    const r = trainer.program.forward({ x, y: tf.zeros([1, ...info.yShape]), training: false, seed: () => 0 });
    const parts: Tensor[] = [];
    for (const node of layers) {
      const kernel = trainer.program.weight(node.id, 'kernel')!.variable;
      const [kh, kw, , f] = kernel.shape as [number, number, number, number];
      // [kh, kw, c, f] -> channel 0 as [f, kh, kw].
      parts.push(tf.reshape(tf.transpose(tf.slice(kernel, [0, 0, 0, 0], [kh, kw, 1, f]), [3, 0, 1, 2]), [-1]));
      parts.push(tf.reshape(tf.max(tf.abs(kernel)), [1]));
      const out = r.outputs.get(node.id)!.out!;
      const shown = Math.min(f, maxMaps);
      const maps = tf.transpose(tf.slice(out, [0, 0, 0, 0], [1, out.shape[1]!, out.shape[2]!, shown]), [0, 3, 1, 2]);
      parts.push(tf.reshape(maps, [-1]), tf.reshape(tf.max(tf.abs(maps)), [1]));
    }
    return tf.concat(parts);
  });
  const v = (await packed.data()) as Float32Array;
  packed.dispose();
  const out: ConvView = { example: index, input: info.xShape.join() === '28,28' ? pixels : null, layers: {} };
  let at = 0;
  const take = (n: number) => v.slice(at, (at += n));
  for (const node of layers) {
    const [kh, kw, channels, filters] = node.weights.find((w) => w.name === 'kernel')!.shape as [number, number, number, number];
    const [oh, ow] = node.outputShapes.out! as [number, number, number];
    const kernel = take(filters * kh * kw);
    const kernelSpan = take(1)[0]!;
    const maps = take(Math.min(filters, maxMaps) * oh * ow);
    out.layers[node.id] = { filters, kh, kw, channels, kernel, kernelSpan, oh, ow, maps, mapSpan: take(1)[0]! };
  }
  return out;
}

/** Bounds of the training inputs with a margin, for a 2-D dataset. */
export function planeOf(trainer: Trainer, res: number): Plane {
  const x = trainer.dataset.train.x;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < x.length; i += 2) {
    x0 = Math.min(x0, x[i]!);
    x1 = Math.max(x1, x[i]!);
    y0 = Math.min(y0, x[i + 1]!);
    y1 = Math.max(y1, x[i + 1]!);
  }
  const mx = (x1 - x0) * 0.08 || 1;
  const my = (y1 - y0) * 0.08 || 1;
  return { x0: x0 - mx, x1: x1 + mx, y0: y0 - my, y1: y1 + my, res };
}

function gridInputs(p: Plane): Float32Array {
  const out = new Float32Array(p.res * p.res * 2);
  for (let r = 0; r < p.res; r++)
    for (let c = 0; c < p.res; c++) {
      const i = (r * p.res + c) * 2;
      out[i] = p.x0 + ((c + 0.5) / p.res) * (p.x1 - p.x0);
      out[i + 1] = p.y1 - ((r + 0.5) / p.res) * (p.y1 - p.y0);
    }
  return out;
}

/** Decision boundary and hidden-unit maps of a classifier on 2-D inputs; null for other data. */
export async function boundaryView(trainer: Trainer, res = 40, maxUnits = 16): Promise<BoundaryView | null> {
  const info = trainer.dataset.info;
  if (info.task !== 'classification' || info.xShape.length !== 1 || info.xShape[0] !== 2) return null;
  const tf = trainer.program.tf;
  const plane = planeOf(trainer, res);
  const n = res * res;
  const unitNodes = trainer.plan.nodes.filter((node) => {
    const s = node.outputShapes.out;
    return !node.onTargetPath && node.id !== trainer.plan.output.source && s && s.length === 1 && s[0]! <= maxUnits && node.def.role === 'op';
  });
  const packed = tf.tidy(() => {
    const x = tf.tensor(gridInputs(plane), [n, 2]);
    const r = trainer.program.forward({ x, y: tf.zeros([n, ...info.yShape]), training: false, seed: () => 0 });
    const pred = r.pred;
    const probs = info.yShape[0] === 1 ? tf.concat([tf.sub(1, tf.sigmoid(pred)), tf.sigmoid(pred)], 1) : tf.softmax(pred);
    const parts: Tensor[] = [tf.cast(tf.argMax(probs, 1), 'float32'), tf.max(probs, 1)];
    for (const node of unitNodes) parts.push(tf.reshape(tf.transpose(r.outputs.get(node.id)!.out!), [-1]));
    return tf.concat(parts);
  });
  const v = (await packed.data()) as Float32Array;
  packed.dispose();
  const units: BoundaryView['units'] = {};
  let at = 2 * n;
  for (const node of unitNodes) {
    const u = node.outputShapes.out![0]!;
    const values = v.slice(at, at + u * n);
    at += u * n;
    let [min, max] = [Infinity, -Infinity];
    for (const z of values) {
      min = Math.min(min, z);
      max = Math.max(max, z);
    }
    units[node.id] = { units: u, values, min, max };
  }
  return { plane, classes: Math.max(2, info.classes), cls: Uint8Array.from(v.subarray(0, n)), conf: v.slice(n, 2 * n), units };
}

/** The network's output over x in the training range, for a 1-D regression. */
export async function curveView(trainer: Trainer, points = 120): Promise<CurveView | null> {
  const info = trainer.dataset.info;
  if (info.task !== 'regression' || info.xShape.join() !== '1' || info.yShape.join() !== '1') return null;
  const xs = trainer.dataset.train.x;
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of xs) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const x = Float32Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
  return { x, y: await trainer.predict(x, points) };
}

/** Confusion matrix of the validation set (the training set when nothing is held out). */
export async function confusionView(trainer: Trainer): Promise<ConfusionView | null> {
  const info = trainer.dataset.info;
  if (info.task !== 'classification') return null;
  const split = trainer.dataset.val.n > 0 ? trainer.dataset.val : trainer.dataset.train;
  const k = Math.max(2, info.classes);
  const binary = info.yShape[0] === 1;
  const pred = await trainer.predict(split.x, split.n);
  const counts = new Array<number>(k * k).fill(0);
  const yw = info.yShape[0]!;
  for (let i = 0; i < split.n; i++) {
    let truth: number;
    let guess: number;
    if (binary) {
      truth = split.y[i]! > 0.5 ? 1 : 0;
      guess = pred[i]! > 0 ? 1 : 0;
    } else {
      truth = argmax(split.y, i * yw, yw);
      guess = argmax(pred, i * yw, yw);
    }
    counts[truth * k + guess]!++;
  }
  return { classes: k, counts, split: trainer.dataset.val.n > 0 ? 'validation' : 'training' };
}

/** The first `count` validation digits with their labels and the network's predictions. */
export async function digitsView(trainer: Trainer, count = 24): Promise<DigitsView | null> {
  const info = trainer.dataset.info;
  if (info.xShape.join() !== '28,28' || info.classes !== 10) return null;
  const split = trainer.dataset.val.n > 0 ? trainer.dataset.val : trainer.dataset.train;
  const n = Math.min(count, split.n);
  const pixels = split.x.slice(0, n * 784);
  const pred = await trainer.predict(pixels, n);
  const labels: number[] = [];
  const predictions: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(argmax(split.y, i * 10, 10));
    predictions.push(argmax(pred, i * 10, 10));
  }
  return { pixels, labels, predictions };
}

function argmax(v: ArrayLike<number>, from: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (v[from + j]! > v[from + best]!) best = j;
  return best;
}
