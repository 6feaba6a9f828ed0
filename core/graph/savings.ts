/**
 * What pruning saves: per node and in total, the parameter count, the FLOPs of one example's
 * forward pass and the storage in bytes, dense and with the file's pruning masks. Pure: it
 * reads the analysis (weight shapes), the catalogue's `flops` rule and the masks' kept counts.
 *
 * Storage: a dense tensor takes 4 bytes per float32 value. A pruned tensor is counted as it
 * would be stored sparse: its kept values (4 bytes each) plus a one-bit-per-entry mask
 * (⌈n/8⌉ bytes), the layout Gradflow's own file uses for masks, or dense when that is
 * smaller (a mask that keeps nearly everything); tensors without a mask stay dense. FLOPs count a multiply-add as 2 and cover the weighted layers (the kinds that define
 * `flops`); activations and normalization are left out, as pruning papers usually do.
 */
import type { Analysis } from './analyze.ts';
import { kindDef } from './catalogue.ts';
import type { GraphDocument, MaskBlock } from './document.ts';
import type { Shape } from './types.ts';

/** Dense and sparse figures for one node or the whole graph. */
export interface SavingsFigures {
  /** Parameters (all tensors the node owns). */
  params: number;
  /** Parameters that are not pruned away. */
  paramsKept: number;
  /** Forward FLOPs per example, dense. */
  flops: number;
  /** Forward FLOPs per example with the pruned weights skipped. */
  flopsKept: number;
  /** Bytes as dense float32. */
  bytesDense: number;
  /** Bytes with pruned tensors stored as kept values plus a bit mask. */
  bytesSparse: number;
}

export interface NodeSavings extends SavingsFigures {
  nodeId: string;
  /** Fraction of the prunable weights kept, P_m (1 when the node has no mask). */
  fractionKept: number;
  /** Whether a mask is on any of this node's weights. */
  pruned: boolean;
}

export interface Savings {
  nodes: NodeSavings[];
  total: SavingsFigures & { fractionKept: number };
}

const ZERO: SavingsFigures = { params: 0, paramsKept: 0, flops: 0, flopsKept: 0, bytesDense: 0, bytesSparse: 0 };

/** Savings of a document's masks (none: the dense figures twice). */
export function pruningSavings(doc: Pick<GraphDocument, 'nodes' | 'masks'>, analysis: Analysis): Savings {
  const masks: MaskBlock = doc.masks ?? {};
  const nodes: NodeSavings[] = [];
  const total = { ...ZERO };
  let prunableKept = 0;
  let prunableTotal = 0;
  for (const n of doc.nodes) {
    const a = analysis.nodes[n.id];
    const def = kindDef(n.kind);
    if (!a || !def || a.weights.length === 0) continue;
    const f = { ...ZERO };
    const nonZero: Record<string, number> = {};
    const dense: Record<string, number> = {};
    let nodeKept = 0;
    let nodePrunable = 0;
    let pruned = false;
    for (const w of a.weights) {
      const size = w.shape.reduce((x, y) => x * y, 1);
      const m = w.prunable ? masks[n.id]?.[w.name] : undefined;
      const kept = m && m.shape.reduce((x, y) => x * y, 1) === size ? m.kept : size;
      if (m) pruned = true;
      dense[w.name] = size;
      nonZero[w.name] = kept;
      f.params += size;
      f.paramsKept += kept;
      f.bytesDense += 4 * size;
      f.bytesSparse += m ? Math.min(4 * size, 4 * kept + Math.ceil(size / 8)) : 4 * size;
      if (w.prunable) {
        nodeKept += kept;
        nodePrunable += size;
      }
    }
    if (def.flops) {
      const inputs = a.inputs as Record<string, Shape[]>;
      const outputs = a.outputs as Record<string, Shape>;
      f.flops = def.flops(n.params, inputs, outputs, dense);
      f.flopsKept = def.flops(n.params, inputs, outputs, nonZero);
    }
    prunableKept += nodeKept;
    prunableTotal += nodePrunable;
    for (const k of Object.keys(total) as (keyof SavingsFigures)[]) total[k] += f[k];
    nodes.push({ nodeId: n.id, ...f, fractionKept: nodePrunable ? nodeKept / nodePrunable : 1, pruned });
  }
  return { nodes, total: { ...total, fractionKept: prunableTotal ? prunableKept / prunableTotal : 1 } };
}

/** Bytes in words a person reads: 1.2 MB, 340 kB, 512 B (decimal units). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** A large count in words: 266,200 → "266.2k", 15.5M. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toLocaleString('en-US');
}
