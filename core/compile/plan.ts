/**
 * Graph -> plan: everything the program needs, decided without TensorFlow.js. Which nodes
 * run and in what order, which tensors each reads, the weights each owns with their
 * initializers, which edges are instrumented, and the settings of the loss path
 * (penalties, early stopping) and the optimizer. Pure, so it is tested without tf.
 */
import type { DatasetInfo } from '../data/types.ts';
import { analyzeGraph, type Analysis } from '../graph/analyze.ts';
import { dropConnectRateOf, kindDef } from '../graph/catalogue.ts';
import { displayName, type GraphDocument, type GraphEdge } from '../graph/document.ts';
import type { AnyKindDef, AnyParams, FusableActivation, Shape, WeightSpec } from '../graph/types.ts';
import type { ClipMode } from '../train/clip.ts';
import { optimizerSettings, type OptimizerSettings } from '../train/optimizers.ts';
import type { Schedule } from '../train/schedule.ts';

/** Where a node input comes from: another node's output port, through an edge. */
export interface PlanInput {
  edgeId: string;
  source: string;
  sourcePort: string;
}

export interface PlanNode {
  id: string;
  kind: string;
  /** Display name for messages: 'label' or 'id'. */
  name: string;
  title: string;
  def: AnyKindDef;
  params: AnyParams;
  /** Input port -> sources, in edge order. */
  inputs: Record<string, PlanInput[]>;
  inputShapes: Record<string, Shape[]>;
  outputShapes: Record<string, Shape>;
  weights: WeightSpec[];
  /** DropConnect rate masking this node's kernel (0 when no DropConnect feeds it). */
  dropConnectRate: number;
  /** Runs only on the target path (label smoothing/noise): never instrumented, never differentiated. */
  onTargetPath: boolean;
}

export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSettings;
  schedule: { schedule: Schedule; learningRate: number; decayRate: number; decaySteps: number; minLearningRate: number };
  clip: { mode: ClipMode; threshold: number };
  /** Penalty nodes on the loss path (their kinds' `penalty` terms join the objective), from the loss down. */
  penalties: { kind: string; nodeId: string; def: AnyKindDef; params: AnyParams }[];
  earlyStopping: { patience: number; minDelta: number; restoreBest: boolean; nodeId: string } | null;
}

/**
 * The node the data comes from (any data kind; its kind builds the data, see
 * core/data/sources.ts). Its params carry `source` and `samples` as the kind describes them,
 * so that settings and run records describe every dataset the same way; every data kind has
 * `batchSize` and `seed`.
 */
export interface PlanDataset {
  id: string;
  kind: string;
  params: AnyParams & { source: string; samples: number; batchSize: number; seed: number };
  info: DatasetInfo;
}

export interface Plan {
  /** Nodes that compute the loss, in topological order (data nodes excluded). */
  nodes: PlanNode[];
  dataset: PlanDataset;
  loss: { id: string; kind: string; predFrom: PlanInput; targetFrom: PlanInput };
  /** The node whose output is the prediction (what feeds the loss's pred). */
  output: PlanInput;
  /** Tensor edges whose gradient dL/d(activation) is measured: the model's data path. */
  instrumentedEdges: PlanInput[];
  training: TrainingSettings;
  task: DatasetInfo['task'];
  /**
   * Layer -> activation pairs that may run as one fused kernel (Dense then ReLU, the
   * activation being the layer's only consumer), on steps that need no pre-activation.
   */
  fusions: { layer: string; activation: string; edgeId: string; kind: FusableActivation }[];
}

export type PlanResult = { ok: true; plan: Plan; analysis: Analysis } | { ok: false; errors: string[]; analysis: Analysis };

/** Turn a document into a plan, or say why it cannot train. */
export function compilePlan(doc: Pick<GraphDocument, 'nodes' | 'edges'>, analysis: Analysis = analyzeGraph(doc)): PlanResult {
  if (!analysis.canTrain) {
    const errors = analysis.issues.filter((i) => i.severity === 'error').map((i) => i.message);
    return { ok: false, errors: errors.length ? errors : analysis.blockers, analysis };
  }
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const roleOf = (id: string) => kindDef(byId.get(id)!.kind)!.role;
  // Every walk below goes through these maps, built in one pass, so planning stays linear in
  // the size of the graph (a 100,000-node graph plans in well under a second).
  const incoming = new Map<string, PlanInput[]>();
  const incomingPort = new Map<string, Record<string, PlanInput[]>>();
  const outgoing = new Map<string, GraphEdge[]>();
  for (const e of doc.edges) {
    const input = { edgeId: e.id, source: e.source, sourcePort: e.sourcePort };
    (incoming.get(e.target) ?? incoming.set(e.target, []).get(e.target)!).push(input);
    (outgoing.get(e.source) ?? outgoing.set(e.source, []).get(e.source)!).push(e);
    const ports = incomingPort.get(e.target) ?? incomingPort.set(e.target, {}).get(e.target)!;
    (ports[e.targetPort] ??= []).push(input);
  }
  const find = (role: string) => doc.nodes.filter((n) => kindDef(n.kind)?.role === role);
  const datasetNode = find('dataset')[0]!;
  const lossNode = find('loss')[0]!;
  const optimizerNode = find('optimizer')[0]!;

  // The loss path: loss -> penalties / early stopping -> optimizer.
  const penalties: TrainingSettings['penalties'] = [];
  let earlyStopping: TrainingSettings['earlyStopping'] = null;
  let cur = optimizerNode.id;
  const visited = new Set<string>();
  while (cur !== lossNode.id) {
    if (visited.has(cur)) break;
    visited.add(cur);
    const from = incomingPort.get(cur)?.loss?.[0];
    if (!from) break;
    const n = byId.get(from.source)!;
    const def = kindDef(n.kind)!;
    if (def.penalty) penalties.push({ kind: n.kind, nodeId: n.id, def, params: n.params as AnyParams });
    if (def.role === 'earlyStopping') {
      earlyStopping = { patience: n.params.patience as number, minDelta: n.params.minDelta as number, restoreBest: n.params.restoreBest as boolean, nodeId: n.id };
    }
    cur = n.id;
  }
  if (cur !== lossNode.id) {
    return { ok: false, errors: [`the optimizer ${displayName(optimizerNode)} is not wired to the loss ${displayName(lossNode)}`], analysis };
  }

  // Nodes the loss depends on, walking back from it.
  const needed = new Set<string>();
  const stack = [lossNode.id];
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    for (const i of incoming.get(id) ?? []) stack.push(i.source);
  }
  const targetPath = new Set<string>();
  const tstack = (incomingPort.get(lossNode.id)?.target ?? []).map((i) => i.source);
  while (tstack.length) {
    const id = tstack.pop()!;
    if (targetPath.has(id) || roleOf(id) === 'dataset') continue;
    targetPath.add(id);
    for (const i of incoming.get(id) ?? []) tstack.push(i.source);
  }

  const nodes: PlanNode[] = [];
  for (const id of analysis.order) {
    if (!needed.has(id)) continue;
    const n = byId.get(id)!;
    const def = kindDef(n.kind)!;
    if (def.role === 'dataset' || def.role === 'input') continue;
    const a = analysis.nodes[id]!;
    const feeder = incomingPort.get(id)?.in?.[0];
    nodes.push({
      id,
      kind: n.kind,
      name: displayName(n),
      title: def.title,
      def,
      params: n.params as AnyParams,
      inputs: incomingPort.get(id) ?? {},
      inputShapes: a.inputs as Record<string, Shape[]>,
      outputShapes: a.outputs as Record<string, Shape>,
      weights: a.weights,
      dropConnectRate: dropConnectRateOf(def, feeder && byId.get(feeder.source)),
      onTargetPath: targetPath.has(id),
    });
  }

  const lossInputs = incomingPort.get(lossNode.id)!;
  const instrumentedEdges: PlanInput[] = [];
  for (const pn of nodes) {
    if (pn.onTargetPath) continue;
    for (const [port, inputs] of Object.entries(pn.inputs)) {
      if (pn.id === lossNode.id && port !== 'pred') continue;
      for (const i of inputs) if (!targetPath.has(i.source) && (pn.def.inputs.find((p: { name: string }) => p.name === port)?.type ?? 'tensor') === 'tensor') instrumentedEdges.push(i);
    }
  }

  const fusions: Plan['fusions'] = [];
  const planned = new Set(nodes.map((n) => n.id));
  for (const pn of nodes) {
    if (!pn.def.forwardFused) continue;
    const outs = outgoing.get(pn.id) ?? [];
    const next = outs.length === 1 ? byId.get(outs[0]!.target) : undefined;
    const nextDef = next && kindDef(next.kind);
    if (!next || !nextDef?.fusableAs || !planned.has(next.id)) continue;
    if ((incoming.get(next.id) ?? []).length !== 1) continue;
    fusions.push({ layer: pn.id, activation: next.id, edgeId: outs[0]!.id, kind: nextDef.fusableAs });
  }

  const p = optimizerNode.params as Record<string, number | string>;
  const info = analysis.nodes[datasetNode.id]!.dataset!;
  const datasetParams = datasetNode.params as PlanDataset['params'];
  const dataset: PlanDataset = {
    id: datasetNode.id,
    kind: datasetNode.kind,
    params: { ...datasetParams, ...kindDef(datasetNode.kind)!.data!.describe(datasetParams) },
    info,
  };
  return {
    ok: true,
    analysis,
    plan: {
      nodes,
      dataset,
      loss: { id: lossNode.id, kind: lossNode.kind, predFrom: lossInputs.pred![0]!, targetFrom: lossInputs.target![0]! },
      output: lossInputs.pred![0]!,
      instrumentedEdges,
      fusions,
      task: info.task,
      training: {
        epochs: p.epochs as number,
        batchSize: datasetParams.batchSize,
        optimizer: optimizerSettings(optimizerNode.kind, p),
        schedule: {
          schedule: p.schedule as Schedule,
          learningRate: p.learningRate as number,
          decayRate: p.decayRate as number,
          decaySteps: p.decaySteps as number,
          minLearningRate: p.minLearningRate as number,
        },
        clip: { mode: p.clip as ClipMode, threshold: p.clipValue as number },
        penalties,
        earlyStopping,
      },
    },
  };
}
