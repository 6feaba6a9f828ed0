/**
 * Training faults: a loss or weight that became NaN or Infinity (found on the device and
 * traced to the first node that holds it), and a kernel the backend lacks. Each becomes a
 * message a student can act on instead of a crash or a silent NaN curve.
 */
import type { Program } from '../compile/program.ts';
import type { Tensor } from '../graph/types.ts';
import type { DeviceSplit } from './device-data.ts';

/** Why a run stopped before its end: where, and what to try. */
export interface Fault {
  step: number;
  epoch: number;
  nodeId: string | null;
  message: string;
}

/** Rows of the training split run forward to find the first non-finite output. */
const LOCATE_ROWS = 256;

/**
 * The fault for a non-finite `value` in the loss (or in the weights) at `step`, where
 * `where` is what locateNonFinite found. The weights are restored by the caller.
 */
export function nonFiniteFault(step: number, stepsPerEpoch: number, value: number, in_: 'loss' | 'weights', where: { nodeId: string; what: string } | null): Fault {
  const what = Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const epoch = Math.floor((step - 1) / stepsPerEpoch) + 1;
  const message =
    (in_ === 'loss' ? `the loss became ${what}` : 'the weights became NaN or Infinity') +
    ` at step ${step} (epoch ${epoch})` +
    (where ? `; the first non-finite values are in ${where.what}` : '') +
    '. The weights were restored to the last good step. Try a smaller learning rate, gradient clipping, or BatchNorm';
  return { step, epoch, nodeId: where?.nodeId ?? null, message };
}

/**
 * A kernel missing on the backend (TensorFlow.js throws "Kernel 'X' not registered")
 * becomes a clear fault at `step` of `epoch` instead of a crash; other errors are not ours
 * to translate (null).
 */
export function kernelFault(e: unknown, step: number, epoch: number): Fault | null {
  const m = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(e instanceof Error ? e.message : String(e));
  if (!m) return null;
  return {
    step,
    epoch,
    nodeId: null,
    message: `the operation ${m[1]} is not available on the ${m[2]} backend, so this graph cannot train there: choose another backend`,
  };
}

/** Find the first node, in graph order, whose weights or outputs (on the first rows of `train`) hold NaN or Infinity. */
export async function locateNonFinite(program: Program, train: DeviceSplit): Promise<{ nodeId: string; what: string } | null> {
  const { tf, plan } = program;
  for (const node of plan.nodes) {
    for (const w of program.weights.filter((w) => w.nodeId === node.id)) {
      const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(w.variable))));
      const isBad = (await bad.data())[0] === 1;
      bad.dispose();
      if (isBad) return { nodeId: node.id, what: `the ${w.name} of ${node.title} ${node.name}` };
    }
  }
  const n = Math.min(train.n, LOCATE_ROWS);
  const flags = tf.tidy(() => {
    const r = program.forward({ x: train.x.slice(0, n), y: train.y.slice(0, n), training: false, seed: () => 0 });
    return tf.stack(
      plan.nodes.map((node): Tensor => {
        const outs = Object.values(r.outputs.get(node.id) ?? {});
        return outs.length ? tf.any(tf.logicalNot(tf.isFinite(tf.concat(outs.map((o) => tf.reshape(o, [-1])))))).toFloat() : tf.scalar(0);
      }),
    );
  });
  const v = await flags.data();
  flags.dispose();
  const i = Array.from(v).findIndex((x) => x === 1);
  if (i < 0) return null;
  const node = plan.nodes[i]!;
  return { nodeId: node.id, what: `the output of ${node.title} ${node.name}` };
}
