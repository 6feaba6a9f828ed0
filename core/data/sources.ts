/**
 * Data behind one interface: every data kind (role 'dataset') says what it needs loaded and
 * builds its own dataset (NodeKindDef.data). The trainer, the app's worker and the CLI ask
 * here instead of deciding per kind.
 */
import { kindDef } from '../graph/catalogue.ts';
import type { GraphNode } from '../graph/document.ts';
import type { DataResource, DataResources } from '../graph/types.ts';
import type { Dataset } from './types.ts';

/** What the data nodes of a document need loaded before training (MNIST's digits), each once. */
export function dataNeeds(doc: { nodes: readonly Pick<GraphNode, 'kind' | 'params'>[] }): DataResource[] {
  const needs = new Set<DataResource>();
  for (const n of doc.nodes) for (const r of kindDef(n.kind)?.data?.needs(n.params) ?? []) needs.add(r);
  return [...needs];
}

/**
 * Build a data node's dataset through its kind, with the platform's loaded resources.
 * @throws Error naming the kind when it is not a data kind, or the kind's own readable Error.
 */
export function buildData(node: Pick<GraphNode, 'kind' | 'params'>, resources: DataResources): Dataset {
  const source = kindDef(node.kind)?.data;
  if (!source) throw new Error(`"${node.kind}" is not a data kind: it cannot build a dataset`);
  return source.build(node.params, resources);
}

/**
 * Load what `doc` needs with the platform's loaders (one per resource, so a new resource
 * cannot be forgotten by a platform), skipping what is not needed.
 */
export async function loadDataResources(
  doc: { nodes: readonly Pick<GraphNode, 'kind' | 'params'>[] },
  loaders: { [R in DataResource]-?: () => Promise<NonNullable<DataResources[R]>> },
): Promise<DataResources> {
  const out: DataResources = {};
  for (const need of dataNeeds(doc)) out[need] = await loaders[need]();
  return out;
}
