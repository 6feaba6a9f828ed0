import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGraph } from '../../core/io/load.ts';
import { mnistGuide } from '../../renderer/guide.ts';

const mnist = () => {
  const r = loadGraph(readFileSync(new URL('../../examples/mnist-mlp.nngraph', import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
};

describe('the MNIST MLP guide', () => {
  it('has nothing done on an empty graph', () => {
    expect(mnistGuide({ nodes: [], edges: [] }, false).map((s) => s.done)).toEqual([false, false, false, false, false, false, false]);
  });

  it('sees every building step done in the example MLP, and Train once it has run', () => {
    const doc = mnist();
    expect(mnistGuide(doc, false).map((s) => s.done)).toEqual([true, true, true, true, true, true, false]);
    expect(mnistGuide(doc, true).every((s) => s.done)).toBe(true);
  });

  it('follows the document: a removed wire or a wrong setting undoes its step', () => {
    const doc = mnist();
    const noFlattenWire = { ...doc, edges: doc.edges.filter((e) => e.id !== 'data.x->flatten.in') };
    expect(mnistGuide(noFlattenWire, false).map((s) => s.done).slice(0, 3)).toEqual([true, false, false]);
    const spirals = { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'dataset' ? { ...n, params: { ...n.params, source: 'spirals' } } : n)) };
    expect(mnistGuide(spirals, false)[0]!.done).toBe(false);
  });
});
