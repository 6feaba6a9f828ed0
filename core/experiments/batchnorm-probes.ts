/**
 * The measurements of the BatchNorm experiment at one step of training (Santurkar et al.,
 * "How Does Batch Normalization Help Optimization?", NeurIPS 2018), on one batch, all from
 * the training-mode loss (batch statistics, the noise of a Noisy BatchNorm drawn from a fixed
 * seed so every evaluation of the step sees the same noise):
 *
 *   - the loss and accuracy at W, and g = ∇L(W);
 *   - ICS from the optimization side (their Section 2.2): for each weighted layer i,
 *     G = ∇_{W_i} L(W) and G' = ∇_{W_i} L(W') where W' moves only the layers below i by an
 *     SGD step of the learning rate, W'_j = W_j − λ ∇_{W_j} L(W); then ‖G − G'‖₂ and cos(G, G');
 *   - smoothness along the gradient (their Figure 4), for each step size η: the loss
 *     L(W − ηg), the gradient predictiveness ‖g − ∇L(W − ηg)‖ and the ratio
 *     ‖g − ∇L(W − ηg)‖ / ‖ηg‖, whose maximum over η is the "effective β-smoothness";
 *   - the curvature along the gradient gᵀHg / gᵀg (the course's "high order effects":
 *     f(W − λg) ≈ f(W) − λgᵀg + ½λ²gᵀHg), by the Hessian-vector product of sharpness.ts;
 *   - the input of one chosen layer, for its distribution over training.
 *
 * Everything is synchronous tensor code returning one packed vector (one read-back per
 * probe), so a probe can run from the trainer's onStep hook, right after a step, and be read
 * later. Nothing is assigned: weights and BatchNorm running statistics stay as they were
 * (training mode computes new running statistics, which are simply never written).
 */
import { createRng } from '../data/rng.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { DeviceSplit, Trainer } from '../train/trainer.ts';
import { hessianVectorProduct } from './sharpness.ts';

/** A weighted layer whose ICS is measured: its trainable weights and those of the layers below it (indices into `program.trainable`). */
export interface IcsLayer {
  nodeId: string;
  own: number[];
  below: number[];
}

/** What one probe measures. */
export interface ProbeLayout {
  /** λ: the SGD step the layers below take for G'. */
  learningRate: number;
  /** The step sizes η along −g (absolute). */
  etas: number[];
  layers: IcsLayer[];
  /** Keep the input of this node (a weighted layer) for the distribution view; null for none. */
  observe: string | null;
  /** Seed of the random ops (Noisy BatchNorm, Dropout) in every evaluation of the probe: non-zero. */
  noiseSeed: number;
}

/** One probe's numbers, as unpacked from its vector. */
export interface ProbeValues {
  loss: number;
  /** Fraction correct on the batch (classification), else null. */
  accuracy: number | null;
  gradientNorm: number;
  curvature: number;
  /** Per η: L(W − ηg), ‖g − ∇L(W − ηg)‖, and that over ‖ηg‖. */
  lossAt: number[];
  predictiveness: number[];
  beta: number[];
  /** Per layer: ‖G − G'‖₂ and cos(G, G'). */
  icsDistance: number[];
  icsCosine: number[];
}

/** Weighted layers of a trainer and, for each, the trainable weights of the nodes it depends on. */
export function icsLayers(trainer: Trainer): IcsLayer[] {
  const { plan, program } = trainer;
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const ancestors = new Map<string, Set<string>>();
  // plan.nodes is in topological order: each node's ancestors are known before it.
  for (const n of plan.nodes) {
    const set = new Set<string>();
    for (const sources of Object.values(n.inputs)) {
      for (const s of sources) {
        if (!byId.has(s.source)) continue; // the dataset
        set.add(s.source);
        for (const a of ancestors.get(s.source) ?? []) set.add(a);
      }
    }
    ancestors.set(n.id, set);
  }
  const indices = (pred: (nodeId: string) => boolean) => program.trainable.flatMap((w, i) => (pred(w.nodeId) ? [i] : []));
  return plan.nodes
    .filter((n) => n.weights.some((w) => w.trainable && w.penalized))
    .map((n) => ({ nodeId: n.id, own: indices((id) => id === n.id), below: indices((id) => ancestors.get(n.id)!.has(id)) }));
}

/** Σ aᵢ·bᵢ over lists of tensors. */
const dot = (tf: TF, a: Tensor[], b: Tensor[]): Tensor => tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i]!))));
const norm = (tf: TF, a: Tensor[]): Tensor => tf.sqrt(dot(tf, a, a));

/**
 * The training-mode data loss of a trainer's graph over a set, as a function of the trainable
 * weights, with the random ops of every call drawn from the same seed (so W and W − ηg see
 * the same Noisy BatchNorm noise and Dropout masks). Sync.
 */
export function trainingLoss(trainer: Trainer, set: DeviceSplit, seed: number): (weights: Tensor[]) => { loss: Tensor; pred: Tensor; outputs: Map<string, Record<string, Tensor>> } {
  return (weights) => {
    const rng = createRng(seed);
    const r = trainer.program.forward({ x: set.x, y: set.y, training: true, seed: () => 1 + rng.int(2 ** 31 - 2), weights });
    return { loss: r.dataLoss, pred: r.pred, outputs: r.outputs };
  };
}

/** Fraction of correct predictions of a classifier on a batch (scalar tensor), or null for regression. */
export function accuracyOf(tf: TF, trainer: Trainer, pred: Tensor, y: Tensor): Tensor | null {
  if (trainer.plan.task !== 'classification') return null;
  const n = y.shape[0]!;
  const binary = y.shape[y.shape.length - 1] === 1;
  const correct = binary ? tf.equal(tf.greater(pred, 0), tf.greater(y, 0.5)) : tf.equal(tf.argMax(pred, -1), tf.argMax(y, -1));
  return tf.div(tf.sum(tf.cast(correct, 'float32')), n);
}

/** Length of the packed vector of a layout. */
export function probeLength(layout: ProbeLayout): number {
  return 4 + 3 * layout.etas.length + 2 * layout.layers.length;
}

/**
 * Measure at the trainer's current weights on `set` (see the top of this file). Returns the
 * packed numbers (read with {@link unpackProbe}) and, when the layout observes a layer, a copy
 * of its input; the caller disposes both. Sync: run it between steps.
 */
export function probe(tf: TF, trainer: Trainer, set: DeviceSplit, layout: ProbeLayout): { values: Tensor; observed: Tensor | null } {
  const kept: { accuracy: Tensor | null; observed: Tensor | null } = { accuracy: null, observed: null };
  const observedInput = layout.observe === null ? undefined : trainer.plan.nodes.find((n) => n.id === layout.observe)?.inputs.in?.[0];
  try {
    const values = tf.tidy(() => {
      const lossOf = trainingLoss(trainer, set, layout.noiseSeed);
      const theta = trainer.program.trainable.map((w) => w.variable as Tensor);
      // tf.grads refuses a weight with no path to the loss; 0 · Σw ties every weight in and adds nothing.
      const tied = (ws: Tensor[], y: Tensor) => tf.add(y, tf.mul(tf.addN(ws.map((w) => tf.sum(w))), 0));
      /** Loss and gradient at ws; `first` also keeps the accuracy and the observed input (the gradient's tidy frees all else). */
      const at = (ws: Tensor[], first = false) =>
        tf.valueAndGrads((...w: Tensor[]) => {
          const r = lossOf(w);
          if (first) {
            const acc = accuracyOf(tf, trainer, r.pred, set.y);
            kept.accuracy = acc ? tf.keep(acc) : null;
            const t = observedInput ? (r.outputs.get(observedInput.source)?.[observedInput.sourcePort] ?? (observedInput.source === trainer.plan.dataset.id ? set.x : undefined)) : undefined;
            kept.observed = t ? tf.keep(tf.clone(t)) : null;
          }
          return tied(w, r.loss) as never;
        })(ws);
      const base = at(theta, true);
      const g = base.grads;
      const gNorm = norm(tf, g);
      // gᵀHg/gᵀg = vᵀHv with v = g/‖g‖. The finite difference steps by ε·s·v with s = max(1, ‖W‖)
      // (sharpness.ts's ε relative to ‖W‖), computed on the device: the product of s·v is s·Hv.
      const s = tf.maximum(norm(tf, theta), 1);
      const v = g.map((t) => tf.div(t, tf.add(gNorm, 1e-30)));
      const hsv = hessianVectorProduct(tf, trainer, set, theta, v.map((t) => tf.mul(t, s)), 'finite-difference', 1e-3, (ws) => lossOf(ws).loss);
      const curvature = tf.div(dot(tf, v, hsv), s);
      const lossAt: Tensor[] = [];
      const pred: Tensor[] = [];
      const beta: Tensor[] = [];
      for (const eta of layout.etas) {
        const moved = at(theta.map((t, i) => tf.sub(t, tf.mul(g[i]!, eta))));
        const diff = norm(tf, moved.grads.map((t, i) => tf.sub(g[i]!, t)));
        lossAt.push(moved.value);
        pred.push(diff);
        beta.push(tf.div(diff, tf.add(tf.mul(gNorm, eta), 1e-30)));
      }
      const distance: Tensor[] = [];
      const cosine: Tensor[] = [];
      for (const layer of layout.layers) {
        const below = new Set(layer.below);
        const after = at(theta.map((t, i) => (below.has(i) ? tf.sub(t, tf.mul(g[i]!, layout.learningRate)) : t))).grads;
        const G = layer.own.map((i) => g[i]!);
        const G2 = layer.own.map((i) => after[i]!);
        distance.push(norm(tf, G.map((t, k) => tf.sub(t, G2[k]!))));
        cosine.push(tf.div(dot(tf, G, G2), tf.add(tf.mul(norm(tf, G), norm(tf, G2)), 1e-30)));
      }
      const head = [base.value, kept.accuracy ?? tf.scalar(Number.NaN), gNorm, curvature];
      return tf.concat([...head, ...lossAt, ...pred, ...beta, ...distance, ...cosine].map((t) => tf.reshape(t, [1])));
    });
    const observed = kept.observed;
    kept.observed = null;
    return { values, observed };
  } finally {
    kept.accuracy?.dispose();
    kept.observed?.dispose();
  }
}

/** The numbers of a probe's packed vector (the inverse of the packing in {@link probe}). */
export function unpackProbe(v: ArrayLike<number>, layout: ProbeLayout): ProbeValues {
  if (v.length !== probeLength(layout)) throw new Error(`internal: a probe has ${v.length} values, its layout ${probeLength(layout)}`);
  const m = layout.etas.length;
  const l = layout.layers.length;
  const slice = (from: number, n: number) => Array.from({ length: n }, (_, i) => v[from + i]!);
  return {
    loss: v[0]!,
    accuracy: Number.isNaN(v[1]!) ? null : v[1]!,
    gradientNorm: v[2]!,
    curvature: v[3]!,
    lossAt: slice(4, m),
    predictiveness: slice(4 + m, m),
    beta: slice(4 + 2 * m, m),
    icsDistance: slice(4 + 3 * m, l),
    icsCosine: slice(4 + 3 * m + l, l),
  };
}

/** Quantiles (5, 25, 50, 75, 95 %), mean, standard deviation and a histogram of some values. */
export function distributionSummary(values: ArrayLike<number>, bins: number): { mean: number; std: number; quantiles: number[]; lo: number; hi: number; counts: number[] } {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { mean: 0, std: 0, quantiles: [0, 0, 0, 0, 0], lo: 0, hi: 0, counts: new Array<number>(bins).fill(0) };
  let sum = 0;
  for (const x of sorted) sum += x;
  const mean = sum / n;
  let sq = 0;
  for (const x of sorted) sq += (x - mean) ** 2;
  const q = (p: number) => {
    const pos = p * (n - 1);
    const i = Math.floor(pos);
    return sorted[i]! + (sorted[Math.min(n - 1, i + 1)]! - sorted[i]!) * (pos - i);
  };
  // The histogram spans the 0.5–99.5 % range, so a few outliers do not squash the rest into one bin.
  const lo = q(0.005);
  const hi = q(0.995);
  const counts = new Array<number>(bins).fill(0);
  const width = hi > lo ? (hi - lo) / bins : 1;
  for (const x of sorted) {
    if (x < lo || x > hi) continue;
    counts[Math.min(bins - 1, Math.floor((x - lo) / width))]!++;
  }
  return { mean, std: Math.sqrt(sq / n), quantiles: [0.05, 0.25, 0.5, 0.75, 0.95].map(q), lo, hi, counts };
}
