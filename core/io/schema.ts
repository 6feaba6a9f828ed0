/**
 * The zod schema of a `.nngraph` file (format version 1): its structure, before the
 * catalogue checks params. The document's types (core/graph/document.ts) are inferred from
 * it, so the file format and the types cannot drift apart.
 */
import { z } from 'zod';
import { FORMAT_NAME, FORMAT_VERSION } from '../graph/document.ts';
import { experimentsBlockSchema } from './experiments.ts';
import { jsonValue } from './json.ts';
import { masksSchema } from './masks.ts';

const id = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const finite = z.number();

export const positionSchema = z.strictObject({ x: finite, y: finite });

export const nodeSchema = z.strictObject({
  id,
  /** A catalogue kind, or a kind this version does not know (kept as a placeholder). */
  kind: z.string().min(1, 'must not be empty').max(200),
  label: z.string().max(200).optional(),
  position: positionSchema,
  /** For known kinds: every parameter of the kind (the catalogue checks them). For unknown kinds: the file's data, kept verbatim. */
  params: z.record(z.string(), jsonValue),
});

export const edgeSchema = z.strictObject({
  id,
  source: id,
  sourcePort: z.string().min(1),
  target: id,
  targetPort: z.string().min(1),
});

export const metadataSchema = z.strictObject({
  name: z.string().max(500),
  description: z.string().max(100_000),
  /** ISO 8601 timestamps. */
  created: z.string().max(100),
  modified: z.string().max(100),
  /** Version of the Gradflow that last wrote the file. */
  appVersion: z.string().max(100),
});

/** One stored tensor: little-endian float32 values, base64-encoded. */
export const storedTensorSchema = z.strictObject({
  shape: z.array(z.number().int().min(0)).max(8),
  dtype: z.literal('float32'),
  data: z.string(),
});

/** Trained weights, by node id then weight name (e.g. fc1 -> kernel). */
export const weightsSchema = z.strictObject({
  /** Optimizer steps taken to reach these weights. */
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  backend: z.string().max(50),
  savedAt: z.string().max(100),
  tensors: z.record(z.string(), z.record(z.string(), storedTensorSchema)),
});

const nullableNumber = z.number().nullable();
export const epochSchema = z.strictObject({
  epoch: z.number().int().min(0),
  trainLoss: z.number(),
  valLoss: nullableNumber,
  trainAccuracy: nullableNumber,
  valAccuracy: nullableNumber,
  learningRate: z.number(),
  seconds: z.number().min(0),
});

/** A finished or stopped training run, kept so runs can be compared. */
export const runSchema = z.strictObject({
  id,
  startedAt: z.string().max(100),
  /** 'completed', 'stopped' (by the user), 'early-stopped', or 'failed' (NaN, error). */
  status: z.enum(['completed', 'stopped', 'early-stopped', 'failed']),
  backend: z.string().max(50),
  seed: z.number().int(),
  /** The optimizer kind, learning rate, batch size... as they were for this run. */
  settings: z.record(z.string(), jsonValue),
  epochs: z.array(epochSchema),
  /** Loss per optimizer step (may be thinned for long runs). */
  stepLoss: z.array(z.number()),
  message: z.string().max(10_000).optional(),
});

export const documentSchema = z.strictObject({
  format: z.literal(FORMAT_NAME),
  version: z.literal(FORMAT_VERSION),
  metadata: metadataSchema,
  nodes: z.array(nodeSchema).max(100_000),
  edges: z.array(edgeSchema).max(1_000_000),
  weights: weightsSchema.optional(),
  /** Pruning masks on prunable weights (lottery tickets, magnitude pruning). */
  masks: masksSchema.optional(),
  runs: z.array(runSchema).max(10_000).optional(),
  experiments: experimentsBlockSchema.optional(),
});
