/** The graph document: what the canvas edits, the trainer runs and the file stores. */
import type { z } from 'zod';
// Only `version` is imported, so a bundle carries that one field, not the whole package.json.
import { version } from '../../package.json';
import type { experimentResultSchema, experimentsBlockSchema } from '../io/experiments.ts';
import type { masksSchema, storedMaskSchema } from '../io/masks.ts';
import type {
  documentSchema,
  edgeSchema,
  epochSchema,
  metadataSchema,
  nodeSchema,
  positionSchema,
  runSchema,
  storedTensorSchema,
  weightsSchema,
} from '../io/schema.ts';
import { quoted } from './text.ts';

export const FORMAT_NAME = 'gradflow-graph';
export const FORMAT_VERSION = 1;
/** The version of this Gradflow, written into the files it saves: package.json's, so a release bump is one edit. */
export const APP_VERSION: string = version;
/** Layout version of the `experiments` block (results and their fields), migrated on its own. */
export const EXPERIMENTS_VERSION: number = 1;

export type { JsonValue } from '../io/json.ts';

// The document's types are inferred from the file's schema (as tldraw derives its records
// from their validators), so what the types promise is what a load has checked. The
// schema's comments say what each field means.
export type Position = z.infer<typeof positionSchema>;
export type GraphNode = z.infer<typeof nodeSchema>;
export type GraphEdge = z.infer<typeof edgeSchema>;
export type Metadata = z.infer<typeof metadataSchema>;
export type StoredTensor = z.infer<typeof storedTensorSchema>;
export type WeightsBlock = z.infer<typeof weightsSchema>;
/**
 * One weight's pruning mask in the file: bit-packed (8 weights a byte, least significant bit
 * first), base64, with the count of kept weights as a check on the data.
 */
export type StoredMask = z.infer<typeof storedMaskSchema>;
/** Pruning masks by node id then weight name (e.g. fc1 -> kernel); weights without a mask are dense. */
export type MaskBlock = z.infer<typeof masksSchema>;
export type EpochRecord = z.infer<typeof epochSchema>;
export type RunRecord = z.infer<typeof runSchema>;
/** One experiment's result (a loss landscape, λmax...), with what it needs to be reproduced. */
export type ExperimentResult = z.infer<typeof experimentResultSchema>;
/** The `experiments` block: its own layout version, then the results in the order they were made. */
export type ExperimentsBlock = z.infer<typeof experimentsBlockSchema>;
export type GraphDocument = z.infer<typeof documentSchema>;

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
