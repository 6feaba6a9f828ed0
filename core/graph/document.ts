/** The graph document: what the canvas edits, the trainer runs and the file stores. */
import type { ParamValue } from './params.ts';
import { quoted } from './text.ts';

export const FORMAT_NAME = 'gradflow-graph';
export const FORMAT_VERSION = 1;
export const APP_VERSION = '0.1.0';
/** Layout version of the `experiments` block (results and their fields), migrated on its own. */
export const EXPERIMENTS_VERSION = 1;

export interface Position {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  /** A catalogue kind, or a kind this version does not know (kept as a placeholder). */
  kind: string;
  /** For known kinds: every parameter of the kind. For unknown kinds: the file's data, kept verbatim. */
  params: Record<string, ParamValue | JsonValue>;
  position: Position;
  label?: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface Metadata {
  name: string;
  description: string;
  /** ISO 8601 timestamps. */
  created: string;
  modified: string;
  /** Version of the Gradflow that last wrote the file. */
  appVersion: string;
}

/** One stored tensor: little-endian float32 values, base64-encoded. */
export interface StoredTensor {
  shape: number[];
  dtype: 'float32';
  data: string;
}

/** Trained weights, by node id then weight name (e.g. fc1 -> kernel). */
export interface WeightsBlock {
  /** Optimizer steps taken to reach these weights. */
  step: number;
  epoch: number;
  backend: string;
  savedAt: string;
  tensors: Record<string, Record<string, StoredTensor>>;
}

/**
 * One weight's pruning mask in the file: bit-packed (8 weights a byte, least significant bit
 * first), base64, with the count of kept weights as a check on the data.
 */
export interface StoredMask {
  shape: number[];
  /** Number of weights kept (ones in the mask). */
  kept: number;
  data: string;
}

/** Pruning masks by node id then weight name (e.g. fc1 -> kernel); weights without a mask are dense. */
export type MaskBlock = Record<string, Record<string, StoredMask>>;

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  trainAccuracy: number | null;
  valAccuracy: number | null;
  learningRate: number;
  seconds: number;
}

/** A finished or stopped training run, kept so runs can be compared. */
export interface RunRecord {
  id: string;
  startedAt: string;
  /** 'completed', 'stopped' (by the user), 'early-stopped', or 'failed' (NaN, error). */
  status: 'completed' | 'stopped' | 'early-stopped' | 'failed';
  backend: string;
  seed: number;
  /** The optimizer kind, learning rate, batch size... as they were for this run. */
  settings: Record<string, JsonValue>;
  epochs: EpochRecord[];
  /** Loss per optimizer step (may be thinned for long runs). */
  stepLoss: number[];
  message?: string;
}

/** One experiment's result (a loss landscape, λmax...), with what it needs to be reproduced. */
export interface ExperimentResult {
  id: string;
  /** The experiment's name, e.g. 'landscape' (core/experiments/registry.ts). */
  experiment: string;
  /** The experiment's data version this result was written with. */
  version: number;
  startedAt: string;
  seconds: number;
  /** 'completed', or 'cancelled' (what was computed until then, uncomputed values null). */
  status: 'completed' | 'cancelled';
  backend: string;
  seed: number;
  /** Every setting, as it was for this result. */
  settings: Record<string, JsonValue>;
  /** Step of the trained weights it was computed on (null: the initial weights). */
  weightsStep: number | null;
  data: { [key: string]: JsonValue };
}

/** The `experiments` block: its own layout version, then the results in the order they were made. */
export interface ExperimentsBlock {
  version: number;
  results: ExperimentResult[];
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface GraphDocument {
  format: typeof FORMAT_NAME;
  version: typeof FORMAT_VERSION;
  metadata: Metadata;
  nodes: GraphNode[];
  edges: GraphEdge[];
  weights?: WeightsBlock;
  /** Pruning masks on prunable weights (lottery tickets, magnitude pruning). */
  masks?: MaskBlock;
  runs?: RunRecord[];
  experiments?: ExperimentsBlock;
}

/** A new empty document. */
export function emptyDocument(name = 'Untitled', now = new Date()): GraphDocument {
  const t = now.toISOString();
  return {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    metadata: { name, description: '', created: t, modified: t, appVersion: APP_VERSION },
    nodes: [],
    edges: [],
  };
}

/** The conventional edge id, stable across saves. */
export function edgeId(source: string, sourcePort: string, target: string, targetPort: string): string {
  return `${source}.${sourcePort}->${target}.${targetPort}`;
}

/** How a node is named in messages: its label if it has one, else its id (quoted, escaped and bounded: labels hold any text). */
export function displayName(node: Pick<GraphNode, 'id' | 'label'>): string {
  return quoted(node.label || node.id);
}
