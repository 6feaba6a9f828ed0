/** Types shared by the document, the catalogue, validation and the compiler. */
import type * as tfTypes from '@tensorflow/tfjs';
import type { MnistData } from '../data/mnist.ts';
import type { Dataset, DatasetInfo } from '../data/types.ts';
import type { ParamSpecs, ParamValue } from './params.ts';

/** Per-sample tensor shape (the batch dimension is implicit), e.g. [784] or [28, 28]. */
export type Shape = number[];

/** What flows along an edge: activations/targets (tensor) or a scalar objective (loss). */
export type PortType = 'tensor' | 'loss';

export interface PortDef {
  name: string;
  label: string;
  type: PortType;
  /** Accepts several edges (Add, Concat). Otherwise at most one edge may enter the port. */
  multiple?: boolean;
  /** May stay unconnected. */
  optional?: boolean;
  help?: string;
}

export type Category =
  | 'Data'
  | 'Layers'
  | 'Activations'
  | 'Regularization'
  | 'Normalization'
  | 'Losses'
  | 'Optimizers';

export const CATEGORIES: readonly Category[] = [
  'Data',
  'Layers',
  'Activations',
  'Regularization',
  'Normalization',
  'Losses',
  'Optimizers',
];

export type Severity = 'error' | 'warning';

/** A problem found in a graph, attached to the node (and port or parameter) that causes it. */
export interface Issue {
  severity: Severity;
  /** Stable machine-readable code, e.g. 'shape/needs-flat'. */
  code: string;
  message: string;
  nodeId?: string;
  port?: string;
  param?: string;
  edgeId?: string;
}

/** Where a tensor's values come from, so labels never leak into the model's inputs. */
export interface TensorOrigin {
  features: boolean;
  targets: boolean;
}

/** What shape inference knows about one input port of a node. */
export interface InputInfo {
  /** Shapes of the tensors wired into this port (several for `multiple` ports); null = unknown. */
  shapes: (Shape | null)[];
}

export interface InferContext<P> {
  params: P;
  /** Input port name -> info. Unconnected ports have empty `shapes`. */
  inputs: Record<string, InputInfo>;
  /** The node's display name, for messages: its label or id, quoted. */
  name: string;
}

export interface InferResult {
  /** Output port name -> shape (null when unknown because of an upstream problem). */
  outputs: Record<string, Shape | null>;
  issues?: LocalIssue[];
  /** Dataset nodes report what their data looks like. */
  dataset?: DatasetInfo;
}

/** An issue as a node kind reports it; validation fills in the node id. */
export interface LocalIssue {
  severity: Severity;
  code: string;
  message: string;
  port?: string;
  param?: string;
}

export interface ParamCount {
  trainable: number;
  nonTrainable: number;
}

/** How a weight tensor starts: the course's initializers. */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'normal'
  | 'glorotNormal'
  | 'glorotUniform'
  | 'heNormal'
  | 'heUniform'
  | 'constant';

export interface InitSpec {
  name: InitializerName;
  /** σ for 'normal', value for 'constant'. */
  value?: number;
  fanIn?: number;
  fanOut?: number;
}

/** A tensor a node owns (weights, biases, BatchNorm running statistics). */
export interface WeightSpec {
  /** Name within the node, e.g. 'kernel', 'bias', 'gamma', 'movingMean'. */
  name: string;
  shape: number[];
  init: InitSpec;
  /** Updated by the optimizer. Running statistics are not. */
  trainable: boolean;
  /** Counted by L1/L2 penalties (weight matrices, not biases or normalization scales). */
  penalized: boolean;
  /**
   * May carry a binary pruning mask (lottery tickets, magnitude pruning): the connection
   * weights of a layer, never its biases or normalization scales. The forward pass then
   * sees m ⊙ W instead of W.
   */
  prunable?: boolean;
}

export type Tensor = tfTypes.Tensor;
export type TF = typeof tfTypes;

/** What a node's forward computation can use. Everything runs inside one tf.tidy. */
export interface ForwardContext<P> {
  tf: TF;
  params: P;
  /** Training (masks, noise, batch statistics) or inference behaviour. */
  training: boolean;
  /** The node's weights by name (as created from its WeightSpecs); a pruned weight arrives as m ⊙ W. */
  weights: Record<string, Tensor>;
  /**
   * The 0/1 pruning masks of this node's prunable weights, by name, when it has any. Most
   * kinds need nothing beyond the masked weight; a kind whose weights enter the computation
   * other than through a product (RBF's ‖x − c‖²) uses the mask to drop the pruned terms.
   */
  masks?: Record<string, Tensor>;
  /** A fresh seed for a random op, drawn from the run's seeded generator. */
  seed(): number;
  /** Write a non-trainable state tensor (BatchNorm's running statistics) after the step. */
  setState(name: string, value: Tensor): void;
  /**
   * DropConnect rate applying to this node's weights (Wan et al. 2013), when a DropConnect
   * node feeds it; 0 otherwise.
   */
  dropConnectRate: number;
  /** Output shapes from inference (per sample). */
  outputShapes: Record<string, Shape>;
  inputShapes: Record<string, Shape[]>;
  /**
   * Whether a gradient must flow back into this input tensor: false for tensors computed from
   * the data alone (no weights, no instrumentation probe on the way), so a layer can skip
   * computing dL/d(input). Absent means true.
   */
  needsGradient?(t: Tensor): boolean;
}

/** The role a kind plays when the compiler walks the graph. */
export type NodeRole =
  | 'dataset'
  | 'input'
  | 'op'
  | 'targets'
  | 'loss'
  | 'penalty'
  | 'earlyStopping'
  | 'optimizer';

/**
 * One node kind, defined once. The palette, the inspector, validation, shape inference,
 * the compiler and the file schema are all derived from this.
 */
export interface NodeKindDef<S extends ParamSpecs = ParamSpecs> {
  kind: string;
  title: string;
  category: Category;
  /** One or two sentences for the palette and the inspector. */
  description: string;
  role: NodeRole;
  inputs: PortDef[];
  outputs: PortDef[];
  params: S;
  /** Output shapes and problems, from params and input shapes. Pure and fast. */
  infer(ctx: InferContext<ParamValues<S>>): InferResult;
  /** Tensors the node owns, from params and (known, valid) input shapes. */
  weights?(params: ParamValues<S>, inputShapes: Record<string, Shape[]>): WeightSpec[];
  /**
   * The node's computation on a batch: inputs by port (several for `multiple` ports),
   * outputs by port. Ops nodes only; losses receive `pred` and `target` and return `loss`.
   */
  forward?(ctx: ForwardContext<ParamValues<S>>, inputs: Record<string, Tensor[]>): Record<string, Tensor>;
  /**
   * The forward computation with an activation fused into it (one kernel instead of two,
   * as tf.layers does). The compiler uses it on steps that do not need the pre-activation.
   */
  forwardFused?(ctx: ForwardContext<ParamValues<S>>, inputs: Record<string, Tensor[]>, activation: FusableActivation): Record<string, Tensor>;
  /** An activation kind that a preceding layer may fuse into its own kernel. */
  fusableAs?: FusableActivation;
  /**
   * Floating-point operations of one example's forward pass (a multiply-add counts 2), given
   * how many entries of each weight are non-zero (all of them when dense, fewer when pruned).
   * Weighted layers define it; 'what pruning saves' sums it over the graph.
   */
  flops?(params: ParamValues<S>, inputShapes: Record<string, Shape[]>, outputShapes: Record<string, Shape>, nonZero: Record<string, number>): number;
  /**
   * The node's inference form as standard ONNX ops (opset 17): emits nodes through the
   * context and returns the output tensor names by port. Losses return extra model outputs
   * (the probabilities their activation gives). A kind without it cannot be exported to ONNX.
   */
  onnx?(ctx: OnnxContext<ParamValues<S>>): Record<string, string>;
  /**
   * Whether the node draws random numbers in training with these params (Dropout's masks,
   * noise): an exported training script draws them from another generator, so such a graph
   * follows Gradflow's curve in distribution, not step by step, and the export says so.
   */
  random?(params: ParamValues<S>): boolean;
  /** Layers whose weights a DropConnect node may mask (validation checks what a DropConnect feeds). */
  acceptsDropConnect?: boolean;
  /**
   * In inference the output is a linear function of the node's weights taken together (for
   * fixed inputs): x·W + b, a convolution plus its bias, with DropConnect's mean kernel p·W
   * and a pruning mask m ⊙ W linear too. Experiments that evaluate many points θ + Σ cᵢ dᵢ of
   * weight space then compute such a layer fed by the data alone once per direction:
   * out(θ + Σ cᵢ dᵢ) = out(θ) + Σ cᵢ out(dᵢ) (core/experiments/directions.ts).
   */
  linearInWeights?: boolean;
  /**
   * The parameter that sets the layer's width (Dense: units; Conv2D: filters): the width
   * experiment multiplies it by k in every hidden layer (core/experiments/variants.ts).
   */
  widthParam?: string;
  /**
   * DropConnect kinds: the rate p at which this node masks the weights of the one layer it
   * feeds (that layer must `acceptsDropConnect`). The node itself passes its input through.
   */
  dropConnectRate?(params: ParamValues<S>): number;
  /** Losses that apply an output activation to pred themselves: the same activation just before pred is applied twice. */
  appliesActivation?: OutputActivation;
  /** Activation kinds that compute an output activation a loss may apply itself. */
  activation?: OutputActivation;
  /**
   * Penalty kinds (role 'penalty'): the term this node adds to the training objective for
   * one penalized weight tensor `w` (weight matrices, not biases; see WeightSpec.penalized),
   * or null when the term is zero for these params (α = 0), so the step adds no op.
   * Called inside the forward pass's tf.tidy; training steps only (validation reports the
   * data loss).
   */
  penalty?(tf: TF, w: Tensor, params: ParamValues<S>): Tensor | null;
  /**
   * Penalty kinds: the same term in Python, for the exported project's train.py. The body of
   * `def term(w, p)`: `w` is one penalized weight tensor, `p` the node's params (a dict of
   * the same names), and it returns None where {@link penalty} returns null. Written from the
   * same formula in the same float32 order, so the exported training follows Gradflow's. A
   * penalty kind without it cannot be exported to PyTorch.
   */
  torchPenalty?: string;
  /** Optimizer kinds (role 'optimizer'): the update rule and its state (core/train/optimizers.ts runs it). */
  optimizer?: OptimizerRule;
  /** Data kinds (role 'dataset'): how the node builds its data. */
  data?: DataSourceDef<ParamValues<S>>;
  /**
   * The node as PyTorch code for the exported project: the module model.py makes for it
   * (its weights named as Gradflow names them) and the Python classes that module needs.
   * Losses give a module called as loss(pred, target); target-path kinds one called on y.
   */
  torch?(ctx: TorchContext<ParamValues<S>>): TorchModule;
  /**
   * The node as Keras layers for the TensorFlow.js LayersModel export (model.json +
   * weights): emits layers through the context and returns the output layer names by port.
   * Losses return extra model outputs (the probabilities their activation gives). A kind
   * without it (no Keras layer computes it) cannot be exported to TensorFlow.js.
   */
  keras?(ctx: KerasContext<ParamValues<S>>): Record<string, string>;
  /** The Keras layers this kind reads back when a LayersModel is imported (the inverse of {@link keras}). */
  fromKeras?: KerasReader<ParamValues<S>>;
  /** The ONNX ops this kind reads back when an ONNX model is imported (the inverse of {@link onnx}). */
  fromOnnx?: OnnxReader<ParamValues<S>>;
}

/**
 * What a dataset may need loaded by the platform before it can be built: the app fetches
 * it in the worker, the CLI reads it from disk (core/data/sources.ts says which).
 */
export interface DataResources {
  /** The 10,000 MNIST digits. */
  mnist?: MnistData;
}
/** The name of one thing in {@link DataResources}. */
export type DataResource = keyof DataResources;

/** How a data kind builds its dataset; the trainer, the worker and the CLI only call these. */
export interface DataSourceDef<P> {
  /** What must be loaded before {@link build} for these params (none for generated data). */
  needs(params: P): DataResource[];
  /**
   * How run records and settings name the data: the source (e.g. 'spirals', 'table') and the
   * number of examples.
   */
  describe(params: P): { source: string; samples: number };
  /**
   * Generate or read the data and split it into training and validation sets with the
   * params' seed. Throws an Error with a readable message when it cannot (bad params, a
   * resource that was not loaded).
   */
  build(params: P, resources: DataResources): Dataset;
  /**
   * The data kind that holds a table the user imports (CSV/JSON): the app's Import data
   * command fills a selected node of this kind with the importer's choice of columns, or
   * adds one. One kind in the catalogue says so.
   */
  holdsImportedTable?: true;
}

/** An ONNX attribute value, tagged with its type (ONNX distinguishes ints from floats). */
export type OnnxAttribute = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

/**
 * What a kind's ONNX exporter sees: its parameters, the names of its input tensors, its
 * weights as initializers, and a way to add ops. Names it chooses are made unique and
 * prefixed with the node's canvas label, so the file reads like the canvas in Netron.
 */
/** What every exporter hook of a kind sees of its node: the names it reads are the target's own. */
export interface ExportNodeContext<P> {
  params: P;
  /** The node's canvas label (or id), made safe for the target: the prefix of the names it makes. */
  label: string;
  /** The target's names of the tensors (ONNX) or layers (Keras) wired into each port, in edge order. */
  inputs: Record<string, string[]>;
  inputShapes: Record<string, Shape[]>;
  outputShapes: Record<string, Shape>;
  /** DropConnect rate on this node's kernel (0 when no DropConnect feeds it). */
  dropConnectRate: number;
}

export interface OnnxContext<P> extends ExportNodeContext<P> {
  /** The initializer holding one of the node's weights (trained, or initial when untrained). */
  weight(name: string): string;
  /** The values of one of the node's weights, for exporters that fold them. */
  weightValues(name: string): Float32Array;
  /** A constant tensor (an initializer) with the given values. */
  constant(hint: string, values: readonly number[], shape: number[], dtype?: 'float32' | 'int64'): string;
  /** Add an op; returns the name of its (first) output. */
  op(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, hint?: string): string;
}

/** Output activations that a loss may apply itself (softmax cross-entropy, binary cross-entropy). */
export type OutputActivation = 'softmax' | 'sigmoid';

/**
 * What an optimizer's update rule sees on one step. Everything runs inside the optimizer's
 * tf.tidy, so tensors the rule makes are freed after the step.
 */
export interface OptimizerStep<H = Record<string, number>> {
  tf: TF;
  /** The kind's hyper-parameters (momentum α, ρ, δ, …), already checked against their specs. */
  hyper: H;
  /** λ of this step, as a scalar tensor (cached by the optimizer while λ stays the same). */
  lr: tfTypes.Scalar;
  /** λ of this step as a number, for host-side arithmetic (Adam's bias corrections). */
  lrValue: number;
  /** The step count t: 1 on the first update after creation or reset. */
  t: number;
  /**
   * A scalar tensor for a value that stays the same over the run (α, 1 − ρ, δ): made on
   * first use and kept until the optimizer is disposed, rather than one new scalar per op per
   * variable per step.
   */
  constant(x: number): tfTypes.Scalar;
}

/** One variable's update: assign the new weight (and state) in place. `state` follows `slots`. */
export type VariableUpdate = (w: tfTypes.Variable, g: Tensor, state: tfTypes.Variable[]) => void;

/** An optimizer's update rule W ← W − Δ, with the per-variable state it keeps. */
export interface OptimizerRule<H = Record<string, number>> {
  /** Per-variable state tensors, named with the lecture's symbols ('v', 'r', 's'); each starts at zero. */
  slots: readonly string[];
  /** The names of the kind's params that the rule reads, checked against their specs. */
  hyper: readonly string[];
  /** Called once per step; returns the update applied to every variable of that step. */
  step(s: OptimizerStep<H>): VariableUpdate;
  /** The same rule in Python, for the exported project's train.py; a kind without it cannot be exported to PyTorch. */
  torch?: TorchOptimizerRule;
}

/**
 * An optimizer's update rule as Python (torch) code for the exported train.py, written from
 * the same formula in the same float32 order as its {@link OptimizerRule.step}, so the
 * exported training follows Gradflow's loss curve step by step. Both parts are Python
 * statements at column 0 and run under `torch.no_grad()`; `torch`, `math` and `f32(x)` (a
 * float32 scalar tensor) are in scope.
 */
export interface TorchOptimizerRule {
  /**
   * Once per step, before the parameters are updated (the part of `step` outside the
   * returned update): per-step host-side scalars such as Adam's bias corrections, and the
   * constants. It sees `h` (the hyper-parameters by name, as Python floats), `t` (the step
   * count, 1 on the first update), `lr` (λ of this step as a float32 scalar tensor),
   * `lr_value` (λ as a float) and `constant(x)` (a float32 scalar made once per value, as
   * {@link OptimizerStep.constant}). Names it assigns are seen by {@link update}.
   */
  step?: string;
  /**
   * The update of one parameter, in place (`w.copy_(…)`, and each state slot's): `w` is the
   * parameter, `g` its gradient, and each of the rule's {@link OptimizerRule.slots} is a
   * tensor of `w`'s shape under its own name (they start at zero).
   */
  update: string;
}

/** Activations whose gradient TensorFlow.js can compute through a fused matMul. */
export type FusableActivation = 'relu';

export type ParamValues<S extends ParamSpecs> = {
  [K in keyof S]: S[K] extends { options: readonly (infer T)[] } ? T : S[K]['default'];
};

export type AnyParams = Record<string, ParamValue>;

// Function parameters make NodeKindDef<S> invariant in S; the catalogue stores them erased.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKindDef = NodeKindDef<any>;

/** Define a node kind with its parameter types inferred from its specs. */
export function defineKind<S extends ParamSpecs>(def: NodeKindDef<S>): AnyKindDef {
  return def;
}

/** What a kind's PyTorch exporter sees. */
export interface TorchContext<P> {
  params: P;
  inputShapes: Record<string, Shape[]>;
  outputShapes: Record<string, Shape>;
  /** DropConnect rate on this node's kernel (0 when no DropConnect feeds it). */
  dropConnectRate: number;
}

/** A node as PyTorch code. */
export interface TorchModule {
  /** A Python expression that makes the module, e.g. `Dense(784, 256, bias=True)`. */
  module: string;
  /** Python classes the expression uses, by class name (shared classes are written once). */
  classes?: Record<string, string>;
}

/** A float32 tensor with its shape, as exporters and importers pass weights around. */
export interface FloatTensor {
  shape: number[];
  values: Float32Array;
}

/** A JSON value inside a Keras layer config. */
export type KerasValue = null | boolean | number | string | KerasValue[] | { [key: string]: KerasValue };

/**
 * What a kind's Keras exporter sees. Layer names it makes are unique and start with the
 * node's canvas label, so the model reads like the canvas.
 */
export interface KerasContext<P> extends ExportNodeContext<P> {
  /** One of the node's weights (trained, or initial when untrained), checked against its spec. */
  weight(name: string): FloatTensor;
  /**
   * Add a Keras layer: its class, its config in Keras's own (snake_case) keys without the
   * name, the layers it reads, and its weights by Keras name in the order the layer makes
   * them ('kernel', 'bias', 'gamma', 'moving_mean', …). `hint` suffixes the label for a
   * helper layer. Returns the layer's name.
   */
  layer(className: string, config: Record<string, KerasValue>, inputs: string[], weights?: ({ name: string } & FloatTensor)[], hint?: string): string;
}

/** One layer of a LayersModel being imported, as a kind's {@link KerasReader} sees it. */
export interface KerasLayerView {
  className: string;
  name: string;
  /** The layer's config as written in model.json (Keras's snake_case keys). */
  config: Record<string, KerasValue>;
  /** Per-example shapes of the tensors it reads, in order. */
  inputShapes: Shape[];
  /** Whether the layer has a weight of this Keras name. */
  has(name: string): boolean;
  /** One of its weights by Keras name; throws a readable error when it is missing. */
  weight(name: string): FloatTensor;
}

/** How a kind reads a Keras layer back: the classes it claims and the node it makes of one. */
export interface KerasReader<P> {
  classNames: readonly string[];
  /**
   * The node's params (defaults fill the rest) and weights for this layer, or null when the
   * layer is not this kind's (an Activation of another function). Throws an Error saying what
   * does not fit (e.g. strides that differ between height and width).
   */
  read(layer: KerasLayerView): { params: Partial<P>; weights?: Record<string, FloatTensor> } | null;
}

/**
 * How the values of an ONNX tensor being imported relate to the Gradflow output that holds
 * it. Absent: the same values in the same order. 'nchw': ONNX has [N, C, H, W] where Gradflow
 * has [N, H, W, C]. 'pooled': ONNX has [N, C, 1, 1] (GlobalAveragePool) where Gradflow has
 * [N, C]. 'flat': a vector whose entry j in Gradflow is entry order[j] in ONNX (a Flatten of
 * an 'nchw' image reads c·h·w where Gradflow reads h·w·c; a Concat joins such orders).
 */
export type OnnxLayout = { kind: 'nchw' } | { kind: 'pooled' } | { kind: 'flat'; order: Int32Array };

/** A constant tensor of an ONNX model being imported: an initializer, a Constant node, or folded from them. */
export interface OnnxConstant {
  dims: number[];
  values: Float32Array | number[];
  /**
   * A constant folded from `unscaled` × a scalar `keep` in (0, 1): Gradflow's export of a
   * kernel under DropConnect (p·W), which a layer reads back as W with a DropConnect before it.
   */
  scaled?: { keep: number; unscaled: Float32Array };
}

/**
 * One ONNX node being imported, as a kind's {@link OnnxReader} sees it: its attributes, its
 * constant inputs, the layout and Gradflow shape of its computed inputs. Methods that cannot
 * answer (a missing constant, an unknown shape) throw the importer's error naming the node.
 */
export interface OnnxNodeView {
  opType: string;
  /** The node's name, or its first output's when it has none: the label its Gradflow node starts from. */
  name: string;
  /** How messages name the node: "Conv node '/conv1/Conv'". */
  where: string;
  /** Its input tensors' names, in order ('' for an optional input left out). */
  inputs: readonly string[];
  has(attribute: string): boolean;
  int(attribute: string, def: number): number;
  float(attribute: string, def: number): number;
  /** An ints attribute (strides, pads, perm, …), or undefined when absent. */
  ints(attribute: string): number[] | undefined;
  /** A string attribute (auto_pad), or undefined when absent. */
  string(attribute: string): string | undefined;
  /** Input k when it is a constant; undefined when it is computed or absent. */
  constant(k: number): OnnxConstant | undefined;
  /** Input k, which must be a constant (an initializer) for Gradflow to import the node. */
  constIn(k: number): OnnxConstant;
  /** How Gradflow holds computed input k (undefined: in ONNX's order). */
  layout(k: number): OnnxLayout | undefined;
  /** The per-example Gradflow shape (channels last) of computed input k. */
  shape(k: number): Shape;
  /** The ONNX rank of computed input k as far as the importer knows it (for axis checks). */
  rank(k: number): number;
  /**
   * The Gradflow node that computes input k, with its params and how many ONNX nodes and
   * model outputs read that tensor: for a reader that folds the op into it (a bias Add into
   * the MatMul before it).
   */
  producer(k: number): { kind: string; params: Readonly<Record<string, unknown>>; consumers: number } | undefined;
  /** Stop reading this node with a message (which names it, e.g. with {@link where}). */
  fail(message: string): never;
}

/** What a kind makes of an ONNX node it reads. */
export type OnnxRead<P> =
  | {
      /** The node's params (defaults fill the rest) and weights. */
      params: Partial<P>;
      weights?: Record<string, FloatTensor>;
      /** The ONNX inputs wired into the node's first port, in order (default: input 0). */
      tensors?: number[];
      /** The layout of its output (default: that of its first tensor input; null: none). */
      layout?: OnnxLayout | null;
      /** Its label before the importer tidies it (default: the view's name). */
      label?: string;
      /**
       * A node of another kind placed between the input and this node (a DropConnect before
       * the Dense that Gemm's α implies), named like the identity Gradflow's export left in
       * its place, or '<name> <title>'.
       */
      before?: { kind: string; params: Record<string, ParamValue> };
    }
  /** No node: the output is input `passThrough` itself, with the given layout (default: the input's; null: none). */
  | { passThrough: number; layout?: OnnxLayout | null }
  /** No new node: the op folds into the node of this kind that computes input `fold` (see {@link OnnxNodeView.producer}). */
  | { fold: number; params?: Partial<P>; weights?: Record<string, FloatTensor> };

/** How a kind reads ONNX ops back: the op types it claims and what it makes of one. */
export interface OnnxReader<P> {
  opTypes: readonly string[];
  /**
   * What the node becomes, or null when it is not this kind's (an Add that is no MatMul's
   * bias). Throws through {@link OnnxNodeView.fail} what does not fit; when several kinds
   * claim an op type, the first that reads it wins, and a failure is reported only when none
   * does.
   */
  read(node: OnnxNodeView): OnnxRead<P> | null;
}
