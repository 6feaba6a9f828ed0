/**
 * A small fluent way to make documents in code (examples, tests, the CLI's benchmark):
 * `g.add('dense', 'fc1', { units: 256 }).wire('data.x', 'fc1.in')`. Missing parameters
 * take their catalogue defaults, so a built graph is complete like one loaded from a file.
 */
import { kindDef } from './catalogue.ts';
import { edgeId, emptyDocument, type GraphDocument, type GraphNode } from './document.ts';
import { defaultParams, type ParamSpecs, type ParamValue } from './params.ts';

export class GraphBuilder {
  readonly doc: GraphDocument;
  private column = 0;
  /** Ids taken so far: a set, so building a graph of n nodes stays linear (scripts build 100,000-node graphs). */
  private readonly ids = new Set<string>();

  constructor(name: string, description = '', now = new Date('2026-01-01T00:00:00.000Z')) {
    this.doc = emptyDocument(name, now);
    this.doc.metadata.description = description;
  }

  /** Add a node; positions default to a left-to-right chain. */
  add(kind: string, id: string, params: Record<string, ParamValue> = {}, opts: { label?: string; x?: number; y?: number } = {}): this {
    const def = kindDef(kind);
    if (!def) throw new Error(`unknown node kind '${kind}'`);
    if (this.ids.has(id)) throw new Error(`duplicate node id '${id}'`);
    const node: GraphNode = {
      id,
      kind,
      params: { ...defaultParams(def.params as ParamSpecs), ...params },
      position: { x: opts.x ?? this.column * 200, y: opts.y ?? 0 },
    };
    if (opts.label !== undefined) node.label = opts.label;
    this.column++;
    this.ids.add(id);
    this.doc.nodes.push(node);
    return this;
  }

  /** Wire `source.port` into `target.port`. */
  wire(from: string, to: string): this {
    const [source, sourcePort] = split(from);
    const [target, targetPort] = split(to);
    this.doc.edges.push({ id: edgeId(source, sourcePort, target, targetPort), source, sourcePort, target, targetPort });
    return this;
  }

  /** Add a chain of single-input, single-output nodes after `from` (a "node.port"); returns the last "id.out". */
  chain(from: string, nodes: [kind: string, id: string, params?: Record<string, ParamValue>][]): string {
    let prev = from;
    for (const [kind, id, params] of nodes) {
      this.add(kind, id, params ?? {});
      this.wire(prev, `${id}.in`);
      prev = `${id}.out`;
    }
    return prev;
  }

  build(): GraphDocument {
    return this.doc;
  }
}

function split(ref: string): [string, string] {
  const i = ref.lastIndexOf('.');
  if (i <= 0) throw new Error(`expected "node.port", got '${ref}'`);
  return [ref.slice(0, i), ref.slice(i + 1)];
}
