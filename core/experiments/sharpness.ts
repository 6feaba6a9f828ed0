/**
 * Sharpness: the largest eigenvalues of the Hessian of the training loss at the current
 * weights, by power iteration on Hessian-vector products, as PyHessian does
 * (amirgholami/PyHessian, hessian.py, `eigenvalues`): start from a Gaussian vector,
 * normalise, then repeat v ← normalise(Hv) after making v orthogonal to the eigenvectors
 * already found, until the Rayleigh quotient vᵀHv changes by less than the tolerance
 * (relative), for at most `maxIterations` products. Hv is computed by double
 * backpropagation (∇(∇L · v)) or by a central difference of gradients
 * ((∇L(θ + εv) − ∇L(θ − εv)) / 2ε); the tests check them against each other. The loss is the
 * data loss in inference mode (BatchNorm running statistics, no Dropout) over a seeded subset
 * of the training set, differentiated with respect to every trainable weight (biases and
 * BatchNorm γ, β included, as PyHessian's `model.parameters()`).
 *
 * The finite difference is the default: TensorFlow.js differentiates most gradients a second
 * time with the tensors their first derivative saved treated as constants (tanh, sigmoid,
 * log-softmax) or not at all (max, through Equal), so double backpropagation is exact only on
 * graphs such as ReLU MLPs with a squared error. When asked for, it is checked against the
 * finite difference on the first product and refused, with that reason, where they differ.
 */
import { z } from 'zod';
import { createRng, type Rng } from '../data/rng.ts';
import { int, num, oneOf } from '../graph/params.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { DeviceSplit, Trainer } from '../train/trainer.ts';
import { round7 } from './directions.ts';
import { defineExperiment, ExperimentError, type ExperimentContext } from './framework.ts';

const settings = {
  top: int({ label: 'Eigenvalues', help: 'How many of the largest Hessian eigenvalues to find (λmax first), each by its own power iteration.', default: 1, min: 1, max: 10 }),
  maxIterations: int({ label: 'Iterations', help: 'Most Hessian-vector products per eigenvalue (PyHessian: maxIter = 100).', default: 100, min: 1, max: 1000 }),
  tolerance: num({ label: 'Tolerance', help: 'Stop when the eigenvalue estimate changes by less than this, relatively (PyHessian: tol = 1e-3).', default: 1e-3, min: 0, max: 1, exclusiveMin: true, log: true }),
  samples: int({ label: 'Samples', help: 'How many training examples the loss is measured on: a seeded subset (all of them when the set is smaller).', default: 1000, min: 1, max: 100_000 }),
  method: oneOf({
    label: 'Hessian-vector product',
    help: 'Finite difference: (∇L(θ+εv) − ∇L(θ−εv)) / 2ε with ε = 10⁻³ · max(1, ‖θ‖), two gradients per product. Double backpropagation: ∇(∇L·v), exact where TensorFlow.js can differentiate the graph twice (ReLU layers with a squared error; not tanh, sigmoid or softmax cross-entropy), checked on the first product.',
    default: 'finite-difference',
    options: ['finite-difference', 'double-backprop'] as const,
    optionLabels: { 'finite-difference': 'Finite difference', 'double-backprop': 'Double backpropagation' },
  }),
};

const data = z.strictObject({
  /** The eigenvalues found, largest first (the order of the power iterations). */
  eigenvalues: z.array(z.number()).min(1).max(10),
  /** Hessian-vector products each took. */
  iterations: z.array(z.number().int().min(0)).max(10),
  /** Whether each met the tolerance before the iteration limit. */
  converged: z.array(z.boolean()).max(10),
  /** The loss at the weights, over the same examples. */
  loss: z.number(),
  samples: z.number().int().min(1),
  /** Number of weights the Hessian is taken over. */
  parameters: z.number().int().min(0),
});

export type SharpnessData = z.infer<typeof data>;

/** The data loss at `weights` (trainable, in program order) over a set, in inference mode. Sync: call inside a tidy or gradient function. */
function lossAt(trainer: Trainer, set: DeviceSplit, weights: Tensor[]): Tensor {
  return trainer.program.forward({ x: set.x, y: set.y, training: false, seed: () => 0, weights }).dataLoss;
}

/** Σ aᵢ·bᵢ over a list of tensors, as a scalar tensor. */
function dot(tf: TF, a: Tensor[], b: Tensor[]): Tensor {
  return tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i]!))));
}

const notExact = (why: string) =>
  new ExperimentError(`double backpropagation is not exact on this graph in TensorFlow.js (${why}: the second derivatives of tanh, sigmoid, max and softmax cross-entropy are not available there); use the finite-difference product`);

/** Run a product; a kernel TensorFlow.js cannot differentiate twice becomes that advice. */
function secondOrder<T>(method: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    if (method === 'double-backprop' && /gradient function not found|Cannot compute gradient/.test(m)) throw notExact(m.split('\n')[0]!.replace(/\.$/, ''));
    throw e;
  }
}

/** ‖a − b‖ / ‖b‖ over lists of tensors, as a scalar tensor. */
function relativeDifference(tf: TF, a: Tensor[], b: Tensor[]): Tensor {
  const d = a.map((t, i) => tf.sub(t, b[i]!));
  return tf.div(tf.sqrt(dot(tf, d, d)), tf.add(tf.sqrt(dot(tf, b, b)), 1e-12));
}

/** v / (‖v‖ + 1e-6), PyHessian's `normalization`. */
function normalise(tf: TF, v: Tensor[]): Tensor[] {
  const n = tf.add(tf.sqrt(dot(tf, v, v)), 1e-6);
  return v.map((t) => tf.div(t, n));
}

/**
 * Hessian-vector product of the loss at θ with v (lists of tensors in program order).
 * `loss` replaces the inference-mode data loss over `set` (the BatchNorm experiment
 * differentiates the training-mode loss, with batch statistics). Sync: call inside tf.tidy.
 */
export function hessianVectorProduct(
  tf: TF,
  trainer: Trainer,
  set: DeviceSplit,
  theta: Tensor[],
  v: Tensor[],
  method: 'double-backprop' | 'finite-difference',
  eps = 1e-3,
  loss: (weights: Tensor[]) => Tensor = (ws) => lossAt(trainer, set, ws),
): Tensor[] {
  // tf.grads refuses a weight with no path to its output (a ReLU's derivative is a step, whose
  // own derivative is no path at all); 0 · Σw ties every weight in and adds nothing.
  const connected = (ws: Tensor[], y: Tensor) => tf.add(y, tf.mul(tf.addN(ws.map((w) => tf.sum(w))), 0));
  const gradAt = (w: Tensor[]) => tf.grads((...ws: Tensor[]) => connected(ws, loss(ws)))(w);
  if (method === 'double-backprop') {
    // ∇θ (∇θ L · v): v is held constant, so the outer gradient is H v.
    return tf.grads((...ws: Tensor[]) => connected(ws, dot(tf, gradAt(ws), v)))(theta);
  }
  const plus = gradAt(theta.map((t, i) => tf.add(t, tf.mul(v[i]!, eps))));
  const minus = gradAt(theta.map((t, i) => tf.sub(t, tf.mul(v[i]!, eps))));
  return plus.map((g, i) => tf.div(tf.sub(g, minus[i]!), 2 * eps));
}

/**
 * The `top` largest eigenvalues of the Hessian of the loss at θ over a set, by PyHessian's
 * power iteration (see the top of this file). Progress after every product; `partial` after
 * every eigenvalue found.
 */
export async function hessianEigenvalues(
  ctx: ExperimentContext,
  trainer: Trainer,
  set: DeviceSplit,
  theta: Tensor[],
  vectorRng: Rng,
  s: { top: number; maxIterations: number; tolerance: number; method: 'double-backprop' | 'finite-difference' },
  progress: (done: number, total: number, partial?: { eigenvalues: number[]; iterations: number[]; converged: boolean[]; loss: number }) => void,
): Promise<{ eigenvalues: number[]; iterations: number[]; converged: boolean[]; loss: number }> {
  const tf = ctx.tf;
  const found: Tensor[][] = [];
  const eigenvalues: number[] = [];
  const iterations: number[] = [];
  const converged: boolean[] = [];
  const total = s.top * s.maxIterations;
  /** The power iteration's vector now (disposed at the end, whatever happens). */
  let v: Tensor[] = [];
  try {
    const lossAndNorm = tf.tidy(() => tf.stack([lossAt(trainer, set, theta), tf.sqrt(dot(tf, theta, theta))]));
    const [loss, thetaNorm] = Array.from(await lossAndNorm.data());
    lossAndNorm.dispose();
    // ε relative to the size of θ keeps the difference above float32 rounding and inside the
    // region where the gradient is close to linear (v has unit norm).
    const eps = 1e-3 * Math.max(1, thetaNorm!);
    for (let k = 0; k < s.top; k++) {
      // A Gaussian start drawn on the host with the seeded generator (the same on every backend).
      v = tf.tidy(() => normalise(tf, theta.map((t) => tf.tensor(Float32Array.from({ length: t.size }, () => vectorRng.normal()), t.shape, 'float32'))));
      let estimate: number | null = null;
      let steps = 0;
      let met = false;
      for (let i = 0; i < s.maxIterations; i++) {
        await ctx.checkpoint();
        const [next, rayleigh] = secondOrder(s.method, () => tf.tidy(() => {
          // PyHessian's orthnormal: remove the components along the eigenvectors found, then normalise.
          let w = v;
          for (const e of found) {
            const c = dot(tf, w, e);
            w = w.map((t, j) => tf.sub(t, tf.mul(e[j]!, c)));
          }
          w = normalise(tf, w);
          const hv = hessianVectorProduct(tf, trainer, set, theta, w, s.method, eps);
          // The first double-backprop product is checked against the finite difference (see above).
          const check = s.method === 'double-backprop' && k === 0 && i === 0 ? relativeDifference(tf, hv, hessianVectorProduct(tf, trainer, set, theta, w, 'finite-difference', eps)) : tf.scalar(0);
          return [normalise(tf, hv), tf.stack([dot(tf, hv, w), check])] as const;
        }));
        const [value, mismatch] = Array.from(await rayleigh.data()) as [number, number];
        rayleigh.dispose();
        for (const t of v) t.dispose();
        v = [...next];
        if (mismatch > 0.05) throw notExact(`it differs from the finite difference by ${(mismatch * 100).toFixed(0)}%`);
        steps++;
        if (!Number.isFinite(value)) throw new Error(`a Hessian-vector product gave ${value}: the loss is not twice differentiable here or overflows`);
        const prev: number | null = estimate;
        estimate = value;
        progress(k * s.maxIterations + steps, total);
        if (prev !== null && Math.abs(prev - value) / (Math.abs(prev) + 1e-6) < s.tolerance) {
          met = true;
          break;
        }
      }
      found.push(v);
      v = [];
      eigenvalues.push(estimate!);
      iterations.push(steps);
      converged.push(met);
      progress((k + 1) * s.maxIterations, total, { eigenvalues: [...eigenvalues], iterations: [...iterations], converged: [...converged], loss: loss! });
    }
    return { eigenvalues, iterations, converged, loss: loss! };
  } finally {
    for (const t of [...found.flat(), ...v]) t.dispose();
  }
}

export const sharpness = defineExperiment({
  name: 'sharpness',
  title: 'Sharpness (λmax)',
  summary: 'The largest eigenvalues of the Hessian of the training loss at the weights, by power iteration on Hessian-vector products (PyHessian).',
  settings,
  dataVersion: 1,
  data,
  check: () => null,
  async run(ctx, s) {
    const tf = ctx.tf;
    const trainer = ctx.trainer();
    const root = createRng(ctx.seed);
    const vectorRng = root.fork();
    const set = trainer.evaluationSet(s.samples, root.int(2 ** 31 - 1), 'train');
    const theta = trainer.cloneTrainable();
    try {
      const parameters = theta.reduce((n, t) => n + t.size, 0);
      const found: Pick<SharpnessData, 'eigenvalues' | 'iterations' | 'converged' | 'loss'> = { eigenvalues: [], iterations: [], converged: [], loss: 0 };
      const snapshot = (): SharpnessData => ({ eigenvalues: found.eigenvalues.map(round7), iterations: [...found.iterations], converged: [...found.converged], loss: round7(found.loss), samples: set.n, parameters });
      const r = await hessianEigenvalues(ctx, trainer, set, theta, vectorRng, s, (done, total, partial) => {
        if (partial) Object.assign(found, partial);
        ctx.progress(done, total, partial ? snapshot() : undefined);
      });
      Object.assign(found, r);
      return snapshot();
    } finally {
      for (const t of [set.x, set.y, ...theta]) t.dispose();
    }
  },
  describe(d) {
    return [
      `λmax = ${d.eigenvalues[0]!.toPrecision(5)}${d.eigenvalues.length > 1 ? `; next: ${d.eigenvalues.slice(1).map((e) => e.toPrecision(5)).join(', ')}` : ''}`,
      `${d.iterations.join(', ')} Hessian-vector products${d.converged.every(Boolean) ? '' : ' (some reached the iteration limit before the tolerance)'}; loss ${d.loss.toFixed(4)} over ${d.samples} examples, ${d.parameters} weights`,
    ];
  },
});
