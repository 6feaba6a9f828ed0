/**
 * PyTorch project export: model.py (an nn.Module with one attribute per canvas node, each
 * written by its kind's `torch` hook), train.py (the graph's whole training: its optimizer's
 * and penalties' own Python from their kinds (`optimizer.torch`, `torchPenalty`), Gradflow's
 * schedule, clipping and early stopping; DistributedDataParallel under torchrun),
 * weights.npz (initial and trained weights, and the pruning masks that train.py keeps pruned
 * weights at 0 with), data.npz (the train and validation arrays exactly as Gradflow made
 * them, and the batch order of every epoch) and a README. Pure PyTorch + NumPy, for torch 1.13 and 2.x.
 */
import { compilePlan, type Plan } from '../../compile/plan.ts';
import { epochBatches } from '../../data/dataset.ts';
import { buildData } from '../../data/sources.ts';
import type { Dataset } from '../../data/types.ts';
import { kindDef } from '../../graph/catalogue.ts';
import { APP_VERSION, displayName, type GraphDocument } from '../../graph/document.ts';
import { torchImage } from '../../graph/kinds/util.ts';
import type { AnyKindDef, OutputActivation, TorchModule } from '../../graph/types.ts';
import { readStoredMask } from '../masks.ts';
import { encodeNpz, type NpyArray } from '../npz.ts';
import { initialWeights, runStreams, type NodeWeights } from '../weights.ts';
import type { ExportFile, ExportOptions } from './index.ts';
import { inferenceGraph, type InferenceGraph } from './inference.ts';
import { unsupportedKinds, type ExportResult } from './onnx.ts';
import { indent, pyDocText, trainPy } from './pytorch-train.ts';

// Attributes and methods of torch.nn.Module (1.13 and 2.x) and names model.py uses itself:
// a node may not shadow them.
const RESERVED = new Set(
  (
    'T_destination add_module apply bfloat16 buffers children compile cpu cuda double dump_patches eval extra_repr float forward ' +
    'get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children ' +
    'named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook ' +
    'register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook ' +
    'register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state ' +
    'set_submodule share_memory smart_apply state_dict to to_empty train training type xpu zero_grad ' +
    'x y self torch nn np targets loss_fn probabilities GradflowModel ' +
    'False None True and as assert async await break class continue def del elif else except finally for from global if import in ' +
    'is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

/**
 * The Python attribute of each node in model.py: its canvas label made an identifier
 * (unique, never shadowing nn.Module). weights.npz and `train.py --save` name weights
 * `attribute.weight`; import-weights maps them back with the same function.
 */
export function torchAttributes(doc: Pick<GraphDocument, 'nodes'>): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const n of doc.nodes) {
    let base = (n.label || n.id).trim().replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'node';
    if (/^[0-9]/.test(base)) base = `n_${base}`;
    if (RESERVED.has(base)) base = `${base}_`;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    out.set(n.id, name);
  }
  return out;
}

function moduleOf(def: AnyKindDef, ctx: Parameters<NonNullable<AnyKindDef['torch']>>[0], classes: Map<string, string>): TorchModule {
  const m = def.torch!(ctx);
  for (const [name, src] of Object.entries(m.classes ?? {})) if (!classes.has(name)) classes.set(name, src);
  return m;
}

/**
 * The optimizer and penalty nodes whose kinds have no Python form (an optimizer rule without
 * `torch`, a penalty without `torchPenalty`), each named: train.py runs the kinds' own Python.
 */
function trainingWithoutPython(doc: GraphDocument, plan: Plan): string[] {
  const optimizerDef = kindDef(plan.training.optimizer.kind)!;
  const nodes = [
    ...doc.nodes.filter((n) => n.kind === optimizerDef.kind && !optimizerDef.optimizer?.torch).map((n) => ({ def: optimizerDef, id: n.id })),
    ...plan.training.penalties.filter((p) => p.def.torchPenalty === undefined).map((p) => ({ def: p.def, id: p.nodeId })),
  ];
  return nodes.map(({ def, id }) => `${def.title} ${displayName(doc.nodes.find((n) => n.id === id)!)} cannot be exported to PyTorch: the ${def.title} kind has no PyTorch form`);
}

/** model.py for the inference graph, the target path and the loss. */
function modelPy(doc: GraphDocument, g: InferenceGraph, plan: Plan, attrs: Map<string, string>): { text: string } | { errors: string[] } {
  const targetNodes = plan.nodes.filter((n) => n.onTargetPath);
  const lossNode = plan.nodes.find((n) => n.id === plan.loss.id)!;
  const errors = [
    ...unsupportedKinds(g.nodes, (n) => !!n.def.torch, 'PyTorch', 'has no PyTorch form'),
    ...targetNodes.filter((n) => !n.def.torch).map((n) => `${n.title} '${n.name}' cannot be exported to PyTorch: the ${n.title} kind has no PyTorch form`),
    ...(lossNode.def.torch ? [] : [`${lossNode.title} ${lossNode.name} cannot be exported to PyTorch: the kind has no PyTorch form`]),
  ];
  if (errors.length) return { errors };
  const classes = new Map<string, string>();
  const init: string[] = [];
  const forward: string[] = [];
  const varOf = new Map<string, string>([[`${g.input.source}\u0000${g.input.sourcePort}`, 'x']]);
  // model.py holds images NCHW, as PyTorch's convolutions take them: an image input is
  // permuted once here, and an image output back to Gradflow's channels-last at the end.
  if (torchImage(g.input.shape)) forward.push('x = x.permute(0, 3, 1, 2)');
  for (const n of g.nodes) {
    const attr = attrs.get(n.id)!;
    const m = moduleOf(n.def, { params: n.params, inputShapes: n.inputShapes, outputShapes: n.outputShapes, dropConnectRate: n.dropConnectRate }, classes);
    init.push(`self.${attr} = ${m.module}  # ${n.def.title} '${n.label}'`);
    const args = Object.values(n.inputs).flat().map((r) => varOf.get(`${r.source}\u0000${r.sourcePort}`)!);
    forward.push(`${attr} = self.${attr}(${args.join(', ')})`);
    for (const p of n.def.outputs) varOf.set(`${n.id}\u0000${p.name}`, attr);
  }
  const out = g.outputs[0]!;
  const result = varOf.get(`${out.source}\u0000${out.sourcePort}`)!;
  const outShape = g.nodes.find((n) => n.id === out.source)?.outputShapes[out.sourcePort] ?? g.input.shape;
  forward.push(`return ${torchImage(outShape) ? `${result}.permute(0, 2, 3, 1)` : result}`);
  const targets: string[] = [];
  for (const n of targetNodes) {
    const attr = attrs.get(n.id)!;
    const m = moduleOf(n.def, { params: n.params, inputShapes: n.inputShapes, outputShapes: n.outputShapes, dropConnectRate: 0 }, classes);
    init.push(`self.${attr} = ${m.module}  # ${n.title} ${n.name}`);
    targets.push(`y = self.${attr}(y)`);
  }
  const lossAttr = attrs.get(lossNode.id)!;
  const lm = moduleOf(lossNode.def, { params: lossNode.params, inputShapes: lossNode.inputShapes, outputShapes: {}, dropConnectRate: 0 }, classes);
  init.push(`self.${lossAttr} = ${lm.module}  # ${lossNode.title} ${lossNode.name}`);
  const text = `"""${g.name}: the model, exported from Gradflow ${APP_VERSION}.

One attribute per canvas node, named after its label. Weights keep Gradflow's names and
layouts (a Dense kernel is [fan_in, units]), so weights.npz loads with load_state_dict and
\`train.py --save\` writes weights that \`gradflow import-weights\` reads back.
"""
import torch
import torch.nn as nn


${[...classes.values()].join('\n\n\n')}


class GradflowModel(nn.Module):
    """${doc.metadata.description ? pyDocText(doc.metadata.description) : g.name}"""

    #: Shape of one example (without the batch dimension) and the task.
    input_shape = ${JSON.stringify(g.input.shape).replace(/\[/g, '(').replace(/\]/g, g.input.shape.length === 1 ? ',)' : ')')}
    task = ${JSON.stringify(plan.task)}

    def __init__(self):
        super().__init__()
${indent(init.join('\n'), '        ')}

    def forward(self, x):
        """The network's output (scores before ${outputActivationWords(kindDef(plan.loss.kind)?.appliesActivation)})."""
${indent(forward.join('\n'), '        ')}

    def targets(self, y):
        """The training targets after the target path (label smoothing, label noise)."""
${indent([...targets, 'return y'].join('\n'), '        ')}

    def loss_fn(self, pred, target):
        """${lossNode.title}."""
        return self.${lossAttr}(pred, target)
`;
  return { text };
}

/** The train and validation arrays, as Gradflow builds them for this graph. */
function datasetOf(plan: Plan, o: ExportOptions): Dataset {
  return buildData({ kind: plan.dataset.kind, params: plan.dataset.params }, o.mnist ? { mnist: o.mnist } : {});
}

/** Every epoch's permutation of the training rows, drawn from the Trainer's batch stream. */
function batchOrder(plan: Plan, nTrain: number): Int32Array {
  const rng = runStreams(plan.dataset.params.seed).batches;
  const epochs = plan.training.epochs;
  const out = new Int32Array(epochs * nTrain);
  for (let e = 0; e < epochs; e++) out.set(epochBatches({ x: new Float32Array(0), y: new Float32Array(0), n: nTrain }, plan.training.batchSize, rng).order, e * nTrain);
  return out;
}

function weightArrays(prefix: string, weights: NodeWeights, plan: Plan, attrs: Map<string, string>): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const n of plan.nodes) {
    for (const spec of n.weights) {
      const w = weights[n.id]?.[spec.name];
      if (!w) throw new Error(`the weights have no ${spec.name} for ${n.title} ${n.name}`);
      if (w.shape.join(',') !== spec.shape.join(',')) throw new Error(`the ${spec.name} of ${n.title} ${n.name} has shape [${w.shape.join(', ')}] but the graph needs [${spec.shape.join(', ')}]`);
      out[`${prefix}${attrs.get(n.id)}.${spec.name}`] = { dtype: 'float32', shape: w.shape, data: w.values };
    }
  }
  return out;
}

/**
 * The graph's pruning masks as `mask/attribute.weight` float32 0/1 arrays (train.py keeps
 * the pruned weights at exactly zero); a mask whose shape is not the weight's is an error.
 */
function maskArrays(doc: GraphDocument, plan: Plan, attrs: Map<string, string>): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const n of plan.nodes) {
    for (const spec of n.weights) {
      const stored = doc.masks?.[n.id]?.[spec.name];
      if (!stored) continue;
      const read = readStoredMask(stored);
      if (!read.ok) throw new Error(`the mask of the ${spec.name} of ${n.title} ${n.name}: ${read.problem}`);
      if (read.mask.shape.join(',') !== spec.shape.join(',')) throw new Error(`the mask of the ${spec.name} of ${n.title} ${n.name} has shape [${read.mask.shape.join(', ')}] but the weight has [${spec.shape.join(', ')}]`);
      out[`mask/${attrs.get(n.id)}.${spec.name}`] = { dtype: 'float32', shape: read.mask.shape, data: Float32Array.from(read.mask.bits) };
    }
  }
  return out;
}

/** The settings train.py reads: everything about the graph's training. */
function trainConfig(doc: GraphDocument, plan: Plan, attrs: Map<string, string>, nTrain: number, trained: boolean) {
  const t = plan.training;
  const weightRef = (nodeId: string, name: string) => `${attrs.get(nodeId)}.${name}`;
  const trainable = plan.nodes.flatMap((n) => n.weights.filter((w) => w.trainable).map((w) => ({ name: weightRef(n.id, w.name), penalized: w.penalized })));
  return {
    name: doc.metadata.name,
    gradflow: APP_VERSION,
    seed: plan.dataset.params.seed,
    task: plan.task,
    classes: plan.dataset.info.classes ?? null,
    epochs: t.epochs,
    batchSize: t.batchSize,
    stepsPerEpoch: t.batchSize === 0 ? 1 : Math.ceil(nTrain / t.batchSize),
    optimizer: t.optimizer,
    schedule: t.schedule,
    clip: t.clip,
    // Each penalty's kind (train.py's PENALTY_TERMS, from the kinds' torchPenalty) and its params.
    penalties: t.penalties.map((p) => ({ kind: p.kind, params: p.params })),
    earlyStopping: t.earlyStopping ? { patience: t.earlyStopping.patience, minDelta: t.earlyStopping.minDelta, restoreBest: t.earlyStopping.restoreBest } : null,
    // In Gradflow's order: the optimizer's variables, and which of them L1/L2 count.
    trainable: trainable.map((w) => w.name),
    penalized: trainable.filter((w) => w.penalized).map((w) => w.name),
    trained,
  };
}

function readme(doc: GraphDocument, plan: Plan, trained: boolean, ds: Dataset): string {
  const t = plan.training;
  return `# ${doc.metadata.name} — PyTorch project exported from Gradflow ${APP_VERSION}

${doc.metadata.description}

Files:

- \`model.py\`: the network as an \`nn.Module\`, one attribute per canvas node.
- \`train.py\`: the graph's training as Gradflow does it: ${kindDef(t.optimizer.kind)!.title} with Gradflow's update
  rule, the ${t.schedule.schedule} schedule from λ0 = ${t.schedule.learningRate}, ${t.epochs} epochs of batches of
  ${t.batchSize === 0 ? 'the whole training set' : t.batchSize}${t.clip.mode !== 'none' ? `, gradient clipping by ${t.clip.mode} at ${t.clip.threshold}` : ''}${t.penalties.length ? `, ${t.penalties.map((p) => `${p.def.title} ${settingsWords(p.def, p.params)}`).join(', ')}` : ''}${t.earlyStopping ? `, early stopping with patience ${t.earlyStopping.patience}` : ''}.
- \`weights.npz\`: \`initial/…\` the weights Gradflow starts from${trained ? '; `trained/…` the trained weights from the graph file' : ' (the graph was not trained)'}${doc.masks && Object.keys(doc.masks).length ? '; `mask/…` the pruning masks (1 keeps a weight, 0 prunes it): train.py masks the gradients and the weights after every step, so pruned weights stay exactly 0' : ''}.
- \`data.npz\`: \`x_train\`, \`y_train\` (${ds.train.n} rows), \`x_val\`, \`y_val\` (${ds.val.n} rows), exactly as Gradflow made them, and
  \`order\`: the permutation of the training rows for each of the ${t.epochs} epochs (Gradflow's seeded batch order).

Requires Python 3 with PyTorch (1.13 or 2.x) and NumPy.

\`\`\`sh
python train.py --evaluate          # validation loss and accuracy of the ${trained ? 'trained' : 'initial'} weights
python train.py                     # train from the initial weights, as Gradflow would
python train.py --save trained.npz  # ... and write the trained weights
torchrun --standalone --nproc_per_node=2 train.py --save trained.npz   # DistributedDataParallel
gradflow import-weights GRAPH.nngraph trained.npz   # bring them back into the graph
\`\`\`

Options: \`--epochs N\`, \`--steps N\` (stop after N optimizer steps), \`--from-trained\` (continue
from the trained weights), \`--out run.json\` (per-step losses and per-epoch metrics),
\`--device cpu|cuda\`.

From the same initial weights and batch order, a graph without random nodes (Dropout,
DropConnect, Gaussian noise, label noise) follows Gradflow's per-step loss curve to float32
rounding. Random nodes draw from PyTorch's generator (seeded from the graph's seed), so
their masks differ from Gradflow's. Under torchrun every batch is split across the
processes (gradients are averaged, so the update is the same); BatchNorm uses each
process's share of the batch for its statistics. Past the ${t.epochs} epochs in \`order\`,
epochs are shuffled with NumPy's generator.
`;
}

/**
 * Export the project's files, or every reason it cannot be: each node whose kind has no
 * PyTorch form (a layer without `torch`, an optimizer without `optimizer.torch`, a penalty
 * without `torchPenalty`) is named.
 */
export async function exportPytorch(doc: GraphDocument, o: ExportOptions): Promise<ExportResult<ExportFile[]>> {
  const inf = inferenceGraph(doc);
  if (!inf.ok) return inf;
  const compiled = compilePlan(doc);
  if (!compiled.ok) return { ok: false, errors: ['the graph cannot train, so there is no training to export:', ...compiled.errors] };
  const plan = compiled.plan;
  const attrs = torchAttributes(doc);
  const model = modelPy(doc, inf.graph, plan, attrs);
  const errors = [...('errors' in model ? model.errors : []), ...trainingWithoutPython(doc, plan)];
  if ('errors' in model || errors.length) return { ok: false, errors };
  let ds: Dataset;
  try {
    ds = datasetOf(plan, o);
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] };
  }
  let weightsNpz: Uint8Array;
  try {
    weightsNpz = encodeNpz({
      ...weightArrays('initial/', o.trained ? initialWeights(doc) : o.weights, plan, attrs),
      ...(o.trained ? weightArrays('trained/', o.weights, plan, attrs) : {}),
      ...maskArrays(doc, plan, attrs),
    });
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] };
  }
  const { xShape, yShape } = ds.info;
  const dataNpz = encodeNpz({
    x_train: { dtype: 'float32', shape: [ds.train.n, ...xShape], data: ds.train.x },
    y_train: { dtype: 'float32', shape: [ds.train.n, ...yShape], data: ds.train.y },
    x_val: { dtype: 'float32', shape: [ds.val.n, ...xShape], data: ds.val.x },
    y_val: { dtype: 'float32', shape: [ds.val.n, ...yShape], data: ds.val.y },
    order: { dtype: 'int32', shape: [plan.training.epochs, ds.train.n], data: batchOrder(plan, ds.train.n) },
  });
  const config = trainConfig(doc, plan, attrs, ds.train.n, o.trained);
  const enc = new TextEncoder();
  const train = trainPy({ name: doc.metadata.name, version: APP_VERSION, config, optimizer: kindDef(plan.training.optimizer.kind)!, penalties: plan.training.penalties.map((p) => p.def) });
  const unusedRandom = plan.nodes.filter((n) => kindDef(n.kind)?.random?.(n.params) ?? false);
  const notes = unusedRandom.length
    ? [`${unusedRandom.map((n) => `${kindDef(n.kind)!.title} ${n.name}`).join(', ')} draw${unusedRandom.length === 1 ? 's' : ''} from PyTorch's generator, so its training curve follows Gradflow's in distribution, not step by step`]
    : [];
  return {
    ok: true,
    value: [
      { path: 'model.py', bytes: enc.encode(model.text) },
      { path: 'train.py', bytes: enc.encode(train) },
      { path: 'weights.npz', bytes: weightsNpz },
      { path: 'data.npz', bytes: dataNpz },
      { path: 'README.md', bytes: enc.encode(readme(doc, plan, o.trained, ds)) },
    ],
    notes,
  };
}

/** A node's params as the inspector labels them, e.g. `α = 0.01`. */
function settingsWords(def: AnyKindDef, params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params).map(([name, v]) => `${def.params[name]?.label ?? name} = ${String(v)}`).join(', ');
}

/** What model.py's docstring says the scores come before: the output activation the loss applies. */
function outputActivationWords(a: OutputActivation | undefined): string {
  return a === 'softmax' ? 'softmax' : a === 'sigmoid' ? 'the sigmoid' : 'any output activation';
}
