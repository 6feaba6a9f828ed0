/**
 * The live run: a store the canvas and dashboard read (kept apart from the document store,
 * so instrumentation updates never re-render the graph), and the client that drives the
 * training worker.
 */
import { createStore } from 'zustand/vanilla';
import type { EpochRecord, ExperimentResult, GraphDocument, JsonValue, RunRecord, WeightsBlock } from '../../core/graph/document.ts';
import { createExperimentStore } from '../experiments/state.ts';
import type { Instrumentation } from '../../core/train/instrument.ts';
import type { Fault, Progress } from '../../core/train/trainer.ts';
import type { BackendPreference, DataPoints, FromWorker, ToWorker, Views } from './protocol.ts';

/**
 * What the app's training session is doing now; not to be confused with a finished run's
 * status (RunRecord['status'], the trainer's RunStatus).
 */
export type SessionStatus = 'idle' | 'starting' | 'running' | 'paused' | 'finished' | 'failed';

/** A live run holds the graph: starting, running or paused. */
export function isLiveStatus(status: SessionStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'paused';
}

export interface HistogramFrame {
  step: number;
  min: number;
  max: number;
  counts: number[];
}

export interface RunState {
  status: SessionStatus;
  backendPreference: BackendPreference;
  /** The WASM thread pool the user chose (1..8), null for the default (core/train/wasm-threads.ts). */
  threadsPreference: number | null;
  backend: string | null;
  /** Threads the backend computes on (WASM's XNNPACK pool), null where not known. */
  threads: number | null;
  fallbacks: string[];
  progress: Progress | null;
  epochs: EpochRecord[];
  /** (step, loss) pairs read back so far. */
  stepLoss: { step: number; loss: number }[];
  instrumentation: Instrumentation | null;
  /** Weight histograms over time per layer (TensorBoard-style), capped. */
  histories: Record<string, HistogramFrame[]>;
  views: Views | null;
  points: DataPoints | null;
  task: 'classification' | 'regression' | null;
  classes: number;
  fault: Fault | null;
  error: string | null;
  /** The last good weights the worker reported (epoch ends, pause, end of run, faults). */
  checkpoint: WeightsBlock | null;
  /** Finished runs of this session (also written into the document on save). */
  runs: RunRecord[];
  learningRate: number | null;
  /** What the small histograms on edges show. */
  histogramMode: 'weights' | 'activations' | 'gradients';
  /** The step at which the worker's loop last stopped for a pause (confirmed, not requested). */
  pausedAt: number | null;
  /** Validation metrics of the last evaluation of trained weights (without training). */
  evaluation: { loss: number | null; accuracy: number | null; backend: string; step: number } | null;
}

const initial: Omit<RunState, 'backendPreference' | 'threadsPreference' | 'runs' | 'checkpoint' | 'histogramMode'> = {
  status: 'idle',
  backend: null,
  threads: null,
  fallbacks: [],
  progress: null,
  epochs: [],
  stepLoss: [],
  instrumentation: null,
  histories: {},
  views: null,
  points: null,
  task: null,
  classes: 0,
  fault: null,
  error: null,
  learningRate: null,
  evaluation: null,
  pausedAt: null,
};

export const HISTORY_FRAMES = 120;

/** The runs saved in the file followed by this session's runs, each once (a saved run is also a session run). */
export function mergeRuns(fileRuns: RunRecord[] | undefined, sessionRuns: RunRecord[]): RunRecord[] {
  const known = new Set((fileRuns ?? []).map((r) => r.id));
  return [...(fileRuns ?? []), ...sessionRuns.filter((r) => !known.has(r.id))];
}

/** What the worker needs of a document: the graph and its pruning masks (not runs or metadata). */
function graphOf(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'masks'>): Pick<GraphDocument, 'nodes' | 'edges' | 'masks'> {
  return { nodes: doc.nodes, edges: doc.edges, ...(doc.masks ? { masks: doc.masks } : {}) };
}

export function createRunStore() {
  return createStore<RunState>()(() => ({ ...initial, backendPreference: 'auto', threadsPreference: null, runs: [], checkpoint: null, histogramMode: 'weights' }));
}
export type RunStore = ReturnType<typeof createRunStore>;

/** URLs the worker needs, resolved against the page (works for http:// and the app's custom protocol). */
export interface AssetUrls {
  mnistUrl: string;
  wasmUrls: Record<string, string>;
}

export class TrainingClient {
  private worker: Worker | null = null;
  /** The thread preference changed: the idle worker is replaced before its next use (a started pool cannot change size). */
  private replaceWorker = false;
  private nextRequest = 1;
  private pending = new Map<number, (m: FromWorker) => void>();
  /** The experiment running in the worker (the Experiments panel reads it). */
  readonly experiments = createExperimentStore();
  private experimentRequest = 0;

  constructor(
    readonly store: RunStore,
    private readonly assets: AssetUrls,
    private readonly createWorker: () => Worker,
  ) {}

  get live(): boolean {
    return isLiveStatus(this.store.getState().status);
  }

  /** Start a run on `doc`, from `weights` when given (continue) or from fresh initial weights. */
  start(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'masks'>, weights: WeightsBlock | null): void {
    this.ensureWorker();
    const s = this.store.getState();
    this.store.setState({ ...initial, status: 'starting', backendPreference: s.backendPreference, threadsPreference: s.threadsPreference, checkpoint: weights, runs: s.runs, learningRate: s.learningRate, histogramMode: s.histogramMode });
    this.send({
      type: 'start',
      doc: graphOf(doc),
      backend: s.backendPreference,
      weights,
      mnistUrl: this.assets.mnistUrl,
      wasmUrls: this.assets.wasmUrls,
      intervalMs: 200,
      ...(s.learningRate ? { learningRate: s.learningRate } : {}),
      ...this.threadsField(),
    });
  }

  pause(): void {
    if (this.store.getState().status !== 'running') return;
    this.send({ type: 'pause' });
    this.store.setState({ status: 'paused' });
  }
  resume(): void {
    if (this.store.getState().status !== 'paused') return;
    this.send({ type: 'resume' });
    this.store.setState({ status: 'running', pausedAt: null });
  }
  step(): void {
    if (this.store.getState().status === 'paused') this.send({ type: 'step' });
  }
  stop(): void {
    if (this.live) this.send({ type: 'stop' });
  }
  setLearningRate(value: number): void {
    this.store.setState({ learningRate: value });
    if (this.live) this.send({ type: 'setLearningRate', value });
  }
  /** Show the feature maps of validation example `index` on the Conv2D nodes. */
  setViewExample(index: number): void {
    if (this.worker) this.send({ type: 'setViewExample', index });
  }
  setBackend(pref: BackendPreference): void {
    this.store.setState({ backendPreference: pref });
  }
  /**
   * The WASM backend's thread pool for the next run (null: the default). A started pool
   * cannot change size, so an idle worker is replaced by a fresh one on the next run (the
   * trained weights are the checkpoint's, which the run starts from anyway).
   */
  setThreads(threads: number | null): void {
    if (this.live || this.experiments.getState().running || threads === this.store.getState().threadsPreference) return;
    this.store.setState({ threadsPreference: threads });
    this.replaceWorker = this.worker !== null;
  }
  private threadsField(): { wasmThreads?: number } {
    const t = this.store.getState().threadsPreference;
    return t === null ? {} : { wasmThreads: t };
  }
  /** Which histograms the edges show: of the weights, the activations or the gradients. */
  setHistogramMode(mode: RunState['histogramMode']): void {
    this.store.setState({ histogramMode: mode });
  }
  /** Forget trained weights and the current run's curves: the next run starts from fresh initial weights. */
  resetWeights(): void {
    if (this.live) return;
    const s = this.store.getState();
    // The worker's trainer holds the weights too: drop it, so nothing exports them later.
    this.worker?.postMessage({ type: 'reset' } satisfies ToWorker);
    this.store.setState({ ...initial, backendPreference: s.backendPreference, threadsPreference: s.threadsPreference, runs: s.runs, checkpoint: null, histogramMode: s.histogramMode });
  }

  /** The current weights, straight from the worker (or the last checkpoint when it has none). */
  async exportWeights(): Promise<WeightsBlock | null> {
    // Outside a run the checkpoint is the truth (the worker may hold a trainer being replaced).
    if (!this.worker || !this.live) return this.store.getState().checkpoint;
    const reply = await this.request({ type: 'exportWeights', requestId: 0 });
    return reply.type === 'weights' ? (reply.weights ?? this.store.getState().checkpoint) : this.store.getState().checkpoint;
  }

  /** Measure `weights` on the validation set and show their views, without training. */
  async evaluate(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'masks'>, weights: WeightsBlock | null): Promise<RunState['evaluation']> {
    if (this.live) return null;
    const s = this.store.getState();
    this.store.setState({ status: 'starting', error: null, fault: null });
    const reply = await this.request({ type: 'evaluate', requestId: 0, doc: graphOf(doc), weights, backend: s.backendPreference, mnistUrl: this.assets.mnistUrl, wasmUrls: this.assets.wasmUrls, ...this.threadsField() });
    if (reply.type !== 'evaluated') {
      this.store.setState({ status: 'failed' });
      return null;
    }
    const evaluation = { loss: reply.loss, accuracy: reply.accuracy, backend: reply.backend, step: reply.step };
    this.store.setState({ status: 'idle', evaluation, ...(weights ? { checkpoint: weights } : {}) });
    return evaluation;
  }

  /**
   * Run an experiment in the worker on `doc` from `weights`. Resolves with its result (null
   * when it was cancelled before computing anything); refuses while training runs.
   */
  async runExperiment(doc: GraphDocument, weights: WeightsBlock | null, name: string, settings: Record<string, JsonValue>, seed: number): Promise<ExperimentResult | null> {
    if (this.live || this.experiments.getState().running) return null;
    const ex = this.experiments;
    ex.setState({ running: { name, settings, seed }, paused: false, done: 0, total: 0, partial: null, backend: null, error: null });
    const s = this.store.getState();
    const reply = await this.request({ type: 'experiment', requestId: 0, name, settings, seed, doc, weights, backend: s.backendPreference, mnistUrl: this.assets.mnistUrl, wasmUrls: this.assets.wasmUrls, ...this.threadsField() }, (requestId) => {
      this.experimentRequest = requestId;
    });
    const error = reply.type === 'experimentDone' ? reply.error : reply.type === 'error' ? reply.message : null;
    ex.setState({ running: null, paused: false, partial: null, error });
    return reply.type === 'experimentDone' ? reply.result : null;
  }
  pauseExperiment(): void {
    if (!this.experiments.getState().running) return;
    this.send({ type: 'experimentControl', action: 'pause' });
    this.experiments.setState({ paused: true });
  }
  resumeExperiment(): void {
    if (!this.experiments.getState().running) return;
    this.send({ type: 'experimentControl', action: 'resume' });
    this.experiments.setState({ paused: false });
  }
  cancelExperiment(): void {
    if (this.experiments.getState().running) this.send({ type: 'experimentControl', action: 'cancel' });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private request(m: Extract<ToWorker, { requestId: number }>, onId?: (requestId: number) => void): Promise<FromWorker> {
    const requestId = this.nextRequest++;
    onId?.(requestId);
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.send({ ...m, requestId });
    });
  }

  private send(m: ToWorker): void {
    this.ensureWorker().postMessage(m);
  }

  private ensureWorker(): Worker {
    if (this.worker && this.replaceWorker && this.pending.size === 0) {
      this.worker.terminate();
      this.worker = null;
    }
    if (this.worker) return this.worker;
    this.replaceWorker = false;
    const w = this.createWorker();
    w.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      this.crashed(e.message || 'the training worker stopped unexpectedly');
    };
    w.onmessageerror = () => this.crashed('a message from the training worker could not be read');
    this.worker = w;
    return w;
  }

  /** The worker died: keep the document and the last good weights; a new worker starts on the next run. */
  private crashed(message: string): void {
    this.worker?.terminate();
    this.worker = null;
    for (const resolve of this.pending.values()) resolve({ type: 'error', message, fatal: true });
    this.pending.clear();
    this.store.setState({ status: 'failed', error: `Training stopped: ${message}. Your graph is unchanged${this.store.getState().checkpoint ? ' and the last good weights are kept: press Train to continue, on this or another backend' : ''}.` });
  }

  private receive(m: FromWorker): void {
    const set = this.store.setState;
    switch (m.type) {
      case 'started':
        set({ status: m.mode === 'train' ? 'running' : 'starting', backend: m.backend, threads: m.threads, fallbacks: m.fallbacks, points: m.points, task: m.task, classes: m.classes });
        break;
      case 'instrumentation': {
        const histories = { ...this.store.getState().histories };
        for (const [id, layer] of Object.entries(m.data.layers)) {
          const frames = histories[id] ? [...histories[id]!] : [];
          frames.push({ step: m.data.step, ...layer.weights });
          if (frames.length > HISTORY_FRAMES) frames.splice(0, frames.length - HISTORY_FRAMES);
          histories[id] = frames;
        }
        set({ instrumentation: m.data, histories });
        break;
      }
      case 'views':
        set({ views: m.views });
        break;
      case 'checkpoint':
        set({ checkpoint: m.weights });
        break;
      case 'experimentProgress':
        if (m.requestId === this.experimentRequest) this.experiments.setState({ done: m.done, total: m.total, partial: m.partial, backend: m.backend });
        break;
      case 'weights':
      case 'evaluated':
      case 'experimentDone': {
        const resolve = this.pending.get(m.requestId);
        this.pending.delete(m.requestId);
        resolve?.(m);
        break;
      }
      case 'error':
        if (m.fatal) {
          // The worker's backend may be unusable (a lost GPU device): start the next run in a fresh worker.
          this.worker?.terminate();
          this.worker = null;
          set({ error: m.message, status: 'failed' });
        } else set({ error: m.message, ...(this.store.getState().status === 'starting' ? { status: 'failed' as const } : {}) });
        for (const resolve of this.pending.values()) resolve(m);
        this.pending.clear();
        break;
      case 'event': {
        const e = m.event;
        if (e.type === 'progress') {
          const stepLoss = this.store.getState().stepLoss;
          const next = Number.isFinite(e.progress.loss) ? [...stepLoss, { step: e.progress.step, loss: e.progress.loss }] : stepLoss;
          set({ progress: e.progress, stepLoss: next.length > 4000 ? next.filter((_, i) => i % 2 === 0) : next });
        } else if (e.type === 'epoch') {
          set({ epochs: [...this.store.getState().epochs, e.record] });
        } else if (e.type === 'paused') {
          set({ pausedAt: e.step });
        } else if (e.type === 'fault') {
          set({ fault: e.fault });
        } else if (e.type === 'done') {
          const failed = e.status === 'failed';
          set({ status: failed ? 'failed' : 'finished', runs: [...this.store.getState().runs, e.run] });
        }
        break;
      }
    }
  }
}
