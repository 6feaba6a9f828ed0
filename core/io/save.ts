/**
 * Saving: a stable, pretty, diff-friendly file. Keys come in a fixed order (parameters in
 * catalogue order), lists of numbers stay on one line, and the same document always gives
 * the same bytes, so graph files can be reviewed in git. loadGraph(saveGraph(d)) equals d.
 */
import { kindDef } from '../graph/catalogue.ts';
import type { GraphDocument, GraphNode } from '../graph/document.ts';
import { orderExperimentsBlock } from './experiments.ts';

type Ordered = { [key: string]: unknown };

/** Serialize a document; `modified` is left as it is (the caller stamps it when saving). */
export function saveGraph(doc: GraphDocument): string {
  const out: Ordered = {
    format: doc.format,
    version: doc.version,
    metadata: pick(doc.metadata, ['name', 'description', 'created', 'modified', 'appVersion']),
    nodes: doc.nodes.map(orderNode),
    edges: doc.edges.map((e) => pick(e, ['id', 'source', 'sourcePort', 'target', 'targetPort'])),
  };
  if (doc.weights) {
    const w = doc.weights;
    out.weights = {
      step: w.step,
      epoch: w.epoch,
      backend: w.backend,
      savedAt: w.savedAt,
      tensors: Object.fromEntries(
        Object.keys(w.tensors)
          .sort()
          .map((nodeId) => [
            nodeId,
            Object.fromEntries(
              Object.keys(w.tensors[nodeId]!)
                .sort()
                .map((name) => {
                  const t = w.tensors[nodeId]![name]!;
                  return [name, { shape: t.shape, dtype: t.dtype, data: t.data }];
                }),
            ),
          ]),
      ),
    };
  }
  if (doc.masks) {
    const m = doc.masks;
    out.masks = Object.fromEntries(
      Object.keys(m)
        .sort()
        .map((nodeId) => [
          nodeId,
          Object.fromEntries(
            Object.keys(m[nodeId]!)
              .sort()
              .map((name) => {
                const t = m[nodeId]![name]!;
                return [name, { shape: t.shape, kept: t.kept, data: t.data }];
              }),
          ),
        ]),
    );
  }
  if (doc.runs) {
    out.runs = doc.runs.map((r) => ({
      ...pick(r, ['id', 'startedAt', 'status', 'backend', 'seed']),
      settings: sortKeys(r.settings),
      epochs: r.epochs.map((e) => pick(e, ['epoch', 'trainLoss', 'valLoss', 'trainAccuracy', 'valAccuracy', 'learningRate', 'seconds'])),
      stepLoss: r.stepLoss,
      ...(r.message !== undefined ? { message: r.message } : {}),
    }));
  }
  if (doc.experiments) out.experiments = orderExperimentsBlock(doc.experiments, sortKeys);
  return `${stringify(out, '')}\n`;
}

function orderNode(n: GraphNode): Ordered {
  const def = kindDef(n.kind);
  const node: Ordered = { id: n.id, kind: n.kind };
  if (n.label !== undefined) node.label = n.label;
  node.position = { x: n.position.x, y: n.position.y };
  if (def) {
    const known = Object.keys(def.params as object);
    const keys = [...known.filter((k) => k in n.params), ...Object.keys(n.params).filter((k) => !known.includes(k)).sort()];
    node.params = Object.fromEntries(keys.map((k) => [k, sortKeys(n.params[k])]));
  } else {
    // A kind this version does not know keeps its data verbatim, in the file's own order, so
    // opening and saving a file from a newer Gradflow does not reorder what it cannot read.
    node.params = n.params;
  }
  return node;
}

function pick<T extends object>(obj: T, keys: (keyof T)[]): Ordered {
  const out: Ordered = {};
  for (const k of keys) if (obj[k] !== undefined) out[k as string] = obj[k];
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Ordered)[k])]),
    );
  }
  return v;
}

/** JSON with two-space indents, but arrays of plain values on one line. */
function stringify(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const inner = `${indent}  `;
    return `[\n${v.map((x) => inner + stringify(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    // Positions and other tiny records read best on one line.
    if (entries.length <= 2 && entries.every(([, x]) => typeof x === 'number')) {
      return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')} }`;
    }
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${stringify(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}
