import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GraphDocument, Position } from '../../core/graph/document.ts';
import { NODE_WIDTH, layoutGraph } from '../../core/graph/layout.ts';
import { loadGraph } from '../../core/io/load.ts';

const files = readdirSync(new URL('../../examples/', import.meta.url)).filter((f) => f.endsWith('.nngraph'));
const example = (f: string): GraphDocument => {
  const r = loadGraph(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
};

/** Wires that do not run left to right: the target node starts before the source node ends. */
function backWires(doc: GraphDocument, at: (id: string) => Position): string[] {
  return doc.edges.filter((e) => at(e.target).x < at(e.source).x + NODE_WIDTH).map((e) => `${e.id} (${at(e.source).x} → ${at(e.target).x})`);
}

describe('layouts read left to right', () => {
  it.each(files)('the example %s has no wire running back to the left', (f) => {
    const doc = example(f);
    const pos = new Map(doc.nodes.map((n) => [n.id, n.position]));
    expect(backWires(doc, (id) => pos.get(id)!)).toEqual([]);
  });

  it.each(files)('Tidy up lays %s out with no wire running back to the left', async (f) => {
    const doc = example(f);
    // Scrambled first, so the result is Tidy up's, not the file's.
    const scrambled = { ...doc, nodes: doc.nodes.map((n, i) => ({ ...n, position: { x: ((i * 7919) % 13) * 100, y: ((i * 104729) % 7) * 100 } })) };
    const pos = await layoutGraph(scrambled);
    expect(backWires(scrambled, (id) => pos.get(id)!)).toEqual([]);
  });
});
