/**
 * Plan -> program on TensorFlow.js: the variables, and the forward pass of the whole graph
 * in training or inference mode. The program never reads a value back to the host; the
 * trainer decides when to do that.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Rng } from '../data/rng.ts';
import type { ForwardContext, FusableActivation, Tensor, TF } from '../graph/types.ts';
import type { MaskSet } from '../io/masks.ts';
import { initialValues } from './init.ts';
import type { Plan, PlanInput } from './plan.ts';

export interface ProgramWeight {
  nodeId: string;
  name: string;
  variable: tfTypes.Variable;
  trainable: boolean;
  penalized: boolean;
}

export interface ForwardOptions {
  x: Tensor;
  y: Tensor;
  training: boolean;
  /** Seeds for random ops (Dropout, DropConnect, noise), drawn from the run's generator. */
  seed: () => number;
  /** Values to use for the trainable weights (same order as `trainable`): the arguments being differentiated. */
  weights?: Tensor[];
  /** Zero tensors added to instrumented edges, so that d loss / d probe is the gradient through the edge. */
  probes?: Map<string, Tensor>;
  /** Run the plan's fused layer+activation pairs as one kernel (when their edge has no probe). */
  fuse?: boolean;
  /**
   * Outputs of these nodes (by node id, then port) computed elsewhere for this batch: the
   * nodes are not run (nor fused with their activation), their outputs are taken as given.
   * Experiments use it for layers that are linear in their weights (see `dataLinearLayers`).
   */
  given?: ReadonlyMap<string, Record<string, Tensor>>;
}

export interface ForwardResult {
  /** The data loss (what the loss node computes). */
  dataLoss: Tensor;
  /** Data loss plus L1/L2 penalties: what the optimizer minimizes. */
  objective: Tensor;
  /** The network's output (what feeds the loss's pred). */
  pred: Tensor;
  /** Output tensors by node id and port. */
  outputs: Map<string, Record<string, Tensor>>;
  /** New values for non-trainable state (BatchNorm running statistics), to assign after the step. */
  state: { variable: tfTypes.Variable; value: Tensor }[];
}

let programCount = 0;

export class Program {
  readonly weights: ProgramWeight[] = [];
  /** The trainable subset of `weights`, in a fixed order (the optimizer's variables). */
  readonly trainable: ProgramWeight[];
  private readonly byNode = new Map<string, Record<string, ProgramWeight>>();
  /** Pruning masks (0/1 float32 tensors) by variable name; weights without one are dense. */
  private readonly masks = new Map<string, Tensor>();

  constructor(
    readonly tf: TF,
    readonly plan: Plan,
    rng: Rng,
  ) {
    const programId = ++programCount;
    for (const node of plan.nodes) {
      const own: Record<string, ProgramWeight> = {};
      for (const spec of node.weights) {
        const size = spec.shape.reduce((a, b) => a * b, 1);
        const values = initialValues(spec.init, size, rng);
        const initial = tf.tensor(values, spec.shape, 'float32');
        // tf variable names are global: number each program so two can live side by side.
        const variable = tf.variable(initial, spec.trainable, `p${programId}/${node.id}/${spec.name}`);
        initial.dispose(); // the variable holds its own reference to the data
        const w = { nodeId: node.id, name: spec.name, variable, trainable: spec.trainable, penalized: spec.penalized };
        own[spec.name] = w;
        this.weights.push(w);
      }
      this.byNode.set(node.id, own);
    }
    this.trainable = this.weights.filter((w) => w.trainable);
  }

  weight(nodeId: string, name: string): ProgramWeight | undefined {
    return this.byNode.get(nodeId)?.[name];
  }

  /**
   * Put pruning masks on prunable weights (replacing any before; null removes them all) and
   * zero the pruned weights, so that they are exactly 0 in the variables too (what exports
   * and saved files see). Throws, changing nothing, when a mask names a node or weight the
   * graph lacks, a weight its kind does not allow to be pruned, or has the wrong size.
   */
  setMasks(masks: MaskSet | null): void {
    const { tf } = this;
    const checked: { w: ProgramWeight; bits: Uint8Array }[] = [];
    for (const [nodeId, byName] of Object.entries(masks ?? {})) {
      const node = this.plan.nodes.find((n) => n.id === nodeId);
      if (!node) throw new Error(`a pruning mask is given for node '${nodeId}', which does not take part in training`);
      for (const [name, m] of Object.entries(byName)) {
        const spec = node.weights.find((s) => s.name === name);
        const w = this.weight(nodeId, name);
        if (!spec || !w) throw new Error(`${node.title} ${node.name} has no weight '${name}' to mask`);
        if (!spec.prunable) throw new Error(`the ${name} of ${node.title} ${node.name} cannot be pruned (only connection weights can, not biases or scales)`);
        if (m.bits.length !== w.variable.size) {
          throw new Error(`the mask for the ${name} of ${node.title} ${node.name} has ${m.bits.length} entries but the weight has ${w.variable.size} ([${w.variable.shape.join(', ')}]): the graph changed since the mask was made`);
        }
        checked.push({ w, bits: m.bits });
      }
    }
    for (const t of this.masks.values()) t.dispose();
    this.masks.clear();
    for (const { w, bits } of checked) this.masks.set(w.variable.name, tf.tensor(Float32Array.from(bits), w.variable.shape, 'float32'));
    this.applyMasks();
  }

  /** Zero the pruned entries of every masked weight (after new values were loaded into it). */
  applyMasks(): void {
    const { tf } = this;
    for (const w of this.weights) {
      const mask = this.masks.get(w.variable.name);
      // + 0 turns the −0 of a negative weight times 0 into +0: files and exports show 0.
      if (mask) tf.tidy(() => w.variable.assign(tf.add(tf.mul(w.variable, mask), 0)));
    }
  }

  /** The mask on a weight, if it has one (owned by the program). */
  maskOf(nodeId: string, name: string): Tensor | undefined {
    const w = this.weight(nodeId, name);
    return w ? this.masks.get(w.variable.name) : undefined;
  }

  /** Whether any weight carries a pruning mask. */
  get pruned(): boolean {
    return this.masks.size > 0;
  }

  /** The forward pass. Call inside tf.tidy (or a gradient function); returns tensors it created. */
  forward(o: ForwardOptions): ForwardResult {
    const { tf, plan } = this;
    const outputs = new Map<string, Record<string, Tensor>>();
    outputs.set(plan.dataset.id, { x: o.x, y: o.y });
    const override = new Map<string, Tensor>();
    if (o.weights) this.trainable.forEach((w, i) => override.set(w.variable.name, o.weights![i]!));
    // m ⊙ W for every masked weight, once per pass: the gradient with respect to W is then
    // m ⊙ dL/d(m ⊙ W), so pruned weights get exactly zero gradient (penalties see m ⊙ W too).
    const masked = new Map<string, Tensor>();
    for (const [name, mask] of this.masks) {
      const w = this.weights.find((x) => x.variable.name === name)!;
      masked.set(name, tf.mul(override.get(name) ?? w.variable, mask));
    }
    const value = (w: ProgramWeight): Tensor => masked.get(w.variable.name) ?? override.get(w.variable.name) ?? w.variable;
    const state: ForwardResult['state'] = [];
    // Tensors computed from the data alone: no gradient flows into them, so layers fed by
    // them skip dL/d(input) (the first Dense's largest product).
    const dataOnly = new Set<Tensor>([o.x, o.y]);
    const needsGradient = (t: Tensor): boolean => !dataOnly.has(t);
    const read = (input: PlanInput): Tensor => {
      const t = outputs.get(input.source)?.[input.sourcePort];
      if (!t) throw new Error(`internal: ${input.source}.${input.sourcePort} was not computed`);
      const probe = o.probes?.get(input.edgeId);
      return probe ? tf.add(t, probe) : t;
    };
    let dataLoss: Tensor | null = null;
    const fusedLayers = new Map<string, { activation: string; kind: FusableActivation }>();
    const skipped = new Set<string>();
    if (o.fuse) {
      for (const f of plan.fusions) {
        if (o.probes?.has(f.edgeId) || o.given?.has(f.layer)) continue;
        fusedLayers.set(f.layer, { activation: f.activation, kind: f.kind });
        skipped.add(f.activation);
      }
    }
    for (const node of plan.nodes) {
      if (skipped.has(node.id)) continue; // computed by its layer's fused kernel
      const given = o.given?.get(node.id);
      if (given) {
        outputs.set(node.id, given);
        if (node.id === plan.loss.id) dataLoss = given.loss!;
        continue;
      }
      const inputs: Record<string, Tensor[]> = {};
      for (const [port, sources] of Object.entries(node.inputs)) inputs[port] = sources.map(read);
      const own = this.byNode.get(node.id)!;
      const weights: Record<string, Tensor> = {};
      const masks: Record<string, Tensor> = {};
      for (const [name, w] of Object.entries(own)) {
        weights[name] = value(w);
        const m = this.masks.get(w.variable.name);
        if (m) masks[name] = m;
      }
      const ctx: ForwardContext<Record<string, unknown>> = {
        tf,
        params: node.params,
        training: o.training,
        weights,
        masks,
        seed: o.seed,
        setState: (name, value) => {
          const w = own[name];
          if (!w) throw new Error(`internal: ${node.id} has no state '${name}'`);
          state.push({ variable: w.variable, value });
        },
        dropConnectRate: node.dropConnectRate,
        outputShapes: node.outputShapes,
        inputShapes: node.inputShapes,
        needsGradient,
      };
      const fused = fusedLayers.get(node.id);
      const out = fused ? node.def.forwardFused!(ctx, inputs, fused.kind) : node.def.forward!(ctx, inputs);
      outputs.set(node.id, out);
      const fromDataOnly = Object.keys(own).length === 0 && Object.values(inputs).every((ts) => ts.every((t) => dataOnly.has(t)));
      if (fromDataOnly) for (const t of Object.values(out)) dataOnly.add(t);
      if (fused) outputs.set(fused.activation, { out: out.out! });
      if (node.id === plan.loss.id) dataLoss = out.loss!;
    }
    if (!dataLoss) throw new Error('internal: the loss was not computed');
    let objective: Tensor = dataLoss;
    if (o.training) {
      for (const p of plan.training.penalties) {
        const terms = this.trainable
          .filter((w) => w.penalized)
          .map((w) => p.def.penalty!(tf, value(w), p.params))
          .filter((t): t is Tensor => t !== null);
        if (terms.length) objective = tf.add(objective, tf.addN(terms));
      }
    }
    const pred = outputs.get(plan.output.source)![plan.output.sourcePort]!;
    return { dataLoss, objective, pred, outputs, state };
  }

  /**
   * Nodes whose kind is linear in its weights (`linearInWeights`), whose weights are all
   * trainable and whose inputs come from the data alone (through weightless nodes such as
   * Flatten): in inference their output is out(θ) + Σ cᵢ out(dᵢ) at θ + Σ cᵢ dᵢ, so an
   * experiment evaluating many such points computes them once per direction. The same rule
   * as the forward pass's data-only tensors.
   */
  dataLinearLayers(): string[] {
    const dataOnly = new Set<string>([this.plan.dataset.id]);
    const found: string[] = [];
    for (const node of this.plan.nodes) {
      const fromData = Object.values(node.inputs).every((sources) => sources.every((s) => dataOnly.has(s.source)));
      if (!fromData || node.onTargetPath) continue;
      if (node.weights.length === 0) dataOnly.add(node.id);
      else if (node.def.linearInWeights && node.weights.every((w) => w.trainable)) found.push(node.id);
    }
    return found;
  }

  /** Inference on a batch of inputs: the network's output (scores before softmax/sigmoid for cross-entropy). */
  predict(x: Tensor): Tensor {
    const { tf } = this;
    return tf.tidy(() => {
      const y = tf.zeros([x.shape[0]!, ...this.plan.dataset.info.yShape]);
      const r = this.forward({ x, y, training: false, seed: () => 0, fuse: true });
      return r.pred;
    });
  }

  dispose(): void {
    for (const t of this.masks.values()) t.dispose();
    this.masks.clear();
    for (const w of this.weights) w.variable.dispose();
    this.weights.length = 0;
  }
}
