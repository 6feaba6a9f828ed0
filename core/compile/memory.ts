/**
 * How much memory training a graph needs, estimated from the analysis before anything is
 * allocated. A Dense of 65,536 × 65,536 has parameters within their documented ranges, yet
 * 4.3 billion weights: without this estimate, training would allocate until the machine runs
 * out of memory, with no message. `gradflow check` and the inspector show the estimate; the
 * trainer refuses a graph above a limit the user can raise.
 */
import type { Analysis } from '../graph/analyze.ts';
import { kindDef } from '../graph/catalogue.ts';
import type { GraphDocument } from '../graph/document.ts';
import { formatBytes } from '../graph/savings.ts';

/** Training refuses graphs whose estimate is above this (`gradflow train --memory-limit` raises it). */
export const DEFAULT_MEMORY_LIMIT = 4e9;

const FLOAT32 = 4;

/** Bytes training needs, by what holds them. All float32. */
export interface MemoryEstimate {
  /** Every weight the graph owns (trainable and running statistics). */
  weights: number;
  /** One gradient per trainable weight, during a step. */
  gradients: number;
  /** The optimizer's per-weight state (Adam's two moments, momentum's velocity, …). */
  optimizerState: number;
  /** Per-weight state tensors the optimizer keeps (0 for SGD, 2 for Adam). */
  optimizerSlots: number;
  /** Every node's output for one batch, kept for the backward pass, plus its gradient. */
  activations: number;
  /** The batch the activations are counted for (the Dataset's batch size; 1 without one). */
  batchSize: number;
  total: number;
}

/**
 * Estimate the memory training `doc` needs, from its analysis. Pure and linear in the graph.
 * The dataset itself and the backend's working buffers are not counted; the figure is a
 * lower bound of what the trainer allocates, and the part that grows with the model.
 */
export function estimateMemory(doc: Pick<GraphDocument, 'nodes'>, analysis: Analysis): MemoryEstimate {
  let batchSize = 1;
  let optimizerSlots = 0;
  for (const n of doc.nodes) {
    const def = kindDef(n.kind);
    if (def?.role === 'dataset' && typeof n.params.batchSize === 'number') batchSize = n.params.batchSize;
    if (def?.role === 'optimizer') optimizerSlots = Math.max(optimizerSlots, optimizerSlotsOf(def));
  }
  let perExample = 0;
  for (const a of Object.values(analysis.nodes)) {
    for (const shape of Object.values(a.outputs)) if (shape) perExample += shape.reduce((x, y) => x * y, 1);
  }
  const t = analysis.totals;
  const weights = (t.trainable + t.nonTrainable) * FLOAT32;
  const gradients = t.trainable * FLOAT32;
  const optimizerState = t.trainable * optimizerSlots * FLOAT32;
  const activations = perExample * batchSize * FLOAT32 * 2;
  return { weights, gradients, optimizerState, optimizerSlots, activations, batchSize, total: weights + gradients + optimizerState + activations };
}

/**
 * The optimizer's state tensors per weight, from its kind. Kinds that do not say are counted
 * as the most any optimizer keeps (Adam: 2), so the estimate errs on the safe side.
 */
function optimizerSlotsOf(def: object): number {
  const slots = (def as { optimizer?: { slots?: readonly unknown[] } }).optimizer?.slots;
  return slots ? slots.length : 2;
}

/** One line: the total and what it is made of. */
export function describeMemory(m: MemoryEstimate): string {
  const parts = [`weights ${formatBytes(m.weights)}`, `gradients ${formatBytes(m.gradients)}`];
  if (m.optimizerState) parts.push(`optimizer state ${formatBytes(m.optimizerState)}`);
  parts.push(`activations ${formatBytes(m.activations)} for a batch of ${m.batchSize.toLocaleString('en-US')}`);
  return `about ${formatBytes(m.total)} (${parts.join(', ')})`;
}

/** Why training refuses this estimate under `limit`, or null when it fits. */
export function memoryProblem(m: MemoryEstimate, limit = DEFAULT_MEMORY_LIMIT): string | null {
  if (m.total <= limit) return null;
  return `training would need ${describeMemory(m)}, above the limit of ${formatBytes(limit)}: make the layers smaller or the batch size lower, or raise the limit (gradflow train --memory-limit ${suggestedLimit(m.total)})`;
}

/** A round limit above `bytes`, for the message: "80GB". */
function suggestedLimit(bytes: number): string {
  const gb = bytes / 1e9;
  if (gb < 1) return `${Math.ceil(bytes / 1e6 / 100) * 100}MB`;
  const step = gb < 16 ? 1 : gb < 256 ? 16 : 256;
  return `${Math.ceil(gb / step) * step}GB`;
}

/**
 * Parse a memory size as a user writes it on the command line: "8GiB", "512MiB", "2GB",
 * "1.5G", or a plain number of bytes. Returns null for anything else.
 */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$/i.exec(text);
  if (!m) return null;
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf(m[2]!.toLowerCase());
  const base = m[3]!.toLowerCase() === 'b' && m[2] ? 1000 : 1024;
  const bytes = Number(m[1]) * base ** power;
  return Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes) : null;
}
