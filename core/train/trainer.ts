/**
 * The training loop: epochs and batches with the graph's optimizer, schedule, clipping,
 * penalties and early stopping; pause, resume, single step and stop; progress, metrics and
 * instrumentation events; NaN faults; trained weights and run records. It runs the same in
 * Node (CLI, tests), in a page and in a Web Worker. All values come back from the device
 * with `await data()`, batched and throttled, never with a per-step synchronous read.
 */
import { DEFAULT_MEMORY_LIMIT, estimateMemory, memoryProblem } from '../compile/memory.ts';
import { compilePlan, type Plan } from '../compile/plan.ts';
import { Program } from '../compile/program.ts';
import { epochBatches, type EpochPlan } from '../data/dataset.ts';
import type { Rng } from '../data/rng.ts';
import { buildData } from '../data/sources.ts';
import type { Dataset } from '../data/types.ts';
import type { EpochRecord, GraphDocument, RunRecord, WeightsBlock } from '../graph/document.ts';
import type { DataResources, Tensor, TF } from '../graph/types.ts';
import type { MaskSet } from '../io/masks.ts';
import { assignWeightsBlock, readWeightsBlock } from '../io/program-weights.ts';
import { runStreams } from '../io/weights.ts';
import { now, yieldToEventLoop } from './clock.ts';
import { sampleSplit, uploadSplit, type Batch, type DeviceSplit } from './device-data.ts';
import { EarlyStopper } from './early-stopping.ts';
import { evaluateSums, evaluationChunks, evaluationRows, nodeOutputs, type GivenOutputs } from './evaluate.ts';
import { kernelFault, locateNonFinite, nonFiniteFault, type Fault } from './faults.ts';
import { InstrumentBudget } from './instrument-budget.ts';
import { DEFAULT_BINS, unpackInstrumentation, type Instrumentation, type InstrumentLayout } from './instrument.ts';
import { createOptimizer, type Optimizer } from './optimizers.ts';
import { RunLog } from './run-log.ts';
import { learningRateAt } from './schedule.ts';
import { trainStep, type StepContext, type StepResult } from './step.ts';

// The pieces a run is made of, for callers that import them from the trainer.
export type { DeviceSplit } from './device-data.ts';
export type { GivenOutputs } from './evaluate.ts';
export type { Fault } from './faults.ts';

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
   * Instead of counting steps, read back at most this often (ms), and instrument those
   * steps as often as keeps instrumentation within 5 % of the time (instrument-budget.ts):
   * the app uses it to update the canvas at a steady 5–10 Hz whatever the speed of the
   * backend, and the edges as often as that budget allows.
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
  /**
   * Most activations (float32 values, every node's outputs together) one pass holds when a
   * whole set is evaluated (default 2²³, 32 MB): the set goes through in chunks of as many
   * rows as fit, at least 512 (core/train/evaluate.ts evaluationRows).
   */
  evaluationFloats?: number;
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
  private readonly readEvery: number;
  private readonly instrumentEvery: number;
  private readonly intervalMs: number | null;
  private lastRead = 0;
  /** Keeps a time-paced run's instrumentation within 5 % of its time (instrument-budget.ts). */
  private readonly budget = new InstrumentBudget();
  private readonly maxSteps: number;
  /** Rows per forward pass when a whole set is evaluated (evaluationRows). */
  private readonly evalRows: number;
  private readonly instrumentOn: boolean;
  private readonly onEvent: (e: TrainEvent) => void;
  private readonly onStep: ((step: number) => void) | null;
  private readonly train: DeviceSplit;
  private readonly val: DeviceSplit | null;
  private learningRateBase: number;
  private readonly instrumentLayout: InstrumentLayout;
  /** What one optimizer step reads (step.ts). */
  private readonly stepContext: StepContext;
  private readonly earlyStopper: EarlyStopper | null;
  private readonly log = new RunLog();

  // Run state.
  private epoch = 0;
  private batchInEpoch = 0;
  private epochPlan: EpochPlan | null = null;
  private globalStep = 0;
  private stopRequested = false;
  private paused = false;
  private pauseWaiters: (() => void)[] = [];
  private stepsAllowed = 0;
  private pendingLosses: Tensor[] = [];
  private correctSum: Tensor | null = null;
  private lastGood: Tensor[] | null = null;
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
    this.evalRows = evaluationRows(plan, o.evaluationFloats);
    this.instrumentOn = o.instrument ?? true;
    this.onEvent = o.onEvent ?? (() => {});
    this.backend = o.backend ?? tf.getBackend();
    // The same streams, in the same order, as initialWeights (core/io/weights.ts) uses, so
    // an export of an untrained graph holds the weights this run starts from.
    const streams = runStreams(this.seed);
    this.rng = streams.batches;
    this.program = new Program(tf, plan, streams.weights);
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
      bins: o.bins ?? DEFAULT_BINS,
    };
    this.train = uploadSplit(tf, dataset, dataset.train);
    this.val = dataset.val.n > 0 ? uploadSplit(tf, dataset, dataset.val) : null;
    const bs = plan.training.batchSize;
    this.stepsPerEpoch = bs === 0 ? 1 : Math.ceil(dataset.train.n / bs);
    this.stepContext = { tf, plan, program: this.program, optimizer: this.optimizer, dataset, train: this.train, dropoutRng: streams.dropout, instrumentLayout: this.instrumentLayout };
    this.earlyStopper = plan.training.earlyStopping ? new EarlyStopper(plan.training.earlyStopping) : null;
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
          const missing = kernelFault(e, this.globalStep + 1, this.epoch + 1);
          if (!missing) throw e;
          fault = this.failWith(missing);
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

  private nextBatch(): Batch {
    if (!this.epochPlan || this.batchInEpoch === 0) {
      this.epochPlan = epochBatches(this.dataset.train, this.plan.training.batchSize, this.rng);
      this.epochStarted = now();
    }
    const range = this.epochPlan.batches[this.batchInEpoch]!;
    return { order: this.epochPlan.order, from: range.from, to: range.to };
  }

  /** One optimizer step; every readEvery steps, read back and check. Returns a fault, if any. */
  private async trainOneBatch(): Promise<Fault | null> {
    const tf = this.tf;
    const batch = this.nextBatch();
    const started = now();
    const due = this.intervalMs !== null ? started - this.lastRead >= this.intervalMs : null;
    // Paced by steps (the command line): every instrumentEvery-th step, reproducibly. Paced by
    // time (the app): a due step, as often as the instrumentation budget allows.
    const instrumentNow = this.instrumentOn && (due === null ? (this.globalStep + 1) % this.instrumentEvery === 0 : due && this.budget.allows(started));
    const lr = this.learningRate;
    let stepResult!: StepResult;
    // Everything the step returns is tf.keep()-ed; the rest of its tensors go with the tidy.
    tf.tidy(() => {
      stepResult = trainStep(this.stepContext, batch, lr, instrumentNow);
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
      const instrumented = stepResult.instrumentation !== undefined;
      const fault = await this.flushLosses(stepResult.instrumentation ?? null);
      if (fault) return fault;
      if (due !== null) {
        const ms = now() - started;
        if (instrumented) this.budget.instrumented(started, ms);
        else this.budget.plain(ms);
      }
      this.emitProgress();
      await yieldToEventLoop();
    }
    return null;
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
      this.log.addStepLoss(v);
    }
    if (Number.isNaN(values[losses.length]!)) return this.raiseFault(this.globalStep, NaN, 'weights');
    this.snapshotGood();
    // Read right after a step, before endEpoch counts the epoch it may have finished.
    if (instr) this.onEvent({ type: 'instrumentation', data: unpackInstrumentation(this.instrumentLayout, instr, this.globalStep, this.epoch + 1) });
    return null;
  }

  /** Keep a copy of the weights known to give finite losses, to fall back on after a NaN. */
  private snapshotGood(): void {
    const old = this.lastGood;
    this.lastGood = this.cloneWeights();
    old?.forEach((t) => t.dispose());
  }

  private restore(weights: Tensor[]): void {
    this.program.weights.forEach((w, i) => w.variable.assign(weights[i]!));
  }

  /** Record a fault, fall back on the last good weights and tell the listener. */
  private failWith(fault: Fault): Fault {
    if (this.lastGood) this.restore(this.lastGood);
    this.fault = fault;
    this.onEvent({ type: 'fault', fault });
    return fault;
  }

  private async raiseFault(step: number, value: number, in_: 'loss' | 'weights' = 'loss'): Promise<Fault> {
    const where = await locateNonFinite(this.program, this.train);
    return this.failWith(nonFiniteFault(step, this.stepsPerEpoch, value, in_, where));
  }

  /** Validation, epoch record and early stopping. Returns true when training should stop early. */
  private async endEpoch(): Promise<boolean> {
    const tf = this.tf;
    this.epoch++;
    const seconds = (now() - this.epochStarted) / 1000;
    const correct = this.correctSum;
    this.correctSum = null;
    const val = this.val ? evaluateSums(this.program, this.val, undefined, { rows: this.evalRows }) : null;
    const parts = [correct ?? tf.scalar(NaN), val?.loss ?? tf.scalar(NaN), val?.correct ?? tf.scalar(NaN)];
    const packed = tf.stack(parts);
    const [trainCorrect, valLossSum, valCorrect] = Array.from(await packed.data());
    packed.dispose();
    for (const t of parts) t.dispose();
    const classification = this.plan.task === 'classification';
    const record: EpochRecord = {
      epoch: this.epoch,
      trainLoss: this.log.takeEpochLoss(),
      valLoss: this.val ? valLossSum! / this.val.n : null,
      trainAccuracy: classification ? trainCorrect! / this.dataset.train.n : null,
      valAccuracy: classification && this.val ? valCorrect! / this.val.n : null,
      // The rate the epoch's last step used (this.learningRate is already the next epoch's).
      learningRate: this.learningRateAtStep(Math.max(0, this.globalStep - 1)),
      seconds,
    };
    this.log.addEpoch(record);
    this.onEvent({ type: 'epoch', record });
    const best = this.earlyStopper?.update(record.valLoss ?? record.trainLoss, () => this.cloneWeights());
    if (!best) return false;
    if (best.length) this.restore(best);
    return true;
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
        loss: this.log.lastLoss,
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
    const r = evaluateSums(this.program, this.val, undefined, { rows: this.evalRows });
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
    const from = split === 'train' ? this.train : this.val;
    if (!from) throw new Error('the Dataset holds out no validation examples: raise its validation fraction or evaluate on the training set');
    return sampleSplit(this.tf, from, samples, seed);
  }

  /**
   * For experiments: the inference-mode data loss (mean) and the number of correct predictions
   * (classification; null otherwise) over a set, of the given trainable weights (in the order
   * of `program.trainable`; the current ones when left out). Synchronous: scalar tensors the
   * caller disposes, so many evaluations can be read back at once. `given` supplies the
   * outputs of some nodes (ForwardOptions.given) for each chunk of the set.
   */
  evaluateOn(set: DeviceSplit, weights?: Tensor[], given?: GivenOutputs): { loss: Tensor; correct: Tensor | null } {
    const r = evaluateSums(this.program, set, weights, { rows: this.evalRows, ...(given ? { given } : {}) });
    const mean = this.tf.div(r.loss, set.n);
    r.loss.dispose();
    return { loss: mean, correct: r.correct };
  }

  /**
   * For experiments: the inference-mode outputs of the given nodes over a whole set (rows in
   * the set's order, by node id and port), with the given trainable weights (the current ones
   * when left out), before any fused activation. Synchronous; the caller disposes the tensors.
   */
  nodeOutputs(set: DeviceSplit, nodeIds: readonly string[], weights?: Tensor[]): Map<string, Record<string, Tensor>> {
    return nodeOutputs(this.program, set, nodeIds, this.evalRows, weights);
  }

  /** For experiments: the rows [from, from + m) of each chunk an evaluation of `set` passes through the network (what a GivenOutputs is asked for). */
  evaluationChunks(set: DeviceSplit): { from: number; m: number }[] {
    return evaluationChunks(set.n, this.evalRows);
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
    return readWeightsBlock(this.program, { step: this.globalStep, epoch: this.epoch, backend: this.backend });
  }

  /**
   * Load weights saved in a document (to continue training or to predict). Every weight of
   * the graph must be present with its shape; otherwise nothing is changed and the error
   * names the node. The optimizer's moments start afresh.
   */
  importWeights(block: WeightsBlock): void {
    assignWeightsBlock(this.program, block);
    // Saved weights may predate the masks: pruned connections stay pruned.
    this.program.applyMasks();
    // The run continues from these weights as a new run: its step count starts at 0 (so
    // maxSteps and epochs mean "this many more"); the optimizer's moments start afresh.
    this.resumedFrom = { step: block.step, epoch: block.epoch };
    this.optimizer.reset();
  }

  runRecord(status: RunStatus): RunRecord {
    return this.log.record(status, {
      plan: this.plan,
      backend: this.backend,
      seed: this.seed,
      epochs: this.epochs,
      learningRate: this.learningRateBase,
      steps: this.globalStep,
      resumedFromStep: this.resumedFrom?.step ?? null,
      ...(this.fault ? { message: this.fault.message } : {}),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    this.program.dispose();
    this.optimizer.dispose();
    this.earlyStopper?.dispose();
    for (const t of [this.train.x, this.train.y, this.val?.x, this.val?.y, this.correctSum, ...this.pendingLosses, ...(this.lastGood ?? [])]) t?.dispose();
    this.pendingLosses = [];
  }
}
