/**
 * The training loop: epochs and batches with the graph's optimizer, schedule, clipping,
 * penalties and early stopping; pause, resume, single step and stop; progress, metrics and
 * instrumentation events; NaN faults; trained weights and run records. It runs the same in
 * Node (CLI, tests), in a page and in a Web Worker. All values come back from the device
 * with `await data()`, batched and throttled, never with a per-step synchronous read.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { DEFAULT_MEMORY_LIMIT, estimateMemory, memoryProblem } from '../compile/memory.ts';
import { compilePlan, type Plan } from '../compile/plan.ts';
import { Program } from '../compile/program.ts';
import { epochBatches, gatherBatch, rowSize } from '../data/dataset.ts';
import { createRng, type Rng } from '../data/rng.ts';
import { buildData } from '../data/sources.ts';
import type { Dataset, Split } from '../data/types.ts';
import type { EpochRecord, GraphDocument, JsonValue, RunRecord, WeightsBlock } from '../graph/document.ts';
import type { DataResources, Tensor, TF } from '../graph/types.ts';
import { decodeFloat32, encodeFloat32 } from '../io/base64.ts';
import type { MaskSet } from '../io/masks.ts';
import { clipGradients } from './clip.ts';
import { DEFAULT_BINS, packInstrumentation, unpackInstrumentation, type Instrumentation, type InstrumentLayout, type LayerTensors } from './instrument.ts';
import { createOptimizer, type Optimizer } from './optimizers.ts';
import { learningRateAt } from './schedule.ts';

/** Options of a trainer; the data resources (MNIST's digits) are loaded by the caller for its platform (core/data/sources.ts). */
export interface TrainerOptions extends DataResources {
  /** Override the Dataset's seed (same file + seed + backend = same run). */
  seed?: number;
  /** Override the optimizer's epochs. */
  epochs?: number;
  /** Read back losses (and check them for NaN) every N steps, and at every epoch end. */
  readEvery?: number;
  /**
   * Measure edge gradients, norms and histograms every N steps (default 25). An instrumented
   * step runs unfused with probes on every edge, so it costs about twice a plain step; at
   * 1 in 25 that keeps training within ~5% of its uninstrumented speed.
   */
  instrumentEvery?: number;
  /**
   * Instead of counting steps, measure and read back at most this often (ms): the app uses
   * it to update the canvas at a steady 5–10 Hz whatever the speed of the backend.
   */
  intervalMs?: number;
  /** Compute edge gradients, norms and histograms (off: losses only). */
  instrument?: boolean;
  bins?: number;
  onEvent?: (event: TrainEvent) => void;
  /** Name of the backend in use, recorded in runs and weights. */
  backend?: string;
  /** Stop after this many optimizer steps (benchmarks, quick checks). */
  maxSteps?: number;
  /** Pruning masks on prunable weights (the file's `masks` block, or an experiment's). */
  masks?: MaskSet;
  /**
   * Called right after each optimizer step, before the loop reads anything back. Tensor
   * work started here (cloning the weights, an evaluation) sees exactly this step's weights:
   * experiments use it to keep the weights of step k or to measure every N steps.
   */
  onStep?: (step: number) => void;
  /** Refuse graphs whose estimated training memory is above this many bytes (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: number;
}

export interface Progress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  samplesPerSecond: number;
  etaSeconds: number;
  /** Loss of the latest step read back. */
  loss: number;
  learningRate: number;
}

export interface Fault {
  step: number;
  epoch: number;
  nodeId: string | null;
  message: string;
}

export type RunStatus = RunRecord['status'];

export type TrainEvent =
  | { type: 'progress'; progress: Progress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'instrumentation'; data: Instrumentation }
  | { type: 'fault'; fault: Fault }
  /** The loop is waiting after a pause (or after a single step taken while paused). */
  | { type: 'paused'; step: number }
  | { type: 'done'; status: RunStatus; run: RunRecord };

/** Thrown by Trainer.create when the graph cannot train; the message says why. */
export class NotTrainableError extends Error {
  constructor(readonly errors: string[]) {
    super(`the graph cannot train:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'NotTrainableError';
  }
}

interface StepResult {
  loss: Tensor;
  correct: Tensor | null;
  instrumentation?: Tensor;
}

/** Examples on the device: features, targets and their number. */
export interface DeviceSplit {
  x: Tensor;
  y: Tensor;
  n: number;
}

/** Backends whose tensors live in host memory, where a batch is cheapest copied on the host. */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else {
      // addEventListener (with start()) rather than onmessage: the one form that both the
      // DOM's and Node's MessagePort declare, so core/ typechecks without the DOM lib.
      const ch = new MessageChannel();
      ch.port1.addEventListener('message', () => resolve(), { once: true });
      ch.port1.start();
      ch.port2.postMessage(null);
    }
  });

export class Trainer {
  readonly plan: Plan;
  readonly program: Program;
  readonly dataset: Dataset;
  readonly seed: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly backend: string;
  private readonly tf: TF;
  private readonly optimizer: Optimizer;
  private readonly rng: Rng;
  private readonly dropoutRng: Rng;
  private readonly readEvery: number;
  private readonly instrumentEvery: number;
  private readonly intervalMs: number | null;
  private lastRead = 0;
  private readonly maxSteps: number;
  private readonly instrumentOn: boolean;
  private readonly bins: number;
  private readonly onEvent: (e: TrainEvent) => void;
  private readonly onStep: ((step: number) => void) | null;
  private readonly train: DeviceSplit;
  private readonly val: DeviceSplit | null;
  private learningRateBase: number;
  private readonly instrumentLayout: InstrumentLayout;

  // Run state.
  private epoch = 0;
  private batchInEpoch = 0;
  private epochPlan: { order: Uint32Array; batches: { from: number; to: number }[] } | null = null;
  private globalStep = 0;
  private stopRequested = false;
  private paused = false;
  private pauseWaiters: (() => void)[] = [];
  private stepsAllowed = 0;
  private pendingLosses: Tensor[] = [];
  private correctSum: Tensor | null = null;
  private epochLossSum = 0;
  private epochLossCount = 0;
  private lastLoss = NaN;
  private lastGood: Tensor[] | null = null;
  private best: { loss: number; weights: Tensor[]; epoch: number } | null = null;
  private sinceBest = 0;
  private readonly epochs_: EpochRecord[] = [];
  private readonly stepLoss: number[] = [];
  private readonly startedAt = new Date().toISOString();
  private epochStarted = 0;
  private runStarted = 0;
  private samplesDone = 0;
  private fault: Fault | null = null;
  private resumedFrom: { step: number; epoch: number } | null = null;
  private running = false;
  private disposed = false;

  private constructor(tf: TF, plan: Plan, dataset: Dataset, o: TrainerOptions) {
    this.tf = tf;
    this.plan = plan;
    this.dataset = dataset;
    this.seed = o.seed ?? plan.dataset.params.seed;
    this.epochs = o.epochs ?? plan.training.epochs;
    this.readEvery = Math.max(1, o.readEvery ?? 10);
    this.instrumentEvery = Math.max(1, o.instrumentEvery ?? 25);
    this.intervalMs = o.intervalMs ?? null;
    this.maxSteps = o.maxSteps ?? Infinity;
    this.instrumentOn = o.instrument ?? true;
    this.bins = o.bins ?? DEFAULT_BINS;
    this.onEvent = o.onEvent ?? (() => {});
    this.backend = o.backend ?? tf.getBackend();
    const root = createRng(this.seed ^ 0x5eed);
    this.rng = root.fork();
    this.dropoutRng = root.fork();
    this.program = new Program(tf, plan, root.fork());
    this.onStep = o.onStep ?? null;
    if (o.masks) {
      try {
        this.program.setMasks(o.masks);
      } catch (e) {
        this.program.dispose();
        throw e;
      }
    }
    this.optimizer = createOptimizer(tf, plan.training.optimizer);
    this.learningRateBase = plan.training.schedule.learningRate;
    this.instrumentLayout = {
      edges: plan.instrumentedEdges.map((e) => e.edgeId),
      layers: plan.nodes.filter((n) => this.program.trainable.some((w) => w.nodeId === n.id)).map((n) => n.id),
      bins: this.bins,
    };
    const upload = (s: Split): DeviceSplit => ({
      x: tf.tensor(s.x, [s.n, ...dataset.info.xShape], 'float32'),
      y: tf.tensor(s.y, [s.n, ...dataset.info.yShape], 'float32'),
      n: s.n,
    });
    this.train = upload(dataset.train);
    this.val = dataset.val.n > 0 ? upload(dataset.val) : null;
    const bs = plan.training.batchSize;
    this.stepsPerEpoch = bs === 0 ? 1 : Math.ceil(dataset.train.n / bs);
  }

  /** Compile and set up a trainer for a document on the current tf backend. */
  static create(tf: TF, doc: Pick<GraphDocument, 'nodes' | 'edges'>, o: TrainerOptions = {}): Trainer {
    const compiled = compilePlan(doc);
    if (!compiled.ok) throw new NotTrainableError(compiled.errors);
    // Before anything is allocated: an absurd model must be refused with a message, not run
    // the machine out of memory.
    const tooBig = memoryProblem(estimateMemory(doc, compiled.analysis), o.memoryLimit ?? DEFAULT_MEMORY_LIMIT);
    if (tooBig) throw new NotTrainableError([tooBig]);
    const plan = compiled.plan;
    const seed = o.seed !== undefined ? { seed: o.seed } : {};
    const dataset = buildData({ kind: plan.dataset.kind, params: { ...plan.dataset.params, ...seed } }, o);
    if (dataset.train.n === 0) throw new NotTrainableError(['the Dataset leaves no examples for training: lower its validation fraction or add samples']);
    return new Trainer(tf, plan, dataset, o);
  }

  get totalSteps(): number {
    return this.epochs * this.stepsPerEpoch;
  }
  get step(): number {
    return this.globalStep;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  /** The learning rate of the next optimizer step. */
  get learningRate(): number {
    return this.learningRateAtStep(this.globalStep);
  }
  private learningRateAtStep(step: number): number {
    return learningRateAt({ ...this.plan.training.schedule, learningRate: this.learningRateBase, totalSteps: Math.max(1, this.totalSteps) }, step);
  }

  /** Change the base learning rate λ0 while training (the schedule still applies). */
  setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`the learning rate must be a positive number, got ${lr}`);
    this.learningRateBase = lr;
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake();
  }
  /** While paused: take exactly one optimizer step. */
  stepOnce(): void {
    this.stepsAllowed++;
    this.wake();
  }
  stop(): void {
    this.stopRequested = true;
    this.wake();
  }
  private wake(): void {
    const w = this.pauseWaiters;
    this.pauseWaiters = [];
    for (const f of w) f();
  }

  /** Train to the end (or until stopped, early-stopped or a fault). Resolves with the run record. */
  async run(): Promise<RunRecord> {
    if (this.running) throw new Error('this trainer is already running');
    if (this.disposed) throw new Error('this trainer was disposed');
    this.running = true;
    this.runStarted = now();
    this.epochStarted = this.runStarted;
    let status: RunStatus = 'completed';
    // The weights we start from are the first fallback: a fault before the first read-back
    // must not leave NaN weights behind.
    this.snapshotGood();
    try {
      while (this.epoch < this.epochs) {
        if (this.stopRequested || this.globalStep >= this.maxSteps) {
          status = 'stopped';
          break;
        }
        if (this.paused && this.stepsAllowed === 0) {
          this.onEvent({ type: 'paused', step: this.globalStep });
          await new Promise<void>((r) => this.pauseWaiters.push(r));
          continue;
        }
        if (this.stepsAllowed > 0) this.stepsAllowed--;
        let fault: Fault | null;
        try {
          fault = await this.trainOneBatch();
        } catch (e) {
          fault = this.kernelFault(e);
          if (!fault) throw e;
        }
        if (fault) {
          status = 'failed';
          break;
        }
        if (this.batchInEpoch === 0) {
          const early = await this.endEpoch();
          if (early) {
            status = 'early-stopped';
            break;
          }
        }
      }
      if (status === 'stopped' && this.pendingLosses.length) await this.flushLosses();
    } finally {
      this.running = false;
    }
    const run = this.runRecord(status);
    this.onEvent({ type: 'done', status, run });
    return run;
  }

  private nextBatch(): { order: Uint32Array; from: number; to: number } {
    if (!this.epochPlan || this.batchInEpoch === 0) {
      this.epochPlan = epochBatches(this.dataset.train, this.plan.training.batchSize, this.rng);
      this.epochStarted = now();
    }
    const range = this.epochPlan.batches[this.batchInEpoch]!;
    return { order: this.epochPlan.order, from: range.from, to: range.to };
  }

  /**
   * The batch's rows as tensors. On the CPU-side backends (wasm, cpu) the rows are copied on
   * the host and uploaded: a plain copy, where tf.gather on wasm took ~3 ms per 128 MNIST
   * rows, a fifth of a whole step. On GPU backends the data stays on the device and is gathered
   * there, so nothing crosses the bus per step. The values are the same either way.
   */
  private batchTensors(b: { order: Uint32Array; from: number; to: number }): { x: Tensor; y: Tensor } {
    const tf = this.tf;
    const n = b.to - b.from;
    const info = this.dataset.info;
    if (HOST_GATHER_BACKENDS.has(tf.getBackend())) {
      // Fresh arrays each step: the cpu backend keeps the array it is given, without a copy.
      const rows = gatherBatch(this.dataset.train, b.order, b.from, b.to);
      return { x: tf.tensor(rows.x, [n, ...info.xShape], 'float32'), y: tf.tensor(rows.y, [n, ...info.yShape], 'float32') };
    }
    const idx = tf.tensor1d(Int32Array.from(b.order.subarray(b.from, b.to)), 'int32');
    return { x: tf.gather(this.train.x, idx), y: tf.gather(this.train.y, idx) };
  }

  /** One optimizer step; every readEvery steps, read back and check. Returns a fault, if any. */
  private async trainOneBatch(): Promise<Fault | null> {
    const tf = this.tf;
    const batch = this.nextBatch();
    const due = this.intervalMs !== null ? now() - this.lastRead >= this.intervalMs : null;
    const instrumentNow = this.instrumentOn && (due ?? (this.globalStep + 1) % this.instrumentEvery === 0);
    const lr = this.learningRate;
    let stepResult!: StepResult;
    // Everything the step returns is tf.keep()-ed; the rest of its tensors go with the tidy.
    tf.tidy(() => {
      stepResult = this.trainStep(batch, lr, instrumentNow);
    });
    this.pendingLosses.push(stepResult.loss);
    const correct = stepResult.correct;
    if (correct) {
      const prev = this.correctSum;
      this.correctSum = prev ? tf.add(prev, correct) : tf.clone(correct);
      prev?.dispose();
      correct.dispose();
    }
    this.globalStep++;
    this.onStep?.(this.globalStep);
    this.samplesDone += batch.to - batch.from;
    this.batchInEpoch = (this.batchInEpoch + 1) % this.epochPlan!.batches.length;
    const epochEnds = this.batchInEpoch === 0;
    if (stepResult.instrumentation || (due ?? this.globalStep % this.readEvery === 0) || epochEnds || this.paused || this.stepsAllowed > 0) {
      this.lastRead = now();
      const fault = await this.flushLosses(stepResult.instrumentation ?? null);
      if (fault) return fault;
      this.emitProgress();
      await yieldToEventLoop();
    }
    return null;
  }

  /** Forward, backward and update on one batch. Runs inside tf.tidy; returns kept tensors. */
  private trainStep(batch: { order: Uint32Array; from: number; to: number }, lr: number, instrument: boolean): StepResult {
    const tf = this.tf;
    const { x, y } = this.batchTensors(batch);
    const n = batch.to - batch.from;
    const vars = this.program.trainable.map((w) => w.variable);
    const edges = instrument ? this.plan.instrumentedEdges : [];
    const probes = edges.map((e) => {
      const node = this.plan.nodes.find((p) => p.id === e.source);
      const shape = node ? node.outputShapes[e.sourcePort]! : this.plan.dataset.info.xShape;
      return tf.zeros([n, ...shape]);
    });
    const probeMap = new Map(edges.map((e, i) => [e.edgeId, probes[i]!]));
    type Kept = { dataLoss: Tensor; pred: Tensor; state: { variable: tfTypes.Variable; value: Tensor }[]; activations: Map<string, Tensor> };
    const keptBox: { value?: Kept } = {};
    const f = (...args: Tensor[]): Tensor => {
      const r = this.program.forward({ x, y, training: true, seed: () => this.dropoutRng.int(2 ** 31 - 1), weights: args.slice(0, vars.length), probes: probeMap, fuse: !instrument });
      const activations = new Map<string, Tensor>();
      if (instrument) {
        for (const node of this.plan.nodes) {
          const out = r.outputs.get(node.id)?.out;
          if (out && node.weights.some((w) => w.trainable)) activations.set(node.id, tf.keep(out));
        }
      }
      keptBox.value = { dataLoss: tf.keep(r.dataLoss), pred: tf.keep(r.pred), state: r.state.map((s) => ({ variable: s.variable, value: tf.keep(s.value) })), activations };
      return r.objective as tfTypes.Scalar;
    };
    const { grads } = tf.valueAndGrads(f)([...vars, ...probes]);
    const k = keptBox.value!;
    const weightGrads = clipGradients(tf, grads.slice(0, vars.length), this.plan.training.clip.mode, this.plan.training.clip.threshold);
    const before = instrument ? vars.map((v) => tf.clone(v)) : [];
    this.optimizer.apply(vars, weightGrads, lr);
    for (const s of k.state) {
      s.variable.assign(s.value);
      s.value.dispose();
    }
    const correct = this.correctCount(k.pred, y);
    // The loss kept from inside the gradient function is the step's loss, disposed after it is read back.
    const loss = k.dataLoss;
    let instrumentation: Tensor | undefined;
    if (instrument) {
      const layers = this.instrumentLayout.layers.map((nodeId): LayerTensors => {
        const ws = this.program.trainable.map((w, i) => ({ w, i })).filter(({ w }) => w.nodeId === nodeId);
        const main = Math.max(0, ws.findIndex(({ w }) => w.penalized));
        return {
          weights: ws.map(({ i }) => vars[i]!),
          before: ws.map(({ i }) => before[i]!),
          grads: ws.map(({ i }) => weightGrads[i]!),
          main,
          activation: k.activations.get(nodeId) ?? null,
        };
      });
      instrumentation = tf.keep(packInstrumentation(tf, this.instrumentLayout, k.dataLoss, grads.slice(vars.length), layers));
    }
    k.pred.dispose();
    for (const a of k.activations.values()) a.dispose();
    return { loss, correct: correct ? tf.keep(correct) : null, ...(instrumentation ? { instrumentation } : {}) };
  }

  /** Number of correct predictions in a batch (classification only), as a scalar tensor. */
  private correctCount(pred: Tensor, y: Tensor): Tensor | null {
    const tf = this.tf;
    if (this.plan.task !== 'classification') return null;
    const yw = y.shape[y.shape.length - 1]!;
    if (yw === 1) return tf.sum(tf.cast(tf.equal(tf.greater(pred, 0), tf.greater(y, 0.5)), 'float32'));
    return tf.sum(tf.cast(tf.equal(tf.argMax(pred, -1), tf.argMax(y, -1)), 'float32'));
  }

  /** Read back pending step losses (and instrumentation) in one await; check for NaN. */
  private async flushLosses(instrumentation: Tensor | null = null): Promise<Fault | null> {
    const tf = this.tf;
    const losses = this.pendingLosses;
    this.pendingLosses = [];
    if (losses.length === 0 && !instrumentation) return null;
    // The losses, then one value that is NaN when any weight is NaN or ±Infinity (x·0 is NaN
    // only for those): the update can overflow while the loss it came from was still finite.
    const stacked = tf.tidy(() => {
      const ws = this.program.weights.map((w) => tf.sum(tf.mul(w.variable, 0)));
      const weightsFlag = ws.length ? tf.addN(ws) : tf.scalar(0);
      return tf.concat([tf.stack(losses), tf.reshape(weightsFlag, [1])]);
    });
    const [values, instr] = await Promise.all([stacked.data() as Promise<Float32Array>, instrumentation ? (instrumentation.data() as Promise<Float32Array>) : null]);
    stacked.dispose();
    for (const l of losses) l.dispose();
    instrumentation?.dispose();
    const firstStep = this.globalStep - losses.length + 1;
    for (let i = 0; i < losses.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) return this.raiseFault(firstStep + i, v);
      this.stepLoss.push(v);
      this.epochLossSum += v;
      this.epochLossCount++;
      this.lastLoss = v;
    }
    if (Number.isNaN(values[losses.length]!)) return this.raiseFault(this.globalStep, NaN, 'weights');
    this.snapshotGood();
    // Read right after a step, before endEpoch counts the epoch it may have finished.
    if (instr) this.onEvent({ type: 'instrumentation', data: unpackInstrumentation(this.instrumentLayout, instr, this.globalStep, this.epoch + 1) });
    return null;
  }

  /** Keep a copy of the weights known to give finite losses, to fall back on after a NaN. */
  private snapshotGood(): void {
    const tf = this.tf;
    const old = this.lastGood;
    this.lastGood = this.program.weights.map((w) => tf.clone(w.variable));
    old?.forEach((t) => t.dispose());
  }

  private restore(weights: Tensor[]): void {
    this.program.weights.forEach((w, i) => w.variable.assign(weights[i]!));
  }

  private async raiseFault(step: number, value: number, in_: 'loss' | 'weights' = 'loss'): Promise<Fault> {
    const where = await this.locateNonFinite();
    const what = Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    const epochOfStep = Math.floor((step - 1) / this.stepsPerEpoch) + 1;
    const message =
      (in_ === 'loss' ? `the loss became ${what}` : 'the weights became NaN or Infinity') +
      ` at step ${step} (epoch ${epochOfStep})` +
      (where ? `; the first non-finite values are in ${where.what}` : '') +
      '. The weights were restored to the last good step. Try a smaller learning rate, gradient clipping, or BatchNorm';
    if (this.lastGood) this.restore(this.lastGood);
    this.fault = { step, epoch: epochOfStep, nodeId: where?.nodeId ?? null, message };
    this.onEvent({ type: 'fault', fault: this.fault });
    return this.fault;
  }

  /**
   * A kernel missing on the backend (TensorFlow.js throws "Kernel 'X' not registered")
   * becomes a clear fault instead of a crash; other errors are not ours to translate.
   */
  private kernelFault(e: unknown): Fault | null {
    const m = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(e instanceof Error ? e.message : String(e));
    if (!m) return null;
    this.fault = {
      step: this.globalStep + 1,
      epoch: this.epoch + 1,
      nodeId: null,
      message: `the operation ${m[1]} is not available on the ${m[2]} backend, so this graph cannot train there: choose another backend`,
    };
    if (this.lastGood) this.restore(this.lastGood);
    this.onEvent({ type: 'fault', fault: this.fault });
    return this.fault;
  }

  /** Find the first node, in graph order, whose weights or outputs hold NaN or Infinity. */
  private async locateNonFinite(): Promise<{ nodeId: string; what: string } | null> {
    const tf = this.tf;
    for (const node of this.plan.nodes) {
      for (const w of this.program.weights.filter((w) => w.nodeId === node.id)) {
        const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(w.variable))));
        const isBad = (await bad.data())[0] === 1;
        bad.dispose();
        if (isBad) return { nodeId: node.id, what: `the ${w.name} of ${node.title} ${node.name}` };
      }
    }
    const n = Math.min(this.train.n, 256);
    const flags = tf.tidy(() => {
      const r = this.program.forward({ x: this.train.x.slice(0, n), y: this.train.y.slice(0, n), training: false, seed: () => 0 });
      return tf.stack(this.plan.nodes.map((node) => {
        const outs = Object.values(r.outputs.get(node.id) ?? {});
        return outs.length ? tf.any(tf.logicalNot(tf.isFinite(tf.concat(outs.map((o) => tf.reshape(o, [-1])))))).toFloat() : tf.scalar(0);
      }));
    });
    const v = await flags.data();
    flags.dispose();
    const i = Array.from(v).findIndex((x) => x === 1);
    if (i < 0) return null;
    const node = this.plan.nodes[i]!;
    return { nodeId: node.id, what: `the output of ${node.title} ${node.name}` };
  }

  /** Validation, epoch record and early stopping. Returns true when training should stop early. */
  private async endEpoch(): Promise<boolean> {
    const tf = this.tf;
    this.epoch++;
    const seconds = (now() - this.epochStarted) / 1000;
    const correct = this.correctSum;
    this.correctSum = null;
    const val = this.val ? this.evaluate(this.val) : null;
    const parts = [correct ?? tf.scalar(NaN), val?.loss ?? tf.scalar(NaN), val?.correct ?? tf.scalar(NaN)];
    const packed = tf.stack(parts);
    const [trainCorrect, valLossSum, valCorrect] = Array.from(await packed.data());
    packed.dispose();
    for (const t of parts) t.dispose();
    const classification = this.plan.task === 'classification';
    const record: EpochRecord = {
      epoch: this.epoch,
      trainLoss: this.epochLossCount ? this.epochLossSum / this.epochLossCount : NaN,
      valLoss: this.val ? valLossSum! / this.val.n : null,
      trainAccuracy: classification ? trainCorrect! / this.dataset.train.n : null,
      valAccuracy: classification && this.val ? valCorrect! / this.val.n : null,
      // The rate the epoch's last step used (this.learningRate is already the next epoch's).
      learningRate: this.learningRateAtStep(Math.max(0, this.globalStep - 1)),
      seconds,
    };
    this.epochLossSum = 0;
    this.epochLossCount = 0;
    this.epochs_.push(record);
    this.onEvent({ type: 'epoch', record });
    const es = this.plan.training.earlyStopping;
    if (!es) return false;
    const monitored = record.valLoss ?? record.trainLoss;
    if (!this.best || monitored < this.best.loss - es.minDelta) {
      this.best?.weights.forEach((t) => t.dispose());
      this.best = { loss: monitored, weights: es.restoreBest ? this.program.weights.map((w) => tf.clone(w.variable)) : [], epoch: this.epoch };
      this.sinceBest = 0;
      return false;
    }
    this.sinceBest++;
    if (this.sinceBest < es.patience) return false;
    if (es.restoreBest && this.best.weights.length) this.restore(this.best.weights);
    return true;
  }

  /** Sum of losses × batch sizes and number correct over a split, as scalar tensors. */
  private evaluate(split: DeviceSplit, weights?: Tensor[]): { loss: Tensor; correct: Tensor | null } {
    const tf = this.tf;
    const out = tf.tidy(() => {
      const size = 512;
      let loss: Tensor = tf.scalar(0);
      let correct: Tensor = tf.scalar(0);
      for (let from = 0; from < split.n; from += size) {
        const m = Math.min(size, split.n - from);
        const x = split.x.slice(from, m);
        const y = split.y.slice(from, m);
        const r = this.program.forward({ x, y, training: false, seed: () => 0, fuse: true, ...(weights ? { weights } : {}) });
        loss = tf.add(loss, tf.mul(r.dataLoss, m));
        const c = this.correctCount(r.pred, y);
        if (c) correct = tf.add(correct, c);
      }
      return { loss, correct };
    });
    if (this.plan.task === 'classification') return out;
    out.correct.dispose();
    return { loss: out.loss, correct: null };
  }

  private emitProgress(): void {
    const elapsed = (now() - this.runStarted) / 1000;
    const sps = elapsed > 0 ? this.samplesDone / elapsed : 0;
    const stepsLeft = this.totalSteps - this.globalStep;
    const perStep = this.globalStep > 0 ? elapsed / this.globalStep : 0;
    this.onEvent({
      type: 'progress',
      progress: {
        // Progress follows a step, before endEpoch counts the epoch it may have finished.
        epoch: this.epoch + 1,
        epochs: this.epochs,
        step: this.globalStep,
        totalSteps: this.totalSteps,
        samplesPerSecond: sps,
        etaSeconds: stepsLeft * perStep,
        loss: this.lastLoss,
        learningRate: this.learningRate,
      },
    });
  }

  /** Outputs of the network (scores) for the given inputs, rows of the dataset's x shape. */
  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const tf = this.tf;
    const xt = tf.tensor(x, [n, ...this.dataset.info.xShape], 'float32');
    const out = this.program.predict(xt);
    const v = (await out.data()) as Float32Array;
    xt.dispose();
    out.dispose();
    return v;
  }

  /** Validation loss and accuracy of the current weights (inference mode). */
  async validate(): Promise<{ loss: number | null; accuracy: number | null }> {
    if (!this.val) return { loss: null, accuracy: null };
    const r = this.evaluate(this.val);
    const [l, c] = [(await r.loss.data())[0]!, r.correct ? (await r.correct.data())[0]! : null];
    r.loss.dispose();
    r.correct?.dispose();
    return { loss: l / this.val.n, accuracy: c === null ? null : c / this.val.n };
  }

  /**
   * For experiments: a seeded subset of `samples` training (or validation) examples, on the
   * device (all of them, in order, when `samples` covers the split). The caller disposes x, y.
   */
  evaluationSet(samples: number, seed: number, split: 'train' | 'validation' = 'train'): DeviceSplit {
    const tf = this.tf;
    const from = split === 'train' ? this.train : this.val;
    if (!from) throw new Error('the Dataset holds out no validation examples: raise its validation fraction or evaluate on the training set');
    if (samples >= from.n) return { x: tf.clone(from.x), y: tf.clone(from.y), n: from.n };
    const order = createRng(seed).shuffle(Int32Array.from({ length: from.n }, (_, i) => i)).subarray(0, samples);
    return tf.tidy(() => {
      const idx = tf.tensor1d(Int32Array.from(order).sort(), 'int32');
      return { x: tf.gather(from.x, idx), y: tf.gather(from.y, idx), n: samples };
    });
  }

  /**
   * For experiments: the inference-mode data loss (mean) and the number of correct predictions
   * (classification; null otherwise) over a set, of the given trainable weights (in the order
   * of `program.trainable`; the current ones when left out). Synchronous: scalar tensors the
   * caller disposes, so many evaluations can be read back at once.
   */
  evaluateOn(set: DeviceSplit, weights?: Tensor[]): { loss: Tensor; correct: Tensor | null } {
    const r = this.evaluate(set, weights);
    const mean = this.tf.div(r.loss, set.n);
    r.loss.dispose();
    return { loss: mean, correct: r.correct };
  }

  /** Copies of the trainable weights (order of `program.trainable`) at this moment; the caller disposes them. */
  cloneTrainable(): Tensor[] {
    return this.program.trainable.map((w) => this.tf.clone(w.variable));
  }

  /** Copies of every weight, running statistics included (order of `program.weights`); the caller disposes them. */
  cloneWeights(): Tensor[] {
    return this.program.weights.map((w) => this.tf.clone(w.variable));
  }

  /** Set every weight (order of `program.weights`, as `cloneWeights` gives them); the tensors stay the caller's. */
  assignWeights(values: Tensor[]): void {
    if (values.length !== this.program.weights.length) throw new Error(`internal: expected ${this.program.weights.length} weights, got ${values.length}`);
    this.restore(values);
  }

  /** The trained weights, for the document's `weights` block. */
  async exportWeights(): Promise<WeightsBlock> {
    // Copy every weight at once, before the first await, so a kernel and its bias come from
    // the same step even while training goes on.
    const step = this.globalStep;
    const epoch = this.epoch;
    const copies = this.program.weights.map((w) => ({ w, copy: this.tf.clone(w.variable) }));
    const tensors: WeightsBlock['tensors'] = {};
    try {
      for (const { w, copy } of copies) {
        const values = (await copy.data()) as Float32Array;
        (tensors[w.nodeId] ??= {})[w.name] = { shape: [...w.variable.shape], dtype: 'float32', data: encodeFloat32(values) };
      }
    } finally {
      for (const { copy } of copies) copy.dispose();
    }
    return { step, epoch, backend: this.backend, savedAt: new Date().toISOString(), tensors };
  }

  /**
   * Load weights saved in a document (to continue training or to predict). Every weight of
   * the graph must be present with its shape; otherwise nothing is changed and the error
   * names the node. The optimizer's moments start afresh.
   */
  importWeights(block: WeightsBlock): void {
    const tf = this.tf;
    const values: Float32Array[] = [];
    const planNodes = new Map(this.plan.nodes.map((n) => [n.id, n]));
    for (const w of this.program.weights) {
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
      values.push(v);
    }
    this.program.weights.forEach((w, i) => {
      const t = tf.tensor(values[i]!, w.variable.shape, 'float32');
      w.variable.assign(t);
      t.dispose(); // the variable keeps its own reference to the data
    });
    // Saved weights may predate the masks: pruned connections stay pruned.
    this.program.applyMasks();
    // The run continues from these weights as a new run: its step count starts at 0 (so
    // maxSteps and epochs mean "this many more"); the optimizer's moments start afresh.
    this.resumedFrom = { step: block.step, epoch: block.epoch };
    this.optimizer.reset();
  }

  runRecord(status: RunStatus): RunRecord {
    const t = this.plan.training;
    const settings: Record<string, JsonValue> = {
      optimizer: t.optimizer.kind,
      learningRate: this.learningRateBase,
      schedule: t.schedule.schedule,
      batchSize: t.batchSize,
      epochs: this.epochs,
      clip: t.clip.mode,
      penalties: t.penalties.map((p) => `${p.kind}(${Object.values(p.params).join(', ')})`),
      earlyStopping: t.earlyStopping ? t.earlyStopping.patience : null,
      dataset: this.plan.dataset.params.source,
      samples: this.plan.dataset.params.samples,
      steps: this.globalStep,
      resumedFromStep: this.resumedFrom?.step ?? null,
    };
    return {
      id: `run-${this.startedAt}`,
      startedAt: this.startedAt,
      status,
      backend: this.backend,
      seed: this.seed,
      settings,
      epochs: [...this.epochs_],
      stepLoss: [...this.stepLoss],
      ...(this.fault ? { message: this.fault.message } : {}),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    this.program.dispose();
    this.optimizer.dispose();
    for (const t of [this.train.x, this.train.y, this.val?.x, this.val?.y, this.correctSum, ...this.pendingLosses, ...(this.lastGood ?? []), ...(this.best?.weights ?? [])]) t?.dispose();
    this.pendingLosses = [];
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
