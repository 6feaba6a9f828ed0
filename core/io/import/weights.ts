/**
 * Trained weights back into the graph: a .npz written by the exported PyTorch project
 * (`train.py --save`, keys `attribute.weight` as in model.state_dict()), or its weights.npz
 * (`trained/…`, else `initial/…`). Every weight of the graph must be there with its shape;
 * any mismatch is reported by node and name, and nothing is changed.
 */
import { analyzeGraph } from '../../graph/analyze.ts';
import { kindDef } from '../../graph/catalogue.ts';
import type { GraphDocument, WeightsBlock } from '../../graph/document.ts';
import { torchAttributes } from '../export/pytorch.ts';
import { decodeNpz, NpzError, type NpyArray } from '../npz.ts';
import { encodeWeightsBlock, type NodeWeights } from '../weights.ts';

export type WeightsImport = { ok: true; weights: WeightsBlock; source: string } | { ok: false; errors: string[] };

/** Read weights for `doc` from the bytes of a .npz file named `file`. */
export async function importWeightsNpz(doc: Pick<GraphDocument, 'nodes' | 'edges'>, bytes: Uint8Array, file = 'the weights file'): Promise<WeightsImport> {
  let arrays: Record<string, NpyArray>;
  try {
    arrays = await decodeNpz(bytes, file);
  } catch (e) {
    if (e instanceof NpzError) return { ok: false, errors: [e.message] };
    throw e;
  }
  const keys = Object.keys(arrays);
  // weights.npz of an exported project holds initial/ and trained/ sets: take the trained.
  const prefix = keys.some((k) => k.startsWith('trained/')) ? 'trained/' : keys.some((k) => k.startsWith('initial/')) ? 'initial/' : '';
  const byKey = new Map(keys.filter((k) => k.startsWith(prefix) && (prefix || !k.includes('/'))).map((k) => [k.slice(prefix.length), arrays[k]!]));
  const analysis = analyzeGraph(doc);
  const attrs = torchAttributes(doc);
  const errors: string[] = [];
  const weights: NodeWeights = {};
  const used = new Set<string>();
  for (const n of doc.nodes) {
    const specs = analysis.nodes[n.id]?.weights ?? [];
    const title = kindDef(n.kind)?.title ?? n.kind;
    for (const spec of specs) {
      const key = `${attrs.get(n.id)}.${spec.name}`;
      const a = byKey.get(key);
      if (!a) {
        errors.push(`${file} has no '${key}' (the ${spec.name} of ${title} '${n.label || n.id}', shape [${spec.shape.join(', ')}])`);
        continue;
      }
      used.add(key);
      if (a.dtype !== 'float32') {
        errors.push(`'${key}' in ${file} holds integers; the ${spec.name} of ${title} '${n.label || n.id}' needs float values`);
        continue;
      }
      if (a.shape.join(',') !== spec.shape.join(',')) {
        errors.push(`'${key}' in ${file} has shape [${a.shape.join(', ')}] but the ${spec.name} of ${title} '${n.label || n.id}' needs [${spec.shape.join(', ')}]`);
        continue;
      }
      const bad = a.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        errors.push(`'${key}' in ${file} holds ${a.data[bad]} at index ${bad}: the weights are not finite`);
        continue;
      }
      (weights[n.id] ??= {})[spec.name] = { shape: [...a.shape], values: Float32Array.from(a.data) };
    }
  }
  const extra = [...byKey.keys()].filter((k) => !used.has(k));
  if (extra.length) errors.push(`${file} has weights the graph does not have: ${extra.slice(0, 8).map((k) => `'${k}'`).join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''} (was it exported from another graph?)`);
  if (!byKey.size) errors.push(`${file} holds no weights (keys: ${keys.slice(0, 8).join(', ') || 'none'})`);
  if (errors.length) return { ok: false, errors };
  return { ok: true, weights: encodeWeightsBlock(weights, { step: 0, epoch: 0, backend: 'pytorch' }), source: prefix ? `${prefix.slice(0, -1)} weights` : 'weights' };
}
