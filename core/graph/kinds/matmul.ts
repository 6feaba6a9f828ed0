/**
 * The training path of the affine layers (Dense, Maxout, RBF units): x·W (+ b) (then ReLU),
 * with a hand-written gradient that reaches the backend's fast kernels.
 *
 * Why: TensorFlow.js differentiates z = x·W with dx = dz·Wᵀ and dW = xᵀ·dz, which it
 * computes as matMul with `transposeB` / `transposeA`. On the WASM backend (4.22) only the
 * plain product runs in XNNPACK; the transposed ones fall back to a loop that is 15–40×
 * slower (128×784·784×256: ~3 ms plain, ~40–60 ms transposed, measured by
 * `gradflow bench --profile`), so the backward pass spent most of every step there. An
 * explicit `transpose` followed by a plain product costs ~20% more than the plain product.
 * On the other backends the transposed kernels are as fast as the plain ones, so there the
 * gradient keeps the flags (no extra transpose pass). The values are the same products either
 * way: only the order of float32 additions inside the kernel may differ.
 *
 * The ReLU, when fused, is differentiated from the output (relu(z) > 0 exactly where z > 0),
 * and the bias gradient is the column sum of dz — the same rules tfjs's fused matMul uses.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { TF, Tensor } from '../types.ts';

export interface MatMulOptions {
  /** Added to every row (length = columns of b). */
  bias?: Tensor;
  /** Applied after the bias, in the same kernel where the backend fuses it. */
  activation?: 'relu';
  /**
   * Whether a gradient must flow back into `a`. False when `a` comes from the data alone
   * (the first layer): the backward pass then skips the product dz·Wᵀ, as tfjs does for
   * inputs that no gradient needs.
   */
  gradA?: boolean;
}

/** Backends whose transposed matMul kernels are slow, so the gradient transposes explicitly. */
const EXPLICIT_TRANSPOSE_BACKENDS: ReadonlySet<string> = new Set(['wasm']);

/** Whether this backend's gradient uses explicit transposes (exported for the tests and the profile). */
export function usesExplicitTransposes(tf: TF): boolean {
  return EXPLICIT_TRANSPOSE_BACKENDS.has(tf.getBackend());
}

/** a·bᵀ, through the fast kernel on this backend. */
function matMulBT(tf: TF, a: Tensor, b: Tensor, explicit: boolean): Tensor {
  const a2 = a as tfTypes.Tensor2D;
  const b2 = b as tfTypes.Tensor2D;
  if (!explicit) return tf.matMul(a2, b2, false, true);
  // Transpose whichever is cheaper: b itself ([k, n]), or a and the result ([m, n] + [m, k]).
  const [m, n] = a2.shape;
  const k = b2.shape[0];
  if (k * n <= m * n + m * k) return tf.matMul(a2, tf.transpose(b2));
  return tf.transpose(tf.matMul(b2, tf.transpose(a2)));
}

/** aᵀ·b, through the fast kernel on this backend. */
function matMulAT(tf: TF, a: Tensor, b: Tensor, explicit: boolean): Tensor {
  const a2 = a as tfTypes.Tensor2D;
  const b2 = b as tfTypes.Tensor2D;
  if (!explicit) return tf.matMul(a2, b2, true, false);
  const [m, k] = a2.shape;
  const n = b2.shape[1];
  if (m * k <= m * n + k * n) return tf.matMul(tf.transpose(a2), b2);
  return tf.transpose(tf.matMul(tf.transpose(b2), a2));
}

/**
 * z = a·b (+ bias) (then ReLU) for 2-D a [m, k] and b [k, n], differentiable w.r.t. a (unless
 * `gradA` is false), b and the bias, with the gradient computed through the backend's fast
 * kernels. Call inside tf.tidy or a gradient function, like any op.
 */
export function matMulFast(tf: TF, a: Tensor, b: Tensor, o: MatMulOptions = {}): Tensor {
  const explicit = usesExplicitTransposes(tf);
  const { bias, activation } = o;
  const gradA = o.gradA ?? true;
  const forward = (x: Tensor, w: Tensor, bi: Tensor | undefined): Tensor =>
    bias || activation
      ? tf.fused.matMul({ a: x as tfTypes.Tensor2D, b: w as tfTypes.Tensor2D, ...(bi ? { bias: bi } : {}), ...(activation ? { activation } : {}) })
      : tf.matMul(x as tfTypes.Tensor2D, w as tfTypes.Tensor2D);
  // Gradients of the (differentiated) inputs, in their order: [a?], b, [bias?].
  const backward = (dy: Tensor, x: Tensor, w: Tensor, y: Tensor): Tensor[] => {
    const dz = activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
    const grads: Tensor[] = [];
    if (gradA) grads.push(matMulBT(tf, dz, w, explicit));
    grads.push(matMulAT(tf, x, dz, explicit));
    if (bias) grads.push(tf.sum(dz, 0));
    return grads;
  };
  // customGrad differentiates only its arguments, so `a` is an argument only when it needs a
  // gradient; otherwise it is captured (and saved for the backward pass, which reads it).
  const inputs = [...(gradA ? [a] : []), b, ...(bias ? [bias] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as (ts: Tensor[]) => void;
    const ts = args.slice(0, -1) as Tensor[];
    const x = gradA ? ts[0]! : a;
    const w = ts[gradA ? 1 : 0]!;
    const bi = bias ? ts[ts.length - 1]! : undefined;
    const y = forward(x, w, bi);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => backward(dy, saved[0]!, saved[1]!, saved[2]!),
    };
  });
  return (op as (...ts: Tensor[]) => Tensor)(...inputs);
}
