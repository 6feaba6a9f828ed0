/**
 * The inference graph of a document: the nodes between the model's input (a Dataset's x or
 * an Input) and its output (what feeds the loss's pred, or the ends of the data path when
 * there is no loss), in order, with their shapes and weights. Every exporter walks this.
 */
import { analyzeGraph } from '../../graph/analyze.ts';
import { dropConnectRateOf, kindDef } from '../../graph/catalogue.ts';
import { displayName, type GraphDocument, type GraphNode } from '../../graph/document.ts';
import type { PlanNode } from '../../compile/plan.ts';
import type { AnyParams, Shape } from '../../graph/types.ts';

export interface TensorRef {
  source: string;
  sourcePort: string;
}

/**
 * A node of the model as the exporters see it: the compiler's node (kind, definition, shapes,
 * weights, DropConnect rate) without what only training needs, named by its canvas label.
 */
export interface InferenceNode extends Pick<PlanNode, 'id' | 'kind' | 'def' | 'params' | 'inputShapes' | 'outputShapes' | 'weights' | 'dropConnectRate'> {
  /** The canvas label, or the id when the node has none. */
  label: string;
  inputs: Record<string, TensorRef[]>;
}

export interface InferenceGraph {
  name: string;
  input: TensorRef & { shape: Shape; label: string };
  nodes: InferenceNode[];
  /** The model's output: what feeds the loss's pred (or each end of the data path). */
  outputs: (TensorRef & { label: string })[];
  /** The loss, when there is one: exporters add the output activation it implies. */
  loss: InferenceNode | null;
}

export type InferenceResult = { ok: true; graph: InferenceGraph } | { ok: false; errors: string[] };

const labelOf = (n: GraphNode) => n.label || n.id;

/** Extract the inference graph, or say why the document has none. */
export function inferenceGraph(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'metadata'>): InferenceResult {
  const analysis = analyzeGraph(doc);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const valid = doc.edges.filter((e) => analysis.edges[e.id]?.valid);
  const incoming = new Map<string, Record<string, TensorRef[]>>();
  for (const e of valid) {
    const ports = incoming.get(e.target) ?? incoming.set(e.target, {}).get(e.target)!;
    (ports[e.targetPort] ??= []).push({ source: e.source, sourcePort: e.sourcePort });
  }
  const role = (id: string) => kindDef(byId.get(id)?.kind ?? '')?.role;
  const losses = doc.nodes.filter((n) => kindDef(n.kind)?.role === 'loss');
  let outputs: TensorRef[];
  if (losses.length > 1) return { ok: false, errors: [`the graph has ${losses.length} losses, so its output is ambiguous`] };
  const lossNode = losses[0];
  if (lossNode) {
    const pred = incoming.get(lossNode.id)?.pred ?? [];
    if (pred.length !== 1) return { ok: false, errors: [`the loss ${displayName(lossNode)} has no network output wired into pred`] };
    outputs = pred;
  } else {
    // No loss yet (a sketch or an imported model): the model's outputs are the op nodes
    // whose output goes nowhere.
    const used = new Set(valid.map((e) => `${e.source}\u0000${e.sourcePort}`));
    outputs = doc.nodes
      .filter((n) => role(n.id) === 'op')
      .flatMap((n) => kindDef(n.kind)!.outputs.filter((p) => p.type === 'tensor' && !used.has(`${n.id}\u0000${p.name}`)).map((p) => ({ source: n.id, sourcePort: p.name })));
    if (!outputs.length) return { ok: false, errors: ['the graph has no layers whose output could be the model output'] };
  }

  // Walk back from the outputs to the input.
  const needed = new Set<string>();
  const sources = new Map<string, TensorRef>();
  const stack = outputs.map((o) => o.source);
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    const r = role(id);
    if (r === 'dataset' || r === 'input') continue;
    needed.add(id);
    for (const refs of Object.values(incoming.get(id) ?? {})) {
      for (const ref of refs) {
        const rr = role(ref.source);
        if (rr === 'dataset' || rr === 'input') sources.set(`${ref.source}\u0000${ref.sourcePort}`, ref);
        else stack.push(ref.source);
      }
    }
  }
  const inputs = [...sources.values()];
  if (inputs.length !== 1) {
    return { ok: false, errors: [inputs.length ? `the model reads ${inputs.length} different inputs (${inputs.map((i) => `${labelOf(byId.get(i.source)!)}.${i.sourcePort}`).join(', ')}); export needs one` : 'the model output does not depend on a Dataset or Input'] };
  }
  const input = inputs[0]!;
  if (input.sourcePort !== 'x') return { ok: false, errors: [`the model reads the Dataset's ${input.sourcePort} (the targets): wire x into the network`] };
  const inputShape = analysis.nodes[input.source]?.outputs[input.sourcePort];
  if (!inputShape) return { ok: false, errors: [`the shape of the input ${displayName(byId.get(input.source)!)} is unknown: fix its parameters`] };

  const errors: string[] = [];
  const nodes: InferenceNode[] = [];
  for (const id of analysis.order) {
    if (!needed.has(id)) continue;
    const n = byId.get(id)!;
    const a = analysis.nodes[id]!;
    for (const i of a.issues) if (i.severity === 'error') errors.push(i.message);
    const def = kindDef(n.kind);
    if (!def) continue; // reported as an issue above
    const ins = incoming.get(id) ?? {};
    const feeder = ins.in?.[0];
    nodes.push({
      id,
      kind: n.kind,
      def,
      label: labelOf(n),
      params: n.params as AnyParams,
      inputs: ins,
      inputShapes: a.inputs as Record<string, Shape[]>,
      outputShapes: a.outputs as Record<string, Shape>,
      weights: a.weights,
      dropConnectRate: dropConnectRateOf(def, feeder && byId.get(feeder.source)),
    });
  }
  if (needed.size > nodes.length + errors.length && !errors.length) errors.push('some nodes of the model are caught in a cycle');
  if (errors.length) return { ok: false, errors };
  const lossInference: InferenceNode | null = lossNode
    ? {
        id: lossNode.id,
        kind: lossNode.kind,
        def: kindDef(lossNode.kind)!,
        label: labelOf(lossNode),
        params: lossNode.params as AnyParams,
        inputs: incoming.get(lossNode.id) ?? {},
        inputShapes: analysis.nodes[lossNode.id]!.inputs as Record<string, Shape[]>,
        outputShapes: {},
        weights: [],
        dropConnectRate: 0,
      }
    : null;
  return {
    ok: true,
    graph: {
      name: doc.metadata.name || 'model',
      input: { ...input, shape: inputShape, label: labelOf(byId.get(input.source)!) },
      nodes,
      outputs: outputs.map((o) => ({ ...o, label: labelOf(byId.get(o.source)!) })),
      loss: lossInference,
    },
  };
}
