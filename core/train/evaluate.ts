/**
 * Evaluation of a program in inference mode: the number of correct predictions of a batch,
 * and the summed loss and correct count over a whole split, as tensors on the device.
 */
import type { Program } from '../compile/program.ts';
import type { Plan } from '../compile/plan.ts';
import type { Tensor, TF } from '../graph/types.ts';
import type { DeviceSplit } from './device-data.ts';

/** Fewest rows per forward pass when a whole split is evaluated. */
const EVAL_CHUNK = 512;
/** Most activations (float32 values, every node's outputs together) one evaluation pass holds by default: 32 MB. */
export const EVALUATION_FLOATS = 2 ** 23;

/**
 * Outputs of some nodes for the rows [from, from + m) of the split being evaluated, by node id
 * and port (see ForwardOptions.given); called inside the evaluation's tidy.
 */
export type GivenOutputs = (from: number, m: number) => ReadonlyMap<string, Record<string, Tensor>>;

/**
 * Rows per forward pass when a whole split is evaluated: as many as keep one pass's
 * activations (every node's output per example) under `floats`, at least EVAL_CHUNK. Large
 * chunks matter: slicing a chunk out of the split is a copy (on WASM a slow one: a third of a
 * landscape point's time on the MNIST MLP), and a split that fits in one is not sliced at all.
 */
export function evaluationRows(plan: Plan, floats: number = EVALUATION_FLOATS): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const perRow = plan.nodes.reduce((a, n) => a + Object.values(n.outputShapes).reduce((b, shape) => b + size(shape), 0), size(plan.dataset.info.xShape));
  return Math.max(EVAL_CHUNK, Math.floor(floats / Math.max(1, perRow)));
}

/** The chunks [from, from + m) a split of n rows is evaluated in, `rows` at a time. */
export function evaluationChunks(n: number, rows: number): { from: number; m: number }[] {
  return Array.from({ length: Math.ceil(n / rows) }, (_, i) => ({ from: i * rows, m: Math.min(rows, n - i * rows) }));
}

/** Call `f` on the chunks of a split (the split itself, unsliced, when it fits in one). Sync: call inside tf.tidy. */
export function forEachChunk(split: DeviceSplit, rows: number, f: (x: Tensor, y: Tensor, from: number, m: number) => void): void {
  if (split.n <= rows) return f(split.x, split.y, 0, split.n);
  for (const { from, m } of evaluationChunks(split.n, rows)) f(split.x.slice(from, m), split.y.slice(from, m), from, m);
}

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
 * `program.trainable`; the current ones when left out), `rows` at a time (evaluationRows).
 * `given` supplies the outputs of some nodes chunk by chunk (experiments' precomputed layers).
 */
export function evaluateSums(program: Program, split: DeviceSplit, weights?: Tensor[], o: { rows?: number; given?: GivenOutputs } = {}): { loss: Tensor; correct: Tensor | null } {
  const tf = program.tf;
  const task = program.plan.task;
  const given = o.given;
  const out = tf.tidy(() => {
    let loss: Tensor = tf.scalar(0);
    let correct: Tensor = tf.scalar(0);
    forEachChunk(split, o.rows ?? evaluationRows(program.plan), (x, y, from, m) => {
      // A tidy per chunk: only the two sums outlive it, so memory stays at one chunk's activations.
      const [l, c] = tf.tidy(() => {
        const r = program.forward({ x, y, training: false, seed: () => 0, fuse: true, ...(weights ? { weights } : {}), ...(given ? { given: given(from, m) } : {}) });
        return [tf.mul(r.dataLoss, m), correctCount(tf, task, r.pred, y) ?? tf.scalar(0)];
      });
      loss = tf.add(loss, l!);
      correct = tf.add(correct, c!);
    });
    return { loss, correct };
  });
  if (task === 'classification') return out;
  out.correct.dispose();
  return { loss: out.loss, correct: null };
}

/**
 * The inference-mode outputs of the given nodes over a whole split (rows in the split's
 * order, by node id and port), with the given trainable weights (the current ones when left
 * out), `rows` at a time. Runs without fusion, so a layer's output is its own, before any
 * activation. Synchronous; the caller disposes the tensors.
 */
export function nodeOutputs(program: Program, split: DeviceSplit, nodeIds: readonly string[], rows: number, weights?: Tensor[]): Map<string, Record<string, Tensor>> {
  const tf = program.tf;
  const parts = new Map<string, Record<string, Tensor[]>>(nodeIds.map((id) => [id, {}]));
  const result = tf.tidy(() => {
    forEachChunk(split, rows, (x, y) => {
      const r = program.forward({ x, y, training: false, seed: () => 0, ...(weights ? { weights } : {}) });
      for (const id of nodeIds) {
        const out = r.outputs.get(id);
        if (!out) throw new Error(`internal: node ${id} has no output`);
        for (const [port, t] of Object.entries(out)) (parts.get(id)![port] ??= []).push(t);
      }
    });
    // Returned as a flat list so tidy keeps exactly these tensors.
    return nodeIds.flatMap((id) => Object.values(parts.get(id)!).map((ts) => (ts.length === 1 ? ts[0]! : tf.concat(ts, 0))));
  });
  const out = new Map<string, Record<string, Tensor>>();
  let k = 0;
  for (const id of nodeIds) {
    const ports: Record<string, Tensor> = {};
    for (const port of Object.keys(parts.get(id)!)) ports[port] = result[k++]!;
    out.set(id, ports);
  }
  return out;
}
