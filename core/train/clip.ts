/**
 * Gradient clipping — the lecture's heuristic against cliffs and exploding gradients
 * ("we're interested in gradient direction"): cap how far one step can go.
 */
import type * as tfTypes from '@tensorflow/tfjs';

/** How gradients are clipped before the optimizer sees them. */
export type ClipMode = 'none' | 'norm' | 'value';

/**
 * Clip a set of gradients (one per variable).
 *
 * - `'norm'`: rescale all gradients together by threshold / max(‖g‖, threshold), where ‖g‖ is
 *   the global L2 norm over every element of every gradient. Scaling all of them by the same
 *   factor keeps the overall direction of the step, which per-tensor clipping would not.
 *   Below the threshold the factor is exactly 1. The norm stays on the device (no readback).
 * - `'value'`: clip each element to [−threshold, threshold] (changes the direction).
 * - `'none'`: returns `grads` itself, unchanged.
 *
 * Ownership: in 'norm' and 'value' modes the results are new tensors owned by the caller,
 * and the inputs are left untouched (the caller still disposes them); in 'none' mode the
 * result *is* the input array. Intermediates (the norm) are freed here, but call it inside
 * the training step's `tf.tidy` anyway so that inputs and outputs are cleaned up together.
 *
 * @param tfns the TF.js namespace in use.
 * @param threshold must be > 0 for 'norm' and 'value'.
 */
export function clipGradients(
  tfns: typeof tfTypes,
  grads: tfTypes.Tensor[],
  mode: ClipMode,
  threshold: number,
): tfTypes.Tensor[] {
  if (mode === 'none' || grads.length === 0) return grads;
  if (!(threshold > 0) || !Number.isFinite(threshold)) {
    throw new RangeError(`clipGradients: threshold must be a finite number > 0, got ${threshold}`);
  }
  const tf = tfns;
  return tf.tidy(() => {
    if (mode === 'value') return grads.map((g) => tf.clipByValue(g, -threshold, threshold));
    if (mode !== 'norm') throw new RangeError(`clipGradients: unknown mode "${String(mode)}"`);
    const t = tf.scalar(threshold, 'float32');
    const sumSq = tf.addN(grads.map((g) => tf.sum(tf.square(g))));
    const norm = tf.sqrt(sumSq);
    // threshold / max(norm, threshold): 1 when the norm is within bounds, else threshold/norm.
    const scale = tf.div(t, tf.maximum(norm, t));
    return grads.map((g) => tf.mul(g, scale));
  });
}
