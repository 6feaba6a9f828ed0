/** Messages between the UI and the training worker. The worker owns every tensor. */
import type { JsonRecord } from '../../core/experiments/framework.ts';
import type { ExperimentResult, GraphDocument, JsonValue, WeightsBlock } from '../../core/graph/document.ts';
import type { Instrumentation } from '../../core/train/instrument.ts';
import type { TrainEvent } from '../../core/train/trainer.ts';
import type { BoundaryView, ConfusionView, ConvView, CurveView, DigitsView } from '../../core/train/views.ts';

export type BackendPreference = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export type ToWorker =
  | {
      type: 'start';
      /** The graph, with its pruning masks when it has any. */
      doc: Pick<GraphDocument, 'nodes' | 'edges' | 'masks'>;
      backend: BackendPreference;
      /** Continue from these weights (saved in the file, or the last good ones of a run). */
      weights?: WeightsBlock | null;
      mnistUrl: string;
      wasmUrls: Record<string, string>;
      intervalMs: number;
      learningRate?: number;
      /** The WASM backend's thread pool (1..8) when the user chose one; else the default (core/train/wasm-threads.ts). */
      wasmThreads?: number;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stop' }
  /** Forget the trainer and its weights (Reset weights, a new or opened graph). */
  | { type: 'reset' }
  | { type: 'setLearningRate'; value: number }
  /** Which validation example the Conv2D nodes' feature maps show. */
  | { type: 'setViewExample'; index: number }
  | { type: 'exportWeights'; requestId: number }
  /** Validation metrics and dashboard views of `weights` (or of the running trainer's current weights). */
  | { type: 'evaluate'; requestId: number; doc: Pick<GraphDocument, 'nodes' | 'edges' | 'masks'>; weights: WeightsBlock | null; backend: BackendPreference; mnistUrl: string; wasmUrls: Record<string, string>; wasmThreads?: number }
  /** Run an experiment (core/experiments) on `doc` from `weights`; progress and the result come back with the requestId. */
  | { type: 'experiment'; requestId: number; name: string; settings: Record<string, JsonValue>; seed: number; doc: GraphDocument; weights: WeightsBlock | null; backend: BackendPreference; mnistUrl: string; wasmUrls: Record<string, string>; wasmThreads?: number }
  | { type: 'experimentControl'; action: 'pause' | 'resume' | 'cancel' };

export interface Views {
  boundary: BoundaryView | null;
  curve: CurveView | null;
  confusion: ConfusionView | null;
  digits: DigitsView | null;
  /** Filters and feature maps of the Conv2D layers (null without any). */
  conv: ConvView | null;
}

/** The training data of 2-D and 1-D datasets, sent once so the dashboard can plot it. */
export interface DataPoints {
  x: Float32Array;
  /** Class index (classification) or target value (regression) per point. */
  y: Float32Array;
  dims: number;
}

export type FromWorker =
  /** `threads`: how many threads the backend computes on (WASM's pool; 1 for cpu), null where that is not known (GPU backends). */
  | { type: 'started'; mode: 'train' | 'evaluate'; backend: string; threads: number | null; fallbacks: string[]; totalSteps: number; epochs: number; points: DataPoints | null; task: 'classification' | 'regression'; classes: number }
  | { type: 'event'; event: Exclude<TrainEvent, { type: 'instrumentation' }> }
  | { type: 'instrumentation'; data: Instrumentation }
  | { type: 'views'; step: number; views: Views }
  | { type: 'checkpoint'; weights: WeightsBlock }
  | { type: 'weights'; requestId: number; weights: WeightsBlock | null }
  | { type: 'evaluated'; requestId: number; backend: string; loss: number | null; accuracy: number | null; step: number }
  | { type: 'experimentProgress'; requestId: number; done: number; total: number; partial: JsonRecord | null; backend: string }
  /** The experiment's result (completed, or cancelled with what it computed), or why it could not run. */
  | { type: 'experimentDone'; requestId: number; result: ExperimentResult | null; error: string | null }
  | { type: 'error'; message: string; fatal: boolean };
