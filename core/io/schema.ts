/** The zod schema of a `.nngraph` file (format version 1): its structure, before the catalogue checks params. */
import { z } from 'zod';
import { experimentsBlockSchema } from './experiments.ts';
import { masksSchema } from './masks.ts';

const id = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const finite = z.number();
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

export const positionSchema = z.strictObject({ x: finite, y: finite });

export const nodeSchema = z.strictObject({
  id,
  kind: z.string().min(1, 'must not be empty').max(200),
  label: z.string().max(200).optional(),
  position: positionSchema,
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
  created: z.string().max(100),
  modified: z.string().max(100),
  appVersion: z.string().max(100),
});

export const storedTensorSchema = z.strictObject({
  shape: z.array(z.number().int().min(0)).max(8),
  dtype: z.literal('float32'),
  data: z.string(),
});

export const weightsSchema = z.strictObject({
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

export const runSchema = z.strictObject({
  id,
  startedAt: z.string().max(100),
  status: z.enum(['completed', 'stopped', 'early-stopped', 'failed']),
  backend: z.string().max(50),
  seed: z.number().int(),
  settings: z.record(z.string(), jsonValue),
  epochs: z.array(epochSchema),
  stepLoss: z.array(z.number()),
  message: z.string().max(10_000).optional(),
});

export const documentSchema = z.strictObject({
  format: z.literal('gradflow-graph'),
  version: z.literal(1),
  metadata: metadataSchema,
  nodes: z.array(nodeSchema).max(100_000),
  edges: z.array(edgeSchema).max(1_000_000),
  weights: weightsSchema.optional(),
  masks: masksSchema.optional(),
  runs: z.array(runSchema).max(10_000).optional(),
  experiments: experimentsBlockSchema.optional(),
});
