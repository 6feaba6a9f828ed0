/**
 * One optimizer step: forward, backward (with zero probes on the instrumented edges, so
 * the gradient through each edge comes from the same pass), clipping, the update, the
 * state variables (BatchNorm's running statistics) and, when asked, the packed
 * instrumentation of the step.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Plan } from '../compile/plan.ts';
import type { Program } from '../compile/program.ts';
import type { Dataset } from '../data/types.ts';
import type { Rng } from '../data/rng.ts';
import type { Tensor, TF } from '../graph/types.ts';
import { clipGradients } from './clip.ts';
import { batchTensors, type Batch, type DeviceSplit } from './device-data.ts';
import { correctCount } from './evaluate.ts';
import { packInstrumentation, type InstrumentLayout, type LayerTensors } from './instrument.ts';
import type { Optimizer } from './optimizers.ts';

/** What a step needs: the compiled program, its optimizer, the data and the Dropout stream. */
export interface StepContext {
  tf: TF;
  plan: Plan;
  program: Program;
  optimizer: Optimizer;
  dataset: Dataset;
  /** The training split on the device (GPU backends gather batches from it). */
  train: DeviceSplit;
  /** Seeds of Dropout, DropConnect and noise, drawn once per random op per step. */
  dropoutRng: Rng;
  instrumentLayout: InstrumentLayout;
}

/** The tensors a step keeps (tf.keep) for the caller, who disposes them. */
export interface StepResult {
  /** The step's data loss. */
  loss: Tensor;
  /** Correct predictions in the batch (classification), else null. */
  correct: Tensor | null;
  /** The packed instrumentation vector (instrument.ts), on instrumented steps. */
  instrumentation?: Tensor;
}

/** Forward, backward and update on one batch. Runs inside tf.tidy; returns kept tensors. */
export function trainStep(c: StepContext, batch: Batch, lr: number, instrument: boolean): StepResult {
  const { tf, plan, program } = c;
  const { x, y } = batchTensors(tf, c.dataset, c.train, batch);
  const n = batch.to - batch.from;
  const vars = program.trainable.map((w) => w.variable);
  const edges = instrument ? plan.instrumentedEdges : [];
  const probes = edges.map((e) => {
    const node = plan.nodes.find((p) => p.id === e.source);
    const shape = node ? node.outputShapes[e.sourcePort]! : plan.dataset.info.xShape;
    return tf.zeros([n, ...shape]);
  });
  const probeMap = new Map(edges.map((e, i) => [e.edgeId, probes[i]!]));
  type Kept = { dataLoss: Tensor; pred: Tensor; state: { variable: tfTypes.Variable; value: Tensor }[]; activations: Map<string, Tensor> };
  const keptBox: { value?: Kept } = {};
  const f = (...args: Tensor[]): Tensor => {
    const r = program.forward({ x, y, training: true, seed: () => c.dropoutRng.int(2 ** 31 - 1), weights: args.slice(0, vars.length), probes: probeMap, fuse: !instrument });
    const activations = new Map<string, Tensor>();
    if (instrument) {
      for (const node of plan.nodes) {
        const out = r.outputs.get(node.id)?.out;
        if (out && node.weights.some((w) => w.trainable)) activations.set(node.id, tf.keep(out));
      }
    }
    keptBox.value = { dataLoss: tf.keep(r.dataLoss), pred: tf.keep(r.pred), state: r.state.map((s) => ({ variable: s.variable, value: tf.keep(s.value) })), activations };
    return r.objective as tfTypes.Scalar;
  };
  const { grads } = tf.valueAndGrads(f)([...vars, ...probes]);
  const k = keptBox.value!;
  const weightGrads = clipGradients(tf, grads.slice(0, vars.length), plan.training.clip.mode, plan.training.clip.threshold);
  const before = instrument ? vars.map((v) => tf.clone(v)) : [];
  c.optimizer.apply(vars, weightGrads, lr);
  for (const s of k.state) {
    s.variable.assign(s.value);
    s.value.dispose();
  }
  const correct = correctCount(tf, plan.task, k.pred, y);
  // The loss kept from inside the gradient function is the step's loss, disposed after it is read back.
  const loss = k.dataLoss;
  let instrumentation: Tensor | undefined;
  if (instrument) {
    const layers = c.instrumentLayout.layers.map((nodeId): LayerTensors => {
      const ws = program.trainable.map((w, i) => ({ w, i })).filter(({ w }) => w.nodeId === nodeId);
      const main = Math.max(0, ws.findIndex(({ w }) => w.penalized));
      return {
        weights: ws.map(({ i }) => vars[i]!),
        before: ws.map(({ i }) => before[i]!),
        grads: ws.map(({ i }) => weightGrads[i]!),
        main,
        activation: k.activations.get(nodeId) ?? null,
      };
    });
    instrumentation = tf.keep(packInstrumentation(tf, c.instrumentLayout, k.dataLoss, grads.slice(vars.length), layers));
  }
  k.pred.dispose();
  for (const a of k.activations.values()) a.dispose();
  return { loss, correct: correct ? tf.keep(correct) : null, ...(instrumentation ? { instrumentation } : {}) };
}
