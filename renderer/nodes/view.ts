/**
 * What a node shows on the canvas, derived from the document and its analysis. Views are
 * cached per node and reused while nothing they show changes, so React Flow re-renders
 * only the nodes that really changed (a drag re-renders one node, not the graph).
 */
import type { Analysis } from '../../core/graph/analyze.ts';
import { kindDef } from '../../core/graph/catalogue.ts';
import { describeShape } from '../../core/graph/kinds/util.ts';
import type { GraphNode } from '../../core/graph/document.ts';
import type { EnumParam, ParamSpecs } from '../../core/graph/params.ts';
import type { Savings } from '../../core/graph/savings.ts';
import type { Category, PortType } from '../../core/graph/types.ts';

export interface PortView {
  name: string;
  type: PortType;
  multiple: boolean;
  /** Shape text for outputs, e.g. "[256]". */
  shape: string | null;
  issue: string | null;
}

export interface NodeView {
  id: string;
  kind: string;
  title: string;
  label: string | null;
  category: Category | 'Unknown';
  known: boolean;
  summary: string[];
  inputs: PortView[];
  outputs: PortView[];
  params: number;
  /** Fraction of the prunable weights kept, when a pruning mask is on the node (P_m). */
  remaining: number | null;
  errors: string[];
  warnings: string[];
}

/** P_m as the canvas writes it: 100 %, 51.2 %, 0.87 %. */
export function remainingText(fraction: number): string {
  const pct = 100 * fraction;
  return `${pct >= 10 || pct === 0 ? pct.toFixed(1) : pct.toPrecision(2)} %`;
}

/** A port's shape on the canvas: none when the port is not analysed, else as `gradflow check` prints it. */
export function shapeText(s: number[] | null | undefined): string | null {
  return s === undefined ? null : describeShape(s);
}

export function formatValue(spec: ParamSpecs[string], v: unknown): string {
  if (spec.type === 'enum') return (spec as EnumParam).optionLabels?.[v as string] ?? String(v);
  if (spec.type === 'shape') return `[${(v as number[]).join(', ')}]`;
  if (spec.type === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

export function nodeView(node: GraphNode, analysis: Analysis, savings?: Savings): NodeView {
  const def = kindDef(node.kind);
  const a = analysis.nodes[node.id];
  const issues = a?.issues ?? [];
  const portIssue = (port: string) => issues.find((i) => i.port === port)?.message ?? null;
  if (!def) {
    return {
      id: node.id,
      kind: node.kind,
      title: node.kind,
      label: node.label ?? null,
      category: 'Unknown',
      known: false,
      summary: ['unknown kind: kept as it was in the file'],
      inputs: [],
      outputs: [],
      params: 0,
      remaining: null,
      errors: issues.filter((i) => i.severity === 'error').map((i) => i.message),
      warnings: issues.filter((i) => i.severity === 'warning').map((i) => i.message),
    };
  }
  const specs = def.params as ParamSpecs;
  const summary = Object.entries(specs)
    .filter(([, spec]) => !spec.visibleWhen || spec.visibleWhen(node.params as never))
    .slice(0, 3)
    .map(([key, spec]) => `${spec.label}: ${formatValue(spec, node.params[key])}`);
  return {
    id: node.id,
    kind: node.kind,
    title: def.title,
    label: node.label ?? null,
    category: def.category,
    known: true,
    summary,
    inputs: def.inputs.map((p) => ({ name: p.name, type: p.type, multiple: !!p.multiple, shape: null, issue: portIssue(p.name) })),
    outputs: def.outputs.map((p) => ({ name: p.name, type: p.type, multiple: false, shape: shapeText(a?.outputs[p.name]), issue: portIssue(p.name) })),
    params: (a?.params.trainable ?? 0) + (a?.params.nonTrainable ?? 0),
    remaining: savings?.nodes.find((x) => x.nodeId === node.id && x.pruned)?.fractionKept ?? null,
    errors: issues.filter((i) => i.severity === 'error').map((i) => i.message),
    warnings: issues.filter((i) => i.severity === 'warning').map((i) => i.message),
  };
}

/** Reuses the previous view object for a node when nothing visible changed. */
export class NodeViewCache {
  private cache = new Map<string, { key: string; view: NodeView }>();
  get(node: GraphNode, analysis: Analysis, savings?: Savings): NodeView {
    const view = nodeView(node, analysis, savings);
    const key = JSON.stringify(view);
    const hit = this.cache.get(node.id);
    if (hit && hit.key === key) return hit.view;
    this.cache.set(node.id, { key, view });
    return view;
  }
  prune(ids: Set<string>): void {
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id);
  }
}
