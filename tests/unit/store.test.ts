import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { connectionProblem, copyItems, pasteItems } from '../../core/graph/edit.ts';
import { layoutGraph } from '../../core/graph/layout.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { analysisOf, createEditorStore, isDirty, redo, undo } from '../../renderer/store/editor.ts';

function mlp(): GraphDocument {
  const g = new GraphBuilder('test');
  g.add('dataset', 'data', { source: 'xor' });
  const out = g.chain('data.x', [
    ['dense', 'fc1', { units: 8 }],
    ['relu', 'relu1'],
    ['dense', 'fc2', { units: 2 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
  return g.build();
}

const past = (s: ReturnType<typeof createEditorStore>) => s.temporal.getState().pastStates.length;

describe('editor store: undo and redo', () => {
  it('undoes and redoes each document change, one step per action', () => {
    const s = createEditorStore(mlp());
    const start = s.getState().doc;
    const id = s.getState().addNode('dense', { x: 0, y: 300 })!;
    expect(s.getState().setParam(id, 'units', 64)).toBeNull();
    expect(past(s)).toBe(2);
    undo(s);
    expect(s.getState().doc.nodes.find((n) => n.id === id)!.params.units).toBe(16);
    undo(s);
    expect(s.getState().doc).toBe(start);
    expect(isDirty(s.getState())).toBe(false);
    redo(s);
    redo(s);
    expect(s.getState().doc.nodes.find((n) => n.id === id)!.params.units).toBe(64);
  });

  it('makes a whole drag one undo step, back to where the drag began', () => {
    const s = createEditorStore(mlp());
    const before = s.getState().doc.nodes.find((n) => n.id === 'fc1')!.position;
    s.getState().beginGesture();
    for (let i = 1; i <= 20; i++) s.getState().moveNodes(new Map([['fc1', { x: before.x + i * 5, y: before.y + i }]]));
    s.getState().endGesture();
    expect(past(s)).toBe(1);
    expect(s.getState().doc.nodes.find((n) => n.id === 'fc1')!.position).toEqual({ x: before.x + 100, y: before.y + 20 });
    undo(s);
    expect(s.getState().doc.nodes.find((n) => n.id === 'fc1')!.position).toEqual(before);
  });

  it('does not record selection or messages, and drops a selection that undo removed', () => {
    const s = createEditorStore(mlp());
    s.getState().select(['fc1']);
    s.getState().notify('info', 'hello');
    expect(past(s)).toBe(0);
    const id = s.getState().addNode('relu', { x: 0, y: 0 })!;
    expect(s.getState().selectedNodes).toEqual([id]);
    undo(s);
    expect(s.getState().selectedNodes).toEqual([]);
  });

  it('refuses an invalid parameter value and keeps the document unchanged', () => {
    const s = createEditorStore(mlp());
    const doc = s.getState().doc;
    expect(s.getState().setParam('fc1', 'units', 0)).toMatch(/Units: expected a whole number from 1/);
    expect(s.getState().setParam('fc1', 'units', 2.5)).toMatch(/got 2.5/);
    expect(s.getState().doc).toBe(doc);
    // Whatever the editor lets into the document, the file format accepts.
    const r = loadGraph(saveGraph(s.getState().doc));
    expect(r.ok).toBe(true);
  });

  it('marks the document dirty after a change and clean again when saved', () => {
    const s = createEditorStore(mlp());
    s.getState().setLabel('fc1', 'hidden');
    expect(isDirty(s.getState())).toBe(true);
    const { doc } = s.getState().serialize();
    s.setState({ doc });
    s.getState().markSaved('a.nngraph', null, doc);
    expect(isDirty(s.getState())).toBe(false);
  });

  it('refuses structural edits while a run holds the graph', () => {
    const s = createEditorStore(mlp(), { isLocked: () => true });
    expect(s.getState().addNode('dense', { x: 0, y: 0 })).toBeNull();
    s.getState().select(['fc1']);
    s.getState().deleteSelection();
    expect(s.getState().doc.nodes.some((n) => n.id === 'fc1')).toBe(true);
    expect(s.getState().notice?.text).toMatch(/locked while training/);
  });
});

describe('editor store: wiring', () => {
  it('refuses invalid connections and says why', () => {
    const doc = mlp();
    expect(connectionProblem(doc, { source: 'fc1', sourcePort: 'out', target: 'fc2', targetPort: 'in' })).toMatch(/already has an edge/);
    expect(connectionProblem(doc, { source: 'relu1', sourcePort: 'out', target: 'fc2', targetPort: 'in' })).toMatch(/already wired/);
    expect(connectionProblem(doc, { source: 'loss', sourcePort: 'loss', target: 'fc1', targetPort: 'in' })).toMatch(/a loss goes into an optimizer/);
    expect(connectionProblem(doc, { source: 'fc2', sourcePort: 'out', target: 'fc2', targetPort: 'in' })).toMatch(/itself/);
    expect(connectionProblem(doc, { source: 'fc2', sourcePort: 'out', target: 'fc1', targetPort: 'in' })).toMatch(/already has an edge|cycle/);
    const s = createEditorStore(doc);
    const add = s.getState().addNode('add', { x: 0, y: 0 })!;
    expect(s.getState().connect({ source: 'fc1', sourcePort: 'out', target: add, targetPort: 'in' })).toBe(true);
    expect(s.getState().connect({ source: 'relu1', sourcePort: 'out', target: add, targetPort: 'in' })).toBe(true);
    // Add takes several edges; a cycle is still refused.
    expect(connectionProblem(s.getState().doc, { source: add, sourcePort: 'out', target: 'fc1', targetPort: 'in' })).toMatch(/already has an edge/);
    expect(s.getState().connect({ source: 'fc2', sourcePort: 'out', target: 'loss', targetPort: 'pred' })).toBe(false);
    expect(s.getState().notice?.kind).toBe('error');
  });

  it('updates shapes at once when a parameter changes', () => {
    const s = createEditorStore(mlp());
    s.getState().setParam('fc1', 'units', 32);
    const a = analysisOf(s.getState().doc);
    expect(a.nodes.relu1!.outputs.out).toEqual([32]);
    expect(a.totals.trainable).toBe(2 * 32 + 32 + 32 * 2 + 2);
  });
});

describe('editor store: copy and paste', () => {
  it('pastes with fresh ids when they collide, keeping internal edges', () => {
    const s = createEditorStore(mlp());
    s.getState().select(['fc1', 'relu1']);
    const text = s.getState().copySelection()!;
    expect(JSON.parse(text).format).toBe('gradflow-clipboard');
    expect(s.getState().paste(text)).toBe(true);
    const doc = s.getState().doc;
    const ids = doc.nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    const [a, b] = s.getState().selectedNodes;
    expect(a).not.toBe('fc1');
    expect(b).not.toBe('relu1');
    expect(doc.edges.some((e) => e.source === a && e.target === b)).toBe(true);
    // The pasted nodes are placed beside the originals, not on top.
    const orig = doc.nodes.find((n) => n.id === 'fc1')!.position;
    const copy = doc.nodes.find((n) => n.id === a)!.position;
    expect(copy).not.toEqual(orig);
    expect(past(s)).toBe(1);
  });

  it('pastes between documents and keeps ids that are free', () => {
    const clip = copyItems(mlp(), ['fc1', 'relu1']);
    const other = new GraphBuilder('other').build();
    const r = pasteItems(other, clip);
    expect(r.nodeIds).toEqual(['fc1', 'relu1']);
    expect(r.doc.edges).toHaveLength(1);
  });

  it('ignores clipboard text that is not Gradflow content', () => {
    const s = createEditorStore(mlp());
    expect(s.getState().paste('{"hello": 1}')).toBe(false);
    expect(s.getState().paste('not json')).toBe(false);
    expect(past(s)).toBe(0);
  });

  it('cut removes the nodes and their edges in one step', () => {
    const s = createEditorStore(mlp());
    s.getState().select(['relu1']);
    expect(s.getState().cutSelection()).toContain('relu1');
    expect(s.getState().doc.edges.some((e) => e.source === 'relu1' || e.target === 'relu1')).toBe(false);
    undo(s);
    expect(s.getState().doc.edges.filter((e) => e.source === 'relu1' || e.target === 'relu1')).toHaveLength(2);
  });

  it('duplicates the selection with new ids', () => {
    const s = createEditorStore(mlp());
    s.getState().select(['fc2']);
    s.getState().duplicateSelection();
    expect(s.getState().selectedNodes).toEqual(['fc3']);
    expect(s.getState().doc.nodes.filter((n) => n.kind === 'dense')).toHaveLength(3);
  });
});

describe('tidy up', () => {
  it('lays nodes out left to right along the data flow, without overlaps', async () => {
    const doc = mlp();
    const positions = await layoutGraph(doc);
    const x = (id: string) => positions.get(id)!.x;
    expect(x('data')).toBeLessThan(x('fc1'));
    expect(x('fc1')).toBeLessThan(x('relu1'));
    expect(x('relu1')).toBeLessThan(x('fc2'));
    expect(x('fc2')).toBeLessThan(x('loss'));
    expect(x('loss')).toBeLessThan(x('opt'));
    const boxes = [...positions.values()];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const overlap = Math.abs(boxes[i]!.x - boxes[j]!.x) < 190 && Math.abs(boxes[i]!.y - boxes[j]!.y) < 90;
        expect(overlap).toBe(false);
      }
  });

  it('is one undo step in the store', async () => {
    const s = createEditorStore(mlp());
    const before = s.getState().doc;
    await s.getState().tidyUp();
    expect(s.getState().doc).not.toBe(before);
    expect(past(s)).toBe(1);
    undo(s);
    expect(s.getState().doc).toBe(before);
  });
});

describe('editor store: what it lets into the document can always be saved and reopened', () => {
  it('deleting a node drops its trained weights too', () => {
    const doc = mlp();
    doc.weights = {
      step: 1,
      epoch: 1,
      backend: 'cpu',
      savedAt: 'now',
      tensors: { fc1: { bias: { shape: [1], dtype: 'float32', data: 'AAAAAA==' } }, fc2: { bias: { shape: [1], dtype: 'float32', data: 'AAAAAA==' } } },
    };
    const s = createEditorStore(doc);
    s.getState().select(['fc1']);
    s.getState().deleteSelection();
    expect(Object.keys(s.getState().doc.weights!.tensors)).toEqual(['fc2']);
    const r = loadGraph(saveGraph(s.getState().doc));
    expect(r.ok).toBe(true);
    s.getState().select(['fc2']);
    s.getState().deleteSelection();
    expect(s.getState().doc.weights).toBeUndefined();
  });

  it('pasted parameters the catalogue does not accept are set to their defaults, with a notice', () => {
    const s = createEditorStore(mlp());
    const clip = JSON.stringify({
      format: 'gradflow-clipboard',
      version: 1,
      nodes: [{ id: 'x', kind: 'dense', params: { units: -3, bogus: 1 }, position: { x: 0, y: 0 }, label: 42 }],
      edges: [],
    });
    expect(s.getState().paste(clip)).toBe(true);
    const pasted = s.getState().doc.nodes.find((n) => n.id === 'x')!;
    expect(pasted.params).toEqual({ units: 16, bias: true, initializer: 'glorotUniform', sigma: 0.01 });
    expect(pasted.label).toBeUndefined();
    expect(s.getState().notice?.text).toMatch(/set to their defaults/);
    expect(loadGraph(saveGraph(s.getState().doc)).ok).toBe(true);
  });

  it('while a run holds the graph, undo, redo and parameter edits are refused with the reason', () => {
    let live = false;
    const s = createEditorStore(mlp(), { isLocked: () => live });
    s.getState().addNode('relu', { x: 0, y: 0 });
    live = true;
    const doc = s.getState().doc;
    undo(s);
    expect(s.getState().doc).toBe(doc);
    expect(s.getState().notice?.text).toMatch(/locked while training/);
    expect(s.getState().setParam('fc1', 'units', 99)).toMatch(/locked while training/);
    expect(s.getState().doc).toBe(doc);
  });

  it('leaving the graph name unchanged changes nothing', () => {
    const s = createEditorStore(mlp());
    const doc = s.getState().doc;
    s.getState().setMetadata({ name: doc.metadata.name });
    expect(s.getState().doc).toBe(doc);
    expect(isDirty(s.getState())).toBe(false);
  });
});
