/**
 * "Tidy up": a left-to-right layered layout of the graph with ELK (elkjs), the same
 * algorithm family that draws data-flow graphs in many node editors. Pure and async.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { GraphDocument, Position } from './document.ts';

const elk = new ELK();

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 90;

/** New positions for the given nodes (all by default), top-left corners, snapped to 10 px. */
export async function layoutGraph(
  doc: Pick<GraphDocument, 'nodes' | 'edges'>,
  sizes: Map<string, { width: number; height: number }> = new Map(),
): Promise<Map<string, Position>> {
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.spacing.nodeNode': '40',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: doc.nodes.map((n) => ({ id: n.id, width: sizes.get(n.id)?.width ?? NODE_WIDTH, height: sizes.get(n.id)?.height ?? NODE_HEIGHT })),
    edges: doc.edges
      .filter((e) => doc.nodes.some((n) => n.id === e.source) && doc.nodes.some((n) => n.id === e.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
  const out = await elk.layout(graph);
  const positions = new Map<string, Position>();
  for (const c of out.children ?? []) positions.set(c.id, { x: Math.round((c.x ?? 0) / 10) * 10, y: Math.round((c.y ?? 0) / 10) * 10 });
  return positions;
}
