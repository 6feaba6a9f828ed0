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
 * way: only the order of float32 additions inside the kernel may differ. Small products
 * (fewer than 2¹⁷ multiply-adds) keep the flags on WASM too: there the naive loop is quick and
 * every extra kernel call costs more than it saves.
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
/**
 * Below this many multiply-adds (m·k·n) the transposed kernel is as fast as a transpose and a
 * plain product (measured on WASM: 32·32·32 is faster with the flag, 128·64·64 already 3–4×
 * slower), and small layers are dominated by the cost of each extra kernel call.
 */
const EXPLICIT_TRANSPOSE_MIN_MACS = 1 << 17;

/**
 * Whether a transposed product of this size (m·k·n multiply-adds) is computed with an explicit
 * transpose on the current backend (exported for the tests and the profile).
 */
export function usesExplicitTransposes(tf: TF, macs: number): boolean {
  return EXPLICIT_TRANSPOSE_BACKENDS.has(tf.getBackend()) && macs >= EXPLICIT_TRANSPOSE_MIN_MACS;
}

/**
 * The gradient's two products, aᵀ·b (`transposed` = 'a', for a [m, k] and b [m, n]) and a·bᵀ
 * ('b', for a [m, n] and b [k, n]), through the fast kernel on this backend. Where the
 * transposed kernel is slow, either the transposed operand is transposed explicitly, or the
 * product is taken the other way round, (bᵀ·a)ᵀ or (b·aᵀ)ᵀ, which transposes the other operand
 * and the result instead: whichever moves fewer elements.
 */
function matMulTransposed(tf: TF, a: Tensor, b: Tensor, transposed: 'a' | 'b'): Tensor {
  const a2 = a as tfTypes.Tensor2D;
  const b2 = b as tfTypes.Tensor2D;
  const ta = transposed === 'a';
  const inner = a2.shape[ta ? 0 : 1];
  const resultSize = a2.shape[ta ? 1 : 0] * b2.shape[ta ? 1 : 0];
  if (!usesExplicitTransposes(tf, inner * resultSize)) return tf.matMul(a2, b2, ta, !ta);
  const [operand, other] = ta ? [a2, b2] : [b2, a2];
  if (operand.size <= other.size + resultSize) return ta ? tf.matMul(tf.transpose(a2), b2) : tf.matMul(a2, tf.transpose(b2));
  return ta ? tf.transpose(tf.matMul(tf.transpose(b2), a2)) : tf.transpose(tf.matMul(b2, tf.transpose(a2)));
}

/**
 * z = a·b (+ bias) (then ReLU) for 2-D a [m, k] and b [k, n], differentiable w.r.t. a (unless
 * `gradA` is false), b and the bias, with the gradient computed through the backend's fast
 * kernels. Call inside tf.tidy or a gradient function, like any op.
 */
export function matMulFast(tf: TF, a: Tensor, b: Tensor, o: MatMulOptions = {}): Tensor {
  const { bias, activation } = o;
  const gradA = o.gradA ?? true;
  const forward = (x: Tensor, w: Tensor, bi: Tensor | undefined): Tensor => {
    if (!bias && !activation) return tf.matMul(x as tfTypes.Tensor2D, w as tfTypes.Tensor2D);
    // tf.fused.matMul splits into matMul, add and relu whenever a gradient is being recorded
    // (tfjs cannot differentiate its fused ReLU); this op brings its own gradient, so it calls
    // the fused kernel itself: one kernel instead of three. The kernel takes batches of
    // matrices, hence the reshapes (free: they share the data).
    const [m, k] = x.shape as [number, number];
    const n = w.shape[1]!;
    const inputs = { a: tf.reshape(x, [1, m, k]), b: tf.reshape(w, [1, k, n]), ...(bi ? { bias: bi } : {}) };
    const z = tf.engine().runKernel('_FusedMatMul', inputs, { transposeA: false, transposeB: false, activation: activation ?? 'linear', leakyreluAlpha: 0 }) as Tensor;
    return tf.reshape(z, [m, n]);
  };
  // Gradients of the (differentiated) inputs, in their order: [a?], b, [bias?].
  const backward = (dy: Tensor, x: Tensor, w: Tensor, y: Tensor): Tensor[] => {
    const dz = activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
    const grads: Tensor[] = [];
    if (gradA) grads.push(matMulTransposed(tf, dz, w, 'b'));
    grads.push(matMulTransposed(tf, x, dz, 'a'));
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
