/**
 * Directions in weight space and evaluation along them, shared by the landscape experiments.
 * Follows Li et al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018) and its
 * reference code (tomgoldstein/loss-landscape, net_plotter.py): a Gaussian direction with
 * the shape of the weights, rescaled filter by filter so that ‖d_filter‖ = ‖w_filter‖, with
 * biases and BatchNorm parameters (the 1-D weights) given zero direction unless asked.
 */
import type { Rng } from '../data/rng.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { DeviceSplit, GivenOutputs, Trainer } from '../train/trainer.ts';
import type { ExperimentContext } from './framework.ts';

/**
 * A filter-normalized random direction for `weights` (the trainable weights, in the order of
 * `program.trainable`). In TensorFlow.js a Dense kernel is [in, out] and a convolution
 * kernel [h, w, in, out], so a filter (one output unit, one output channel) is a slice along
 * the last axis: PyTorch's first axis, which net_plotter.py iterates over. Weights of rank
 * ≤ 1 (biases, BatchNorm γ and β) get a zero direction, or with `includeBiasBN` a copy of the
 * weights themselves, as net_plotter.py's `ignore='biasbn'` switch does.
 */
export function filterNormalizedDirection(tf: TF, weights: Tensor[], rng: Rng, includeBiasBN = false): Tensor[] {
  return weights.map((w) => {
    const size = w.size;
    // Drawn on the host with our seeded generator, so that a seed gives the same direction on every backend.
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = rng.normal();
    if (w.rank <= 1) return includeBiasBN ? tf.clone(w) : tf.zerosLike(w);
    return tf.tidy(() => {
      const d = tf.tensor(values, w.shape, 'float32');
      const axes = w.shape.slice(0, -1).map((_, i) => i);
      const dNorm = tf.sqrt(tf.sum(tf.square(d), axes));
      const wNorm = tf.sqrt(tf.sum(tf.square(w), axes));
      return tf.mul(d, tf.div(wNorm, tf.add(dNorm, 1e-10)));
    });
  });
}

/** θ + Σ cᵢ dᵢ, weight by weight (a null entry of a direction leaves that weight alone). Sync: call inside tf.tidy. */
export function offsetWeights(tf: TF, theta: Tensor[], directions: (Tensor | null)[][], coefficients: number[]): Tensor[] {
  return theta.map((w, k) => {
    let out: Tensor = w;
    directions.forEach((d, i) => {
      const dk = d[k];
      if (coefficients[i] !== 0 && dk) out = tf.add(out, tf.mul(dk, coefficients[i]!));
    });
    return out;
  });
}

/** Loss and accuracy of one point in weight space. */
export interface Evaluation {
  loss: number;
  /** Fraction correct (classification), or null. */
  accuracy: number | null;
}

/**
 * Evaluate many points in weight space over one set, reading all their losses back in one
 * transfer (a read-back costs a round trip to the device: one per point would dominate on a
 * GPU). `weightsOf(i)` builds the trainable weights of point i inside a tidy.
 */
export async function evaluatePoints(tf: TF, trainer: Trainer, set: DeviceSplit, count: number, weightsOf: (i: number) => Tensor[], givenOf?: (i: number) => GivenOutputs): Promise<Evaluation[]> {
  if (count === 0) return [];
  const packed = tf.tidy(() =>
    tf.stack(
      Array.from({ length: count }, (_, i) =>
        tf.tidy(() => {
          const r = trainer.evaluateOn(set, weightsOf(i), givenOf?.(i));
          return tf.stack([r.loss, r.correct ?? tf.scalar(NaN)]);
        }),
      ),
    ),
  );
  const v = (await packed.data()) as Float32Array;
  packed.dispose();
  return Array.from({ length: count }, (_, i) => ({ loss: v[2 * i]!, accuracy: Number.isNaN(v[2 * i + 1]!) ? null : v[2 * i + 1]! / set.n }));
}

/** A value rounded to 7 significant digits (float32 holds about that many), so results stay small in the file. */
export function round7(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(7)) : v;
}

/**
 * The order in which to compute n evenly spaced points so that a coarse picture comes first:
 * both ends and the middle, then every 8th, 4th, 2nd point, then the rest.
 */
export function coarseToFine(n: number): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  const push = (i: number) => {
    if (i >= 0 && i < n && !seen.has(i)) {
      seen.add(i);
      order.push(i);
    }
  };
  push(0);
  push(n - 1);
  push((n - 1) >> 1);
  let stride = 1;
  while (stride * 2 < n) stride *= 2;
  for (; stride >= 1; stride >>= 1) for (let i = 0; i < n; i += stride) push(i);
  return order;
}

/** Why a From–To range of α (the settings of a 1-D or 2-D plot) cannot be drawn, or null. */
export function rangeProblem(s: { from: number; to: number }): string | null {
  return s.from < s.to ? null : `the range must go up: From (${s.from}) must be below To (${s.to})`;
}

/** n evenly spaced values from `from` to `to`, both included (the middle one exactly 0 on a symmetric odd grid). */
export function linspace(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? from : from * (1 - i / (n - 1)) + to * (i / (n - 1))));
}

/** Most float32 values the outputs of precomputed layers may hold (θ and every direction together): 256 MB. */
const PRECOMPUTE_BUDGET = 64 * 2 ** 20;

/**
 * The layers of `trainer`'s graph that are linear in their weights and fed by the data alone
 * (Program.dataLinearLayers), computed once at θ and once along each direction over `set`:
 * since out(θ + Σ cᵢ dᵢ) = out(θ) + Σ cᵢ out(dᵢ) for such a layer, a point then costs a few
 * additions there instead of the layer's product (for the MNIST MLP, 85 % of a forward
 * pass). Layers are taken in graph order while their outputs fit PRECOMPUTE_BUDGET; null when
 * none does. The caller disposes it.
 */
export class LinearLayerCache {
  private constructor(
    private readonly tf: TF,
    /**
     * By the first row of each evaluation chunk: the layers' outputs for its rows at θ, then
     * along each direction (index 0 at θ, i + 1 along dᵢ). Cut once, since a slice is a copy.
     */
    private readonly chunks: Map<number, Map<string, Record<string, Tensor>>[]>,
    /** Indices (in `program.trainable`) of the weights these layers own: a point need not offset them. */
    readonly ownWeights: ReadonlySet<number>,
  ) {}

  static create(tf: TF, trainer: Trainer, set: DeviceSplit, theta: Tensor[], directions: Tensor[][]): LinearLayerCache | null {
    let room = PRECOMPUTE_BUDGET;
    const ids: string[] = [];
    for (const id of trainer.program.dataLinearLayers()) {
      const node = trainer.plan.nodes.find((n) => n.id === id)!;
      const values = Object.values(node.outputShapes).reduce((a, shape) => a + shape.reduce((x, y) => x * y, 1), 0) * set.n * (directions.length + 1);
      if (values > room) continue;
      room -= values;
      ids.push(id);
    }
    if (!ids.length) return null;
    const whole = [theta, ...directions].map((w) => trainer.nodeOutputs(set, ids, w));
    const spans = trainer.evaluationChunks(set);
    const chunks = new Map<number, Map<string, Record<string, Tensor>>[]>();
    if (spans.length === 1) chunks.set(0, whole);
    else {
      for (const { from, m } of spans) {
        chunks.set(from, whole.map((byId) => new Map([...byId].map(([id, ports]) => [id, Object.fromEntries(Object.entries(ports).map(([port, t]) => [port, t.slice(from, m)]))]))));
      }
      for (const byId of whole) for (const ports of byId.values()) for (const t of Object.values(ports)) t.dispose();
    }
    const own = new Set<number>();
    trainer.program.trainable.forEach((w, k) => {
      if (ids.includes(w.nodeId)) own.add(k);
    });
    return new LinearLayerCache(tf, chunks, own);
  }

  /** The layers' outputs at θ + Σ cᵢ dᵢ, chunk by chunk as the evaluation asks. Sync: call inside tf.tidy. */
  at(coefficients: readonly number[]): GivenOutputs {
    const tf = this.tf;
    return (from) => {
      const outputs = this.chunks.get(from);
      if (!outputs) throw new Error(`internal: no precomputed chunk starts at row ${from}`);
      const given = new Map<string, Record<string, Tensor>>();
      for (const [id, base] of outputs[0]!) {
        const ports: Record<string, Tensor> = {};
        for (const [port, t] of Object.entries(base)) {
          let v: Tensor = t;
          coefficients.forEach((c, i) => {
            if (c !== 0) v = tf.add(v, tf.mul(outputs[i + 1]!.get(id)![port]!, c));
          });
          ports[port] = v;
        }
        given.set(id, ports);
      }
      return given;
    };
  }

  dispose(): void {
    for (const outputs of this.chunks.values()) for (const byId of outputs) for (const ports of byId.values()) for (const t of Object.values(ports)) t.dispose();
  }
}

/** Options of evaluateAlong. */
export interface EvaluateAlongOptions {
  /**
   * Compute the layers linear in their weights that the data feeds once per direction
   * (LinearLayerCache; default true). False runs the whole forward pass at every point: the
   * reference the fast path is tested against.
   */
  precompute?: boolean;
}

/**
 * Evaluate θ + Σ cᵢ dᵢ at every point of `coords` (lists of coefficients, one per direction),
 * in groups read back at once, with pause and cancel acting between groups. `onGroup` gets
 * the points done so far after each group.
 */
export async function evaluateAlong(
  ctx: ExperimentContext,
  trainer: Trainer,
  set: DeviceSplit,
  theta: Tensor[],
  directions: Tensor[][],
  coords: number[][],
  onGroup: (done: number, values: { index: number; value: Evaluation }[]) => void,
  options: EvaluateAlongOptions = {},
): Promise<void> {
  // A group of points per read-back: large enough to hide the round trip, small enough
  // that progress, pause and cancel still act within a fraction of a second.
  const group = Math.max(1, Math.min(32, Math.floor(2_000_000 / Math.max(1, set.n * 64))));
  const cache = options.precompute === false ? null : LinearLayerCache.create(ctx.tf, trainer, set, theta, directions);
  // The precomputed layers' own weights are never read, so a point leaves them at θ.
  const moved = cache ? directions.map((d) => d.map((t, k) => (cache.ownWeights.has(k) ? null : t))) : directions;
  try {
    for (let at = 0; at < coords.length; at += group) {
      await ctx.checkpoint();
      const batch = coords.slice(at, at + group);
      const values = await evaluatePoints(
        ctx.tf,
        trainer,
        set,
        batch.length,
        (i) => offsetWeights(ctx.tf, theta, moved, batch[i]!),
        cache ? (i) => cache.at(batch[i]!) : undefined,
      );
      onGroup(
        Math.min(coords.length, at + group),
        values.map((value, i) => ({ index: at + i, value })),
      );
    }
  } finally {
    cache?.dispose();
  }
}
