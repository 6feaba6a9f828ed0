/**
 * The experiments framework: an experiment runs many evaluations or trainings of the user's
 * graph (a loss landscape, λmax of the Hessian, the BatchNorm comparison, lottery tickets)
 * and leaves a result in the document's `experiments` block, with its settings, seed and
 * backend, so a shared file shows the same plots. The same runner works in Node (CLI,
 * tests) and in the app's worker, with progress, pause and cancel.
 *
 * HOW TO ADD AN EXPERIMENT (one file, nothing else changes):
 *   1. Create core/experiments/<name>.ts exporting `defineExperiment({...})`:
 *      - `name` (the CLI word: `gradflow experiment <name>`), `title`, `summary`;
 *      - `settings`: ParamSpecs (core/graph/params.ts) with defaults, ranges and help text,
 *        validated exactly like node parameters; each key is also a CLI flag (camelCase
 *        becomes --kebab-case);
 *      - `data`: a zod schema of what the result stores (JSON: numbers, strings, lists,
 *        null for values not computed), and `dataVersion` (raise it when that shape changes,
 *        and teach `upgrade` to read the older one);
 *      - `check(doc)`: why it cannot run on this graph (or null);
 *      - `run(ctx, settings)`: the computation, built on `ctx.trainer()` (a Trainer with the
 *        graph's weights loaded: `evaluationSet`, `evaluateOn`, `cloneTrainable`,
 *        `program.forward`, `run`, weights in and out). Await `ctx.checkpoint()` between units
 *        of work (that is where pause and cancel act) and call `ctx.progress(done, total,
 *        partial)`; `partial` is a valid `data` value shown while it runs and kept if the
 *        user cancels. Sync tensor code in tf.tidy; the framework disposes the trainers;
 *      - `describe(data)`: the lines `gradflow experiment` prints at the end.
 *   2. Add it to the list in core/experiments/registry.ts.
 *   3. Test it in tests/unit/experiments-<name>.test.ts (numbers the user relies on, tensor
 *      counts before and after, determinism with a seed).
 * The CLI, the file format (schema, save, load, damaged files), the worker and the app's
 * Experiments panel pick it up from the registry.
 */
import type { z } from 'zod';
import type { MnistData } from '../data/mnist.ts';
import { EXPERIMENTS_VERSION, type ExperimentResult, type GraphDocument, type JsonValue, type WeightsBlock } from '../graph/document.ts';
import { checkParam, defaultParams, type ParamSpec, type ParamSpecs, type ParamValue } from '../graph/params.ts';
import type { TF } from '../graph/types.ts';
import { Trainer, type TrainerOptions } from '../train/trainer.ts';

export type { ExperimentResult };

/** The settings object an experiment's `run` receives: every key of its specs, typed by their defaults. */
export type SettingsOf<S extends ParamSpecs> = { [K in keyof S]: S[K]['default'] };

/** What an experiment's `run` works with. */
export interface ExperimentContext {
  readonly tf: TF;
  /** The graph as it is (nodes, edges, trained weights, runs, earlier results). */
  readonly doc: GraphDocument;
  /** The seed of this result: every random choice of the experiment derives from it. */
  readonly seed: number;
  readonly backend: string;
  /**
   * A trainer for the graph (or a variant of it, e.g. another batch size), on the current
   * backend, with `weights` loaded (the document's trained weights unless told otherwise;
   * `null` keeps the initial weights). Disposed by the framework when the experiment ends.
   */
  trainer(o?: { doc?: Pick<GraphDocument, 'nodes' | 'edges'>; weights?: WeightsBlock | null; options?: TrainerOptions }): Trainer;
  /** Train a trainer to its end with pause and cancel of this experiment acting on it. */
  train(trainer: Trainer): ReturnType<Trainer['run']>;
  /** Waits while paused; throws ExperimentCancelled once cancelled. Await it between units of work. */
  checkpoint(): Promise<void>;
  /** Report progress; `partial` is a valid result so far (shown at once, kept on cancel). */
  progress(done: number, total: number, partial?: JsonRecord): void;
}

export type JsonRecord = { [key: string]: JsonValue };

/** One experiment: a pure plan (settings with help text, a result schema) and its runner. */
export interface ExperimentDef<S extends ParamSpecs = ParamSpecs, D extends JsonRecord = JsonRecord> {
  /** The CLI word and the result's `experiment` field, e.g. 'landscape'. */
  name: string;
  title: string;
  /** One sentence for lists and `--help`. */
  summary: string;
  settings: S;
  /** Version of the `data` layout; results of older versions go through `upgrade`. */
  dataVersion: number;
  data: z.ZodType<D>;
  /** Read the data of a result stored at an older `dataVersion` (throw to refuse it). */
  upgrade?: (data: JsonRecord, version: number) => JsonRecord;
  /** Why it cannot run on this graph, in words, or null. */
  check(doc: GraphDocument, settings: SettingsOf<S>): string | null;
  run(ctx: ExperimentContext, settings: SettingsOf<S>): Promise<D>;
  /** Lines summarising a result, for the terminal. */
  describe(data: D, settings: SettingsOf<S>): string[];
  /**
   * What a result changes in the graph when it is applied (the app's Apply, the CLI's
   * --save): e.g. the lottery ticket's pruning masks. Most experiments only measure.
   */
  apply?(doc: GraphDocument, data: D): GraphDocument;
  /** Trains the graph from its initial weights itself (lottery tickets), so trained weights in the file play no part. */
  trainsFromScratch?: boolean;
  /**
   * What the experiment does with the graph's weights under these settings, in one sentence
   * printed before it runs (e.g. "Trains four runs from the graph's initial weights: the
   * trained weights in the file are not used"), or null when it measures the weights it is
   * given (the trained ones, or the initial ones when there are none).
   */
  weightsNote?(settings: SettingsOf<S>): string | null;
}

/** Define an experiment with its settings and data types checked against each other. */
export function defineExperiment<S extends ParamSpecs, D extends JsonRecord>(def: ExperimentDef<S, D>): ExperimentDef<S, D> {
  return def;
}

/** Thrown by `checkpoint()` once an experiment is cancelled. */
export class ExperimentCancelled extends Error {
  constructor() {
    super('the experiment was cancelled');
    this.name = 'ExperimentCancelled';
  }
}

/** Pause, resume and cancel a running experiment (from the CLI's Ctrl+C or the worker's messages). */
export class ExperimentControl {
  private paused_ = false;
  private cancelled_ = false;
  private waiters: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();
  get paused(): boolean {
    return this.paused_;
  }
  get cancelled(): boolean {
    return this.cancelled_;
  }
  pause(): void {
    this.paused_ = true;
    this.notify();
  }
  resume(): void {
    this.paused_ = false;
    this.wake();
    this.notify();
  }
  cancel(): void {
    this.cancelled_ = true;
    this.wake();
    this.notify();
  }
  /** Resolves when not paused; throws when cancelled. */
  async checkpoint(): Promise<void> {
    while (true) {
      if (this.cancelled_) throw new ExperimentCancelled();
      if (!this.paused_) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  /** Called on every pause, resume or cancel (the runner forwards them to a training run). */
  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  private notify(): void {
    for (const f of this.listeners) f();
  }
}

export type SettingsResult<S extends ParamSpecs> = { ok: true; settings: SettingsOf<S> } | { ok: false; error: string };

/**
 * Check settings against the experiment's specs, like node parameters: unknown keys and
 * values out of range are refused with a message naming the setting; missing ones take
 * their defaults.
 */
export function parseSettings<S extends ParamSpecs>(def: ExperimentDef<S, JsonRecord>, raw: Record<string, unknown>): SettingsResult<S> {
  const specs = def.settings as ParamSpecs;
  for (const key of Object.keys(raw)) {
    if (!(key in specs)) return { ok: false, error: `${def.name} has no setting "${key}" (it has ${Object.keys(specs).map((k) => `"${k}"`).join(', ')})` };
  }
  const out = defaultParams(specs);
  for (const [key, spec] of Object.entries(specs)) {
    if (!(key in raw) || raw[key] === undefined) continue;
    const problem = checkParam(spec, raw[key]);
    if (problem) return { ok: false, error: `${def.name} setting ${key} (${spec.label}): ${problem}` };
    out[key] = raw[key] as ParamValue;
  }
  return { ok: true, settings: out as SettingsOf<S> };
}

/** Turn the text of a command-line value into the type its spec wants (checked afterwards by parseSettings). */
export function settingFromText(spec: ParamSpec, text: string): unknown {
  switch (spec.type) {
    case 'int':
    case 'number':
      // Text that is no number stays text, so the message quotes what was typed.
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' || text === '' ? true : text === 'false' ? false : text;
    case 'shape':
      return text.split(',').map((s) => Number(s.trim()));
    case 'strings':
      return text.split(',').map((s) => s.trim());
    default:
      return text;
  }
}

export interface RunExperimentOptions {
  tf: TF;
  doc: GraphDocument;
  /** Raw settings (from the CLI, the app or a test); checked with parseSettings. */
  settings?: Record<string, unknown>;
  seed?: number;
  backend?: string;
  mnist?: MnistData;
  control?: ExperimentControl;
  onProgress?: (p: { done: number; total: number; partial: JsonRecord | null }) => void;
  /** The trained weights to start from; the document's when left out, `null` for the initial weights. */
  weights?: WeightsBlock | null;
  now?: () => Date;
}

/** Thrown when settings or the graph do not allow the experiment; the message says why. */
export class ExperimentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentError';
  }
}

/**
 * Run an experiment to its end (or until cancelled: then its last partial result comes back
 * with status 'cancelled', or ExperimentCancelled is thrown when there was none yet).
 */
export async function runExperiment<S extends ParamSpecs, D extends JsonRecord>(def: ExperimentDef<S, D>, o: RunExperimentOptions): Promise<ExperimentResult> {
  const parsed = parseSettings(def as unknown as ExperimentDef<S, JsonRecord>, o.settings ?? {});
  if (!parsed.ok) throw new ExperimentError(parsed.error);
  const settings = parsed.settings;
  const reason = def.check(o.doc, settings);
  if (reason) throw new ExperimentError(reason);
  const control = o.control ?? new ExperimentControl();
  const seed = o.seed ?? 1;
  const backend = o.backend ?? o.tf.getBackend();
  const weights = o.weights === undefined ? (o.doc.weights ?? null) : o.weights;
  const trainers: Trainer[] = [];
  let partial: JsonRecord | null = null;
  const started = o.now?.() ?? new Date();
  const t0 = Date.now();
  const ctx: ExperimentContext = {
    tf: o.tf,
    doc: o.doc,
    seed,
    backend,
    trainer: (t = {}) => {
      const tr = Trainer.create(o.tf, t.doc ?? o.doc, { backend, instrument: false, ...(o.mnist ? { mnist: o.mnist } : {}), ...t.options });
      trainers.push(tr);
      const w = t.weights === undefined ? weights : t.weights;
      if (w) tr.importWeights(w);
      return tr;
    },
    train: async (tr) => {
      const sync = () => {
        if (control.cancelled) tr.stop();
        else if (control.paused) tr.pause();
        else tr.resume();
      };
      const off = control.onChange(sync);
      sync();
      try {
        const run = await tr.run();
        if (control.cancelled) throw new ExperimentCancelled();
        return run;
      } finally {
        off();
      }
    },
    checkpoint: () => control.checkpoint(),
    progress: (done, total, p) => {
      if (p) partial = p;
      o.onProgress?.({ done, total, partial: p ?? null });
    },
  };
  const record = (status: ExperimentResult['status'], data: JsonRecord): ExperimentResult => ({
    id: `${def.name}-${started.toISOString()}`,
    experiment: def.name,
    version: def.dataVersion,
    startedAt: started.toISOString(),
    seconds: (Date.now() - t0) / 1000,
    status,
    backend,
    seed,
    settings: settings as Record<string, JsonValue>,
    weightsStep: weights ? weights.step : null,
    data,
  });
  try {
    const data = await def.run(ctx, settings);
    return record('completed', data);
  } catch (e) {
    if (e instanceof ExperimentCancelled && partial) return record('cancelled', partial);
    throw e;
  } finally {
    for (const t of trainers) t.dispose();
  }
}

/** The document with a result added to its `experiments` block (a new block when it had none). */
export function withResult(doc: GraphDocument, result: ExperimentResult): GraphDocument {
  const block = doc.experiments ?? { version: EXPERIMENTS_VERSION, results: [] };
  return { ...doc, experiments: { ...block, results: [...block.results.filter((r) => r.id !== result.id), result] } };
}


/** The document without the result of this id (and without an empty block). */
export function withoutResult(doc: GraphDocument, id: string): GraphDocument {
  if (!doc.experiments) return doc;
  const results = doc.experiments.results.filter((r) => r.id !== id);
  const { experiments: _gone, ...rest } = doc;
  return results.length ? { ...doc, experiments: { ...doc.experiments, results } } : rest;
}

/** Report progress at most every `ms` milliseconds (and always at the end). */
export function throttle(ms: number): (done: number, total: number) => boolean {
  let last = -Infinity;
  return (done, total) => {
    const now = Date.now();
    if (done >= total || now - last >= ms) {
      last = now;
      return true;
    }
    return false;
  };
}
