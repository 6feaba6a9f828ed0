/**
 * A compiled program's weights to and from the document's `weights` block: what Save with
 * weights writes and what a continued run or a prediction loads. Loading checks every
 * weight before it changes any, so a stale block never half-loads.
 */
import type { Plan } from '../compile/plan.ts';
import type { Program } from '../compile/program.ts';
import { rowSize } from '../data/dataset.ts';
import type { WeightsBlock } from '../graph/document.ts';
import { decodeFloat32 } from './base64.ts';
import { encodeWeightsBlock, type NodeWeights } from './weights.ts';

/**
 * Read every weight of `program` (running statistics included) into a weights block. Every
 * weight is copied at once, before the first await, so a kernel and its bias come from the
 * same step even while training goes on.
 */
export async function readWeightsBlock(program: Program, meta: Pick<WeightsBlock, 'step' | 'epoch' | 'backend'>): Promise<WeightsBlock> {
  const copies = program.weights.map((w) => ({ w, copy: program.tf.clone(w.variable) }));
  const weights: NodeWeights = {};
  try {
    for (const { w, copy } of copies) {
      (weights[w.nodeId] ??= {})[w.name] = { shape: [...w.variable.shape], values: (await copy.data()) as Float32Array };
    }
  } finally {
    for (const { copy } of copies) copy.dispose();
  }
  return encodeWeightsBlock(weights, meta);
}

/**
 * The values of every weight of `program` (order of `program.weights`) from a saved block.
 * Throws, naming the node, when one is missing, has another shape or is damaged: the graph
 * changed since the weights were saved.
 */
export function weightValuesFor(program: Program, block: WeightsBlock): Float32Array[] {
  const planNodes = new Map(program.plan.nodes.map((n): [string, Plan['nodes'][number]] => [n.id, n]));
  return program.weights.map((w) => {
    const node = planNodes.get(w.nodeId)!;
    // Own entries only: a node called "toString" must not find Object.prototype.toString.
    const forNode = Object.hasOwn(block.tensors, w.nodeId) ? block.tensors[w.nodeId]! : {};
    const stored = Object.hasOwn(forNode, w.name) ? forNode[w.name] : undefined;
    if (!stored) throw new Error(`the saved weights have no ${w.name} for ${node.title} ${node.name}: the graph changed since they were saved; reset the weights to train from scratch`);
    const shape = [...w.variable.shape];
    if (stored.shape.join(',') !== shape.join(',')) {
      throw new Error(`the saved ${w.name} of ${node.title} ${node.name} has shape [${stored.shape.join(', ')}] but the graph needs [${shape.join(', ')}]: the graph changed since the weights were saved`);
    }
    const v = decodeFloat32(stored.data);
    if (!v || v.length !== rowSize(shape)) throw new Error(`the saved ${w.name} of ${node.title} ${node.name} is damaged`);
    return v;
  });
}

/** Load a saved block into `program`'s variables (all or none, see weightValuesFor). */
export function assignWeightsBlock(program: Program, block: WeightsBlock): void {
  const tf = program.tf;
  const values = weightValuesFor(program, block);
  program.weights.forEach((w, i) => {
    const t = tf.tensor(values[i]!, w.variable.shape, 'float32');
    w.variable.assign(t);
    t.dispose(); // the variable keeps its own reference to the data
  });
}
