/**
 * Evaluation of a program in inference mode: the number of correct predictions of a batch,
 * and the summed loss and correct count over a whole split, as tensors on the device.
 */
import type { Program } from '../compile/program.ts';
import type { Plan } from '../compile/plan.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { DeviceSplit } from './device-data.ts';

/** Rows evaluated per forward pass: bounded, so a large validation set does not allocate at once. */
const EVAL_CHUNK = 512;

/**
 * Number of correct predictions in a batch as a scalar tensor (null unless the task is
 * classification): one output unit is a logit thresholded at 0, several are scores whose
 * argmax is the class.
 */
export function correctCount(tf: TF, task: Plan['task'], pred: Tensor, y: Tensor): Tensor | null {
  if (task !== 'classification') return null;
  const yw = y.shape[y.shape.length - 1]!;
  if (yw === 1) return tf.sum(tf.cast(tf.equal(tf.greater(pred, 0), tf.greater(y, 0.5)), 'float32'));
  return tf.sum(tf.cast(tf.equal(tf.argMax(pred, -1), tf.argMax(y, -1)), 'float32'));
}

/**
 * Sum of losses × batch sizes and number correct (classification; null otherwise) over a
 * split, as scalar tensors the caller disposes, of the given trainable weights (order of
 * `program.trainable`; the current ones when left out).
 */
export function evaluateSums(program: Program, split: DeviceSplit, weights?: Tensor[]): { loss: Tensor; correct: Tensor | null } {
  const tf = program.tf;
  const task = program.plan.task;
  const out = tf.tidy(() => {
    let loss: Tensor = tf.scalar(0);
    let correct: Tensor = tf.scalar(0);
    for (let from = 0; from < split.n; from += EVAL_CHUNK) {
      const m = Math.min(EVAL_CHUNK, split.n - from);
      const x = split.x.slice(from, m);
      const y = split.y.slice(from, m);
      const r = program.forward({ x, y, training: false, seed: () => 0, fuse: true, ...(weights ? { weights } : {}) });
      loss = tf.add(loss, tf.mul(r.dataLoss, m));
      const c = correctCount(tf, task, r.pred, y);
      if (c) correct = tf.add(correct, c);
    }
    return { loss, correct };
  });
  if (task === 'classification') return out;
  out.correct.dispose();
  return { loss: out.loss, correct: null };
}
