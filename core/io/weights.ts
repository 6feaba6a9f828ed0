/**
 * A graph's weights as plain arrays, by node id and weight name: what the exporters write
 * and the importers read, converted from and to the document's `weights` block.
 */
import { initialValues } from '../compile/init.ts';
import { compilePlan } from '../compile/plan.ts';
import { createRng, type Rng } from '../data/rng.ts';
import { analyzeGraph } from '../graph/analyze.ts';
import type { GraphDocument, WeightsBlock } from '../graph/document.ts';
import { decodeFloat32, encodeFloat32 } from './base64.ts';
import { masksFromBlock } from './masks.ts';

/** One weight tensor: its shape and row-major float32 values. */
export interface WeightArray {
  shape: number[];
  values: Float32Array;
}

/** Weights by node id, then weight name (e.g. fc1 → kernel). */
export type NodeWeights = Record<string, Record<string, WeightArray>>;

/** The tensors of a document's weights block, decoded. Throws naming a damaged tensor. */
export function decodeWeightsBlock(block: WeightsBlock): NodeWeights {
  const out: NodeWeights = {};
  for (const [nodeId, tensors] of Object.entries(block.tensors)) {
    for (const [name, t] of Object.entries(tensors)) {
      const values = decodeFloat32(t.data);
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (!values || values.length !== size) throw new Error(`the stored ${name} of node '${nodeId}' is damaged (expected ${size} values)`);
      (out[nodeId] ??= {})[name] = { shape: [...t.shape], values };
    }
  }
  return out;
}

/** A weights block for the document, from plain arrays. */
export function encodeWeightsBlock(weights: NodeWeights, meta: Pick<WeightsBlock, 'step' | 'epoch' | 'backend'>, savedAt = new Date()): WeightsBlock {
  const tensors: WeightsBlock['tensors'] = {};
  for (const [nodeId, ws] of Object.entries(weights)) {
    for (const [name, w] of Object.entries(ws)) (tensors[nodeId] ??= {})[name] = { shape: [...w.shape], dtype: 'float32', data: encodeFloat32(w.values) };
  }
  return { ...meta, savedAt: savedAt.toISOString(), tensors };
}

/**
 * The Trainer's seeded streams for a run with `seed`, forked in its order: the batch
 * order, then Dropout and noise, then the initial weights.
 */
export function runStreams(seed: number): { batches: Rng; dropout: Rng; weights: Rng } {
  const root = createRng(seed ^ 0x5eed);
  const batches = root.fork();
  const dropout = root.fork();
  return { batches, dropout, weights: root.fork() };
}

/**
 * The weights a fresh run of the graph starts from, without TensorFlow.js: the same
 * seeded streams as the Trainer (root = seed ^ 0x5eed; batches, Dropout, then weights are
 * forked from it) and the same node order, so an export of an untrained graph holds the
 * weights Gradflow would train from. A graph that cannot train (an Input instead of a
 * Dataset) uses seed 1 and the graph's order. tests/unit/export-onnx.test.ts checks this
 * against the Trainer.
 */
export function initialWeights(doc: Pick<GraphDocument, 'nodes' | 'edges'>, seedOverride?: number): NodeWeights {
  const analysis = analyzeGraph(doc);
  const compiled = analysis.canTrain ? compilePlan(doc, analysis) : null;
  const plan = compiled?.ok ? compiled.plan : null;
  const seed = seedOverride ?? (plan ? plan.dataset.params.seed : 1);
  const rng = runStreams(seed).weights;
  const nodes = plan ? plan.nodes.map((n) => ({ id: n.id, weights: n.weights })) : analysis.order.map((id) => ({ id, weights: analysis.nodes[id]!.weights }));
  const out: NodeWeights = {};
  for (const n of nodes) {
    for (const spec of n.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      (out[n.id] ??= {})[spec.name] = { shape: [...spec.shape], values: initialValues(spec.init, size, rng) };
    }
  }
  return out;
}

/**
 * The document's trained weights, or the initial ones when it has none, with its pruning
 * masks applied: a pruned weight is exported as 0 (trained weights already hold exact zeros
 * there; initial ones and weights saved before the mask do not).
 */
export function documentWeights(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'weights' | 'masks'>): { weights: NodeWeights; trained: boolean } {
  const weights = doc.weights ? decodeWeightsBlock(doc.weights) : initialWeights(doc);
  if (doc.masks) {
    const masks = masksFromBlock(doc.masks);
    for (const [nodeId, byName] of Object.entries(masks)) {
      for (const [name, m] of Object.entries(byName)) {
        const w = weights[nodeId]?.[name];
        if (!w) continue;
        if (w.values.length !== m.bits.length) throw new Error(`the pruning mask of the ${name} of node '${nodeId}' has ${m.bits.length} entries but the weight has ${w.values.length}`);
        m.bits.forEach((b, i) => b || (w.values[i] = 0));
      }
    }
  }
  return { weights, trained: !!doc.weights };
}
