/**
 * Binary pruning masks on the weights a kind marks `prunable` (Dense and Maxout kernels, RBF
 * centres, convolution kernels): m_ij = 1 keeps a connection, 0 prunes it. The forward pass
 * uses m ⊙ W, so a pruned weight gets a zero gradient and, from zero optimizer state, stays
 * exactly zero under every optimizer in ./optimizers.ts.
 *
 * In memory a mask is a Uint8Array of 0/1 per weight (row-major, the weight's own layout);
 * in the file it is bit-packed (8 weights a byte, least significant bit first) and base64
 * encoded, so a 784×300 layer's mask takes 39 KB of text instead of ~1 MB of float32.
 */
import { z } from 'zod';
import type { MaskBlock, StoredMask } from '../graph/document.ts';
import { base64ToBytes, bytesToBase64 } from './base64.ts';

/** The file's masks block (structure only; readStoredMask checks the bits). */
export const storedMaskSchema = z.strictObject({
  shape: z.array(z.number().int().min(0)).max(8),
  kept: z.number().int().min(0),
  data: z.string(),
});
export const masksSchema = z.record(z.string(), z.record(z.string(), storedMaskSchema));

/** One weight's mask: 1 = kept, 0 = pruned, in the weight's row-major order. */
export interface WeightMask {
  shape: number[];
  bits: Uint8Array;
}

/** Masks by node id, then weight name (as in the file's `weights` block). */
export type MaskSet = Record<string, Record<string, WeightMask>>;

/** Number of ones in a mask. */
export function keptCount(bits: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) n += bits[i]!;
  return n;
}

/** A mask that keeps everything. */
export function fullMask(shape: number[]): WeightMask {
  return { shape: [...shape], bits: new Uint8Array(shape.reduce((a, b) => a * b, 1)).fill(1) };
}

/** Bit-pack a 0/1 mask, least significant bit first, as base64. */
export function packMask(bits: Uint8Array): string {
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) bytes[i >> 3]! |= 1 << (i & 7);
  return bytesToBase64(bytes);
}

/**
 * Unpack a mask of `length` weights; null when the text is not base64, holds the wrong
 * number of bytes, or sets bits past the end (a damaged or truncated mask).
 */
export function unpackMask(text: string, length: number): Uint8Array | null {
  const bytes = base64ToBytes(text);
  if (!bytes || bytes.length !== Math.ceil(length / 8)) return null;
  const bits = new Uint8Array(length);
  for (let i = 0; i < length; i++) bits[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  const tail = length & 7;
  if (tail && bytes[bytes.length - 1]! >> tail) return null;
  return bits;
}

/** The file's form of one mask: shape, count kept (a check on the data) and packed bits. */
export function storeMask(m: WeightMask): StoredMask {
  return { shape: [...m.shape], kept: keptCount(m.bits), data: packMask(m.bits) };
}

/**
 * Decode a stored mask, or say what is wrong with it (for the loader's message).
 * The `kept` count must match the bits, which catches most damage the length check misses.
 */
export function readStoredMask(s: StoredMask): { ok: true; mask: WeightMask } | { ok: false; problem: string } {
  const length = s.shape.reduce((a, b) => a * b, 1);
  const bits = unpackMask(s.data, length);
  if (!bits) return { ok: false, problem: `the mask data is not ${Math.ceil(length / 8)} bytes of base64 bit-packed 0/1 values for shape [${s.shape.join(', ')}]` };
  const kept = keptCount(bits);
  if (kept !== s.kept) return { ok: false, problem: `"kept" says ${s.kept} weights are kept but the mask keeps ${kept}` };
  return { ok: true, mask: { shape: [...s.shape], bits } };
}

/** Masks for the file. */
export function masksToBlock(masks: MaskSet): MaskBlock {
  const out: MaskBlock = {};
  for (const [nodeId, byName] of Object.entries(masks)) {
    for (const [name, m] of Object.entries(byName)) (out[nodeId] ??= {})[name] = storeMask(m);
  }
  return out;
}

/** Masks from the file (already checked by the loader); throws with the place if one is damaged. */
export function masksFromBlock(block: MaskBlock): MaskSet {
  const out: MaskSet = {};
  for (const [nodeId, byName] of Object.entries(block)) {
    for (const [name, s] of Object.entries(byName)) {
      const r = readStoredMask(s);
      if (!r.ok) throw new Error(`masks.${nodeId}.${name}: ${r.problem}`);
      (out[nodeId] ??= {})[name] = r.mask;
    }
  }
  return out;
}

/** Weights kept and total, per mask and over all of them: P_m = kept / total. */
export function maskSparsity(masks: MaskSet): { perWeight: { nodeId: string; name: string; kept: number; total: number }[]; kept: number; total: number } {
  const perWeight: { nodeId: string; name: string; kept: number; total: number }[] = [];
  let kept = 0;
  let total = 0;
  for (const [nodeId, byName] of Object.entries(masks)) {
    for (const [name, m] of Object.entries(byName)) {
      const k = keptCount(m.bits);
      perWeight.push({ nodeId, name, kept: k, total: m.bits.length });
      kept += k;
      total += m.bits.length;
    }
  }
  return { perWeight, kept, total };
}

/** Deep copy (masks are mutated by nothing, but rounds keep their own). */
export function cloneMasks(masks: MaskSet): MaskSet {
  const out: MaskSet = {};
  for (const [nodeId, byName] of Object.entries(masks)) {
    for (const [name, m] of Object.entries(byName)) (out[nodeId] ??= {})[name] = { shape: [...m.shape], bits: m.bits.slice() };
  }
  return out;
}
