/**
 * What every model importer (ONNX, TensorFlow.js) does once it knows the nodes: readable
 * unique ids from the other tool's names, edges, weights, an ELK layout, and the document.
 * The importers only translate ops or layers into kinds.
 */
import { analyzeGraph } from '../../graph/analyze.ts';
import { kindDef } from '../../graph/catalogue.ts';
import { APP_VERSION, edgeId, FORMAT_NAME, FORMAT_VERSION, type GraphDocument, type GraphNode } from '../../graph/document.ts';
import { layoutGraph } from '../../graph/layout.ts';
import { defaultParams, type ParamSpecs, type ParamValue } from '../../graph/params.ts';
import type { FloatTensor, Shape } from '../../graph/types.ts';
import { encodeWeightsBlock, type NodeWeights } from '../weights.ts';

/** A model import: the new graph and what the user should know about it, or every reason it cannot be made. */
export type ModelImport = { ok: true; document: GraphDocument; notes: string[] } | { ok: false; errors: string[] };

/** Where a tensor comes from in the graph being built. */
export type Ref = { node: string; port: string };

/** The graph an importer builds, node by node. */
export class GraphAssembly {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphDocument['edges'] = [];
  readonly weights: NodeWeights = {};
  private readonly ids = new Set<string>();

  /** Add a node of `kind` labelled `label` (its id is the label made safe and unique); returns the id. */
  addNode(kind: string, label: string, params: Record<string, ParamValue> = {}): string {
    let base = label.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._-]+|[._-]+$/g, '') || kind;
    if (base.length > 150) base = base.slice(0, 150);
    let id = base;
    for (let i = 2; this.ids.has(id); i++) id = `${base}_${i}`;
    this.ids.add(id);
    const def = kindDef(kind)!;
    this.nodes.push({ id, kind, label: label || kind, params: { ...defaultParams(def.params as ParamSpecs), ...params }, position: { x: 0, y: 0 } });
    return id;
  }

  wire(from: Ref, to: string, port = 'in'): void {
    this.edges.push({ id: edgeId(from.node, from.port, to, port), source: from.node, sourcePort: from.port, target: to, targetPort: port });
  }

  setWeights(id: string, w: Record<string, FloatTensor>): void {
    this.weights[id] = w;
  }

  node(id: string): GraphNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** The per-example shape Gradflow infers for a node's output in the graph so far (null when unknown). */
  shapeOf(ref: Ref): Shape | null {
    // Imported graphs are small (tens of nodes); analysing again per question keeps this exact.
    return analyzeGraph({ nodes: this.nodes, edges: this.edges }).nodes[ref.node]?.outputs[ref.port] ?? null;
  }

  /**
   * Outputs that are only the softmax or sigmoid of another output are the probabilities a
   * loss computes itself (Gradflow's own exports add them): leave them to the loss. Returns
   * a note for each one removed.
   */
  dropProbabilityOutputs(outputs: { name: string; ref: Ref }[]): string[] {
    const notes: string[] = [];
    for (const o of outputs) {
      const node = this.node(o.ref.node);
      const activation = node && kindDef(node.kind)?.activation;
      const feeder = node && this.edges.find((e) => e.target === node.id);
      const scores = feeder && outputs.find((p) => p !== o && p.ref.node === feeder.source);
      if (!node || !activation || !scores) continue;
      this.nodes.splice(this.nodes.indexOf(node), 1);
      this.edges.splice(this.edges.indexOf(feeder), 1);
      notes.push(`the output '${o.name}' is the ${activation} of '${scores.name}': add a ${activation === 'softmax' ? 'Softmax' : 'Binary'} cross-entropy loss, which applies it itself`);
    }
    return notes;
  }

  /**
   * Every weight a node needs, there with the shape the graph gives it (analysis of the new
   * graph), by node and name; an importer reports these instead of a document that would
   * not train.
   */
  weightProblems(): string[] {
    const analysis = analyzeGraph({ nodes: this.nodes, edges: this.edges });
    const problems: string[] = [];
    for (const n of this.nodes) {
      const title = kindDef(n.kind)?.title ?? n.kind;
      for (const spec of analysis.nodes[n.id]?.weights ?? []) {
        const w = this.weights[n.id]?.[spec.name];
        if (!w) problems.push(`${title} '${n.label}' has no ${spec.name} in the model`);
        else if (w.shape.join(',') !== spec.shape.join(',')) problems.push(`the ${spec.name} of ${title} '${n.label}' has shape [${w.shape.join(', ')}] but the graph needs [${spec.shape.join(', ')}]`);
      }
    }
    return problems;
  }

  /** The laid-out document with its weights. `backend` records where the weights came from. */
  async document(name: string, description: string, backend: string): Promise<GraphDocument> {
    const created = new Date();
    const doc: GraphDocument = {
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      metadata: { name, description, created: created.toISOString(), modified: created.toISOString(), appVersion: APP_VERSION },
      nodes: this.nodes,
      edges: this.edges,
      weights: encodeWeightsBlock(this.weights, { step: 0, epoch: 0, backend }, created),
    };
    const positions = await layoutGraph(doc);
    for (const n of this.nodes) n.position = positions.get(n.id) ?? n.position;
    return doc;
  }
}
