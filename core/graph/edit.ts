/**
 * Pure editing operations on a document: what the editor's actions do, without React.
 * Each returns a new document (the old one is never mutated), so undo can keep snapshots.
 */
import { topologicalOrder } from './analyze.ts';
import { kindDef } from './catalogue.ts';
import { displayName, edgeId, type GraphDocument, type GraphEdge, type GraphNode, type Position } from './document.ts';
import { checkParam, defaultParams, type ParamSpecs, type ParamValue } from './params.ts';

/** A fresh id for a node of `kind`: dense1, dense2, ... */
export function uniqueNodeId(doc: Pick<GraphDocument, 'nodes'>, base: string, taken: Set<string> = new Set(doc.nodes.map((n) => n.id))): string {
  const stem = base.replace(/[^A-Za-z0-9_-]/g, '') || 'node';
  const trimmed = stem.replace(/\d+$/, '') || stem;
  for (let i = 1; ; i++) {
    const id = `${trimmed}${i}`;
    if (!taken.has(id)) return id;
  }
}

export function addNode(doc: GraphDocument, kind: string, position: Position, params: Record<string, ParamValue> = {}): { doc: GraphDocument; id: string } {
  const def = kindDef(kind);
  if (!def) throw new Error(`unknown node kind '${kind}'`);
  const id = uniqueNodeId(doc, kind);
  const node: GraphNode = { id, kind, params: { ...defaultParams(def.params as ParamSpecs), ...params }, position: { x: Math.round(position.x), y: Math.round(position.y) } };
  return { doc: { ...doc, nodes: [...doc.nodes, node] }, id };
}

export interface ConnectionRequest {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

/** Why a connection is not allowed, in words; null when it is. */
export function connectionProblem(doc: Pick<GraphDocument, 'nodes' | 'edges'>, c: ConnectionRequest): string | null {
  const source = doc.nodes.find((n) => n.id === c.source);
  const target = doc.nodes.find((n) => n.id === c.target);
  if (!source || !target) return 'that node no longer exists';
  if (c.source === c.target) return `${displayName(source)} cannot be wired into itself`;
  const sDef = kindDef(source.kind);
  const tDef = kindDef(target.kind);
  const sPort = sDef?.outputs.find((p) => p.name === c.sourcePort);
  const tPort = tDef?.inputs.find((p) => p.name === c.targetPort);
  if (sDef && !sPort) return `${sDef.title} has no output '${c.sourcePort}'`;
  if (tDef && !tPort) return `${tDef.title} has no input '${c.targetPort}'`;
  if (sPort && tPort && sPort.type !== tPort.type) {
    return sPort.type === 'loss'
      ? `a loss goes into an optimizer, a penalty or early stopping, not into ${tDef!.title}'s '${tPort.name}'`
      : `${tDef!.title}'s '${tPort.name}' takes a loss, but ${sDef!.title}'s '${sPort.name}' gives a tensor: wire a loss node's output here`;
  }
  if (doc.edges.some((e) => e.source === c.source && e.sourcePort === c.sourcePort && e.target === c.target && e.targetPort === c.targetPort)) {
    return 'these ports are already wired';
  }
  if (tPort && !tPort.multiple && doc.edges.some((e) => e.target === c.target && e.targetPort === c.targetPort)) {
    return `${tDef!.title} ${displayName(target)}'s input '${c.targetPort}' already has an edge: delete it first, or combine both with Add or Concat`;
  }
  const withEdge = [...doc.edges, { id: '?', ...c }];
  if (topologicalOrder(doc.nodes as GraphNode[], withEdge).cycle.length) return 'this edge would make a cycle: data must flow one way';
  return null;
}

export function connect(doc: GraphDocument, c: ConnectionRequest): { doc: GraphDocument; problem: string | null } {
  const problem = connectionProblem(doc, c);
  if (problem) return { doc, problem };
  const edge: GraphEdge = { id: edgeId(c.source, c.sourcePort, c.target, c.targetPort), ...c };
  return { doc: { ...doc, edges: [...doc.edges, edge] }, problem: null };
}

/** Set one parameter; invalid values are refused with the reason (the document keeps only valid values). */
export function setParam(doc: GraphDocument, nodeId: string, key: string, value: ParamValue): { doc: GraphDocument; problem: string | null } {
  const node = doc.nodes.find((n) => n.id === nodeId);
  const def = node && kindDef(node.kind);
  if (!node || !def) return { doc, problem: 'that node cannot be edited' };
  const spec = (def.params as ParamSpecs)[key];
  if (!spec) return { doc, problem: `${def.title} has no parameter '${key}'` };
  const problem = checkParam(spec, value);
  if (problem) return { doc, problem: `${spec.label}: ${problem}` };
  if (JSON.stringify(node.params[key]) === JSON.stringify(value)) return { doc, problem: null };
  return { doc: replaceNode(doc, { ...node, params: { ...node.params, [key]: value } }), problem: null };
}

export function setLabel(doc: GraphDocument, nodeId: string, label: string): GraphDocument {
  const node = doc.nodes.find((n) => n.id === nodeId);
  if (!node) return doc;
  const next: GraphNode = { ...node };
  const trimmed = label.trim().slice(0, 200);
  if (trimmed) next.label = trimmed;
  else delete next.label;
  return replaceNode(doc, next);
}

function replaceNode(doc: GraphDocument, node: GraphNode): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === node.id ? node : n)) };
}

export function moveNodes(doc: GraphDocument, positions: Map<string, Position>): GraphDocument {
  if (positions.size === 0) return doc;
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const p = positions.get(n.id);
      return p && (p.x !== n.position.x || p.y !== n.position.y) ? { ...n, position: { x: p.x, y: p.y } } : n;
    }),
  };
}

/** Remove nodes (with their edges) and edges. */
export function removeItems(doc: GraphDocument, nodeIds: Iterable<string>, edgeIds: Iterable<string> = []): GraphDocument {
  const nodes = new Set(nodeIds);
  const edges = new Set(edgeIds);
  if (nodes.size === 0 && edges.size === 0) return doc;
  const next: GraphDocument = {
    ...doc,
    nodes: doc.nodes.filter((n) => !nodes.has(n.id)),
    edges: doc.edges.filter((e) => !edges.has(e.id) && !nodes.has(e.source) && !nodes.has(e.target)),
  };
  // Trained weights of removed nodes go with them: a file must not hold weights for nodes it lacks.
  if (doc.weights && Object.keys(doc.weights.tensors).some((id) => nodes.has(id))) {
    const tensors = Object.fromEntries(Object.entries(doc.weights.tensors).filter(([id]) => !nodes.has(id)));
    if (Object.keys(tensors).length) next.weights = { ...doc.weights, tensors };
    else delete next.weights;
  }
  // Their pruning masks too, for the same reason.
  if (doc.masks && Object.keys(doc.masks).some((id) => nodes.has(id))) {
    const masks = Object.fromEntries(Object.entries(doc.masks).filter(([id]) => !nodes.has(id)));
    if (Object.keys(masks).length) next.masks = masks;
    else delete next.masks;
  }
  return next;
}

export const CLIPBOARD_FORMAT = 'gradflow-clipboard';

export interface ClipboardContent {
  format: typeof CLIPBOARD_FORMAT;
  version: 1;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The selected nodes and the edges between them, as clipboard JSON. */
export function copyItems(doc: GraphDocument, nodeIds: Iterable<string>): ClipboardContent {
  const ids = new Set(nodeIds);
  return {
    format: CLIPBOARD_FORMAT,
    version: 1,
    nodes: doc.nodes.filter((n) => ids.has(n.id)).map((n) => structuredClone(n)),
    edges: doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ ...e })),
  };
}

/** Parse clipboard text; null when it is not Gradflow content. */
export function parseClipboard(text: string): ClipboardContent | null {
  try {
    const v = JSON.parse(text) as Partial<ClipboardContent>;
    if (v?.format !== CLIPBOARD_FORMAT || !Array.isArray(v.nodes) || !Array.isArray(v.edges)) return null;
    const ok = v.nodes.every((n) => n && typeof n.id === 'string' && typeof n.kind === 'string' && n.params && typeof n.params === 'object' && n.position && Number.isFinite(n.position.x) && Number.isFinite(n.position.y));
    const okEdges = v.edges.every((e) => e && ['source', 'sourcePort', 'target', 'targetPort'].every((k) => typeof (e as unknown as Record<string, unknown>)[k] === 'string'));
    return ok && okEdges ? (v as ClipboardContent) : null;
  } catch {
    return null;
  }
}

/**
 * Paste clipboard content: ids that collide get fresh ones (edges follow), positions are
 * offset, and only valid edges are kept. Returns the new node ids (to select them).
 */
export function pasteItems(doc: GraphDocument, content: ClipboardContent, offset: Position = { x: 40, y: 40 }): { doc: GraphDocument; nodeIds: string[]; dropped: number; fixed: number } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const rename = new Map<string, string>();
  const nodes: GraphNode[] = [];
  let fixed = 0;
  for (const n of content.nodes) {
    const id = taken.has(n.id) || !/^[A-Za-z0-9_-]{1,200}$/.test(n.id) ? uniqueNodeId(doc, n.id, taken) : n.id;
    taken.add(id);
    rename.set(n.id, id);
    const { params, changed } = normalizeParams(n.kind, n.params);
    if (changed) fixed++;
    const node: GraphNode = { id, kind: n.kind, params, position: { x: n.position.x + offset.x, y: n.position.y + offset.y } };
    if (typeof n.label === 'string' && n.label.trim()) node.label = n.label.trim().slice(0, 200);
    nodes.push(node);
  }
  let next: GraphDocument = { ...doc, nodes: [...doc.nodes, ...nodes] };
  let dropped = 0;
  for (const e of content.edges) {
    const source = rename.get(e.source);
    const target = rename.get(e.target);
    if (!source || !target) {
      dropped++;
      continue;
    }
    const r = connect(next, { source, sourcePort: e.sourcePort, target, targetPort: e.targetPort });
    if (r.problem) dropped++;
    next = r.doc;
  }
  return { doc: next, nodeIds: nodes.map((n) => n.id), dropped, fixed };
}

/**
 * Parameters from outside (the clipboard) made valid for the catalogue, as loading a file
 * would require: unknown keys dropped, invalid or missing values set to their defaults.
 * Nodes of unknown kinds keep their data, as in files.
 */
function normalizeParams(kind: string, params: GraphNode['params']): { params: GraphNode['params']; changed: boolean } {
  const def = kindDef(kind);
  if (!def) return { params: structuredClone(params), changed: false };
  const specs = def.params as ParamSpecs;
  const out: GraphNode['params'] = {};
  let changed = Object.keys(params).some((k) => !(k in specs));
  for (const [key, spec] of Object.entries(specs)) {
    const v = params[key];
    if (v !== undefined && checkParam(spec, v) === null) out[key] = structuredClone(v);
    else {
      out[key] = structuredClone(spec.default);
      changed = true;
    }
  }
  return { params: out, changed };
}

/** Duplicate = copy + paste in one step. */
export function duplicateItems(doc: GraphDocument, nodeIds: Iterable<string>): { doc: GraphDocument; nodeIds: string[] } {
  const r = pasteItems(doc, copyItems(doc, nodeIds));
  return { doc: r.doc, nodeIds: r.nodeIds };
}
