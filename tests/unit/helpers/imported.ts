/**
 * What a user does with an imported model, shared by the import tests: attach training to it
 * (the Input becomes a Dataset, a loss and an optimizer are wired) and predict with its weights.
 */
import { expect } from 'vitest';
import { loadMnistNode } from '../../../core/data/mnist-node.ts';
import { kindDef } from '../../../core/graph/catalogue.ts';
import { edgeId, type GraphDocument } from '../../../core/graph/document.ts';
import { defaultParams, type ParamSpecs, type ParamValue } from '../../../core/graph/params.ts';
import type { TF } from '../../../core/graph/types.ts';
import { Trainer } from '../../../core/train/trainer.ts';

/**
 * The Input becomes a Dataset (same id, same x port), the model's output feeds a loss with
 * the Dataset's y, and an optimizer takes the loss.
 */
export function attachTraining(doc: GraphDocument, dataset: Record<string, ParamValue>, loss = 'softmaxCrossEntropy'): GraphDocument {
  const input0 = doc.nodes.find((n) => n.kind === 'input')!;
  const shape = input0.params.shape as number[];
  // An image model reads the dataset's rows through a Reshape to the Input's [h, w, c].
  if (shape.length === 3) {
    const reshape = { id: 'to_image', kind: 'reshape', params: { shape }, position: { x: 0, y: 0 } };
    const moved = doc.edges.map((e) => (e.source === input0.id ? { ...e, id: edgeId('to_image', 'out', e.target, e.targetPort), source: 'to_image', sourcePort: 'out' } : e));
    doc = { ...doc, nodes: [...doc.nodes, reshape], edges: [...moved, { id: edgeId(input0.id, 'x', 'to_image', 'in'), source: input0.id, sourcePort: 'x', target: 'to_image', targetPort: 'in' }] };
  }
  const input = doc.nodes.find((n) => n.kind === 'input')!;
  const sinks = doc.nodes.filter((n) => n.kind !== 'input' && !doc.edges.some((e) => e.source === n.id));
  expect(sinks).toHaveLength(1);
  const def = (k: string) => defaultParams(kindDef(k)!.params as ParamSpecs);
  const nodes = doc.nodes.map((n) => (n === input ? { ...n, kind: 'dataset', params: { ...def('dataset'), ...dataset } } : n));
  nodes.push({ id: 'loss', kind: loss, params: def(loss), position: { x: 0, y: 0 } }, { id: 'opt', kind: 'adam', params: def('adam'), position: { x: 0, y: 0 } });
  const edges = [
    ...doc.edges,
    { id: edgeId(sinks[0]!.id, 'out', 'loss', 'pred'), source: sinks[0]!.id, sourcePort: 'out', target: 'loss', targetPort: 'pred' },
    { id: edgeId(input.id, 'y', 'loss', 'target'), source: input.id, sourcePort: 'y', target: 'loss', targetPort: 'target' },
    { id: edgeId('loss', 'loss', 'opt', 'loss'), source: 'loss', sourcePort: 'loss', target: 'opt', targetPort: 'loss' },
  ];
  return { ...doc, nodes, edges };
}

/** Gradflow's predictions for `x` with the document's weights. */
export async function predictWith(tf: TF, doc: GraphDocument, x: Float32Array, n: number): Promise<Float32Array> {
  const mnist = doc.nodes.some((m) => m.params.source === 'mnist') ? await loadMnistNode() : undefined;
  const trainer = Trainer.create(tf, doc, { instrument: false, ...(mnist ? { mnist } : {}) });
  try {
    if (doc.weights) trainer.importWeights(doc.weights);
    return await trainer.predict(x, n);
  } finally {
    trainer.dispose();
  }
}

/** The largest difference, relative to max(1, |expected|). */
export const maxRel = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
};
