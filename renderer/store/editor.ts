/**
 * The editor's store: the document (undoable, with zundo's `temporal`) and the view state
 * around it (selection, file, messages — not undoable). Actions read with get(), call a
 * pure function from core/graph/edit.ts, and write with set(), as in xyflow's store.
 */
import { temporal } from 'zundo';
import { createStore } from 'zustand/vanilla';
import { analyzeGraph, type Analysis } from '../../core/graph/analyze.ts';
import { pruningSavings, type Savings } from '../../core/graph/savings.ts';
import { emptyDocument, APP_VERSION, type ExperimentResult, type GraphDocument, type MaskBlock, type Position, type RunRecord, type WeightsBlock } from '../../core/graph/document.ts';
import { withoutResult, withResult } from '../../core/experiments/framework.ts';
import { experimentDef } from '../../core/experiments/registry.ts';
import * as edit from '../../core/graph/edit.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import { loadGraph } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';

export interface Notice {
  kind: 'error' | 'warning' | 'info';
  text: string;
  /** Increases with each notice so the same text shown twice still re-renders. */
  seq: number;
}

export interface EditorState {
  doc: GraphDocument;
  /** The document as last saved or opened (by reference): dirty = doc !== savedDoc. */
  savedDoc: GraphDocument;
  fileName: string;
  filePath: string | null;
  selectedNodes: string[];
  selectedEdges: string[];
  notice: Notice | null;

  newDocument(): void;
  /** Replace the document with a file's content; on failure keep the current one and say why. */
  openText(bytes: string | Uint8Array, fileName: string, filePath?: string | null): boolean;
  markSaved(fileName: string, filePath: string | null, doc: GraphDocument): void;
  /** The text to save, with `modified` stamped (the stamped document becomes the current one). */
  serialize(): { text: string; doc: GraphDocument };

  addNode(kind: string, position: Position, params?: Record<string, ParamValue>): string | null;
  connect(c: edit.ConnectionRequest): boolean;
  setParam(nodeId: string, key: string, value: ParamValue): string | null;
  /** Several parameters in one undo step; nothing changes if any value is invalid. */
  setParams(nodeId: string, values: Record<string, ParamValue>): string | null;
  setLabel(nodeId: string, label: string): void;
  setMetadata(patch: { name?: string; description?: string }): void;
  /** Positions during a drag; the drag is one undo step (see beginGesture/endGesture). */
  moveNodes(positions: Map<string, Position>): void;
  beginGesture(): void;
  endGesture(): void;
  deleteSelection(): void;
  removeEdges(ids: string[]): void;
  duplicateSelection(): void;
  copySelection(): string | null;
  cutSelection(): string | null;
  paste(text: string, at?: Position): boolean;
  select(nodes: string[], edges?: string[]): void;
  selectAll(): void;
  tidyUp(sizes?: Map<string, { width: number; height: number }>): Promise<void>;
  /** Trained weights and runs kept in the document ("save with weights"); null removes the weights. */
  setWeights(weights: WeightsBlock | null, runs?: RunRecord[]): void;
  /** Put pruning masks on the graph (a lottery ticket), or remove them all (null); one undo step. */
  setMasks(masks: MaskBlock | null): void;
  /** Keep an experiment's result in the document (its `experiments` block), or drop one. */
  addExperimentResult(result: ExperimentResult): void;
  removeExperimentResult(id: string): void;
  /** What an experiment offers to put on the graph (a lottery ticket's masks), as one undo step. */
  applyExperimentResult(result: ExperimentResult): void;
  notify(kind: Notice['kind'], text: string): void;
  clearNotice(): void;
}

let noticeSeq = 0;
const analyses = new WeakMap<GraphDocument, Analysis>();

/** Validation and shape inference of a document, computed once per document version. */
export function analysisOf(doc: GraphDocument): Analysis {
  let a = analyses.get(doc);
  if (!a) {
    a = analyzeGraph(doc);
    analyses.set(doc, a);
  }
  return a;
}

const savings = new WeakMap<GraphDocument, Savings>();

/** What the document's pruning masks save (parameters, FLOPs, bytes), once per document version. */
export function savingsOf(doc: GraphDocument): Savings {
  let s = savings.get(doc);
  if (!s) {
    s = pruningSavings(doc, analysisOf(doc));
    savings.set(doc, s);
  }
  return s;
}

export interface EditorOptions {
  /**
   * Whether a run holds the graph now. Structural edits, undo and redo are refused while it
   * does (the trainer owns the compiled graph). Read from the run store at each edit rather
   * than copied into this one, so the two can never disagree.
   */
  isLocked?: () => boolean;
}

export function createEditorStore(initial: GraphDocument = emptyDocument(), options: EditorOptions = {}) {
  let gestureStart: GraphDocument | null = null;
  const isLocked = options.isLocked ?? (() => false);
  const store = createStore<EditorState>()(
    temporal(
      (set, get) => {
        /** Apply a document change, unless locked for a structural edit. */
        const change = (next: GraphDocument, structural = true): boolean => {
          if (next === get().doc) return false;
          if (structural && isLocked()) {
            get().notify('warning', 'The graph is locked while training runs: stop the run to change its structure');
            return false;
          }
          set({ doc: next });
          return true;
        };
        return {
          doc: initial,
          savedDoc: initial,
          fileName: 'Untitled.nngraph',
          filePath: null,
          selectedNodes: [],
          selectedEdges: [],
          notice: null,

          newDocument() {
            const doc = emptyDocument();
            set({ doc, savedDoc: doc, fileName: 'Untitled.nngraph', filePath: null, selectedNodes: [], selectedEdges: [] });
            store.temporal.getState().clear();
          },
          openText(bytes, fileName, filePath = null) {
            const r = loadGraph(bytes);
            if (!r.ok) {
              get().notify('error', `Could not open ${fileName}: ${r.error.message}`);
              return false;
            }
            set({ doc: r.document, savedDoc: r.document, fileName, filePath, selectedNodes: [], selectedEdges: [] });
            store.temporal.getState().clear();
            if (r.warnings.length) get().notify('warning', r.warnings.join('\n'));
            return true;
          },
          markSaved(fileName, filePath, doc) {
            set({ savedDoc: doc, fileName, filePath });
          },
          serialize() {
            const cur = get().doc;
            const doc: GraphDocument = { ...cur, metadata: { ...cur.metadata, modified: new Date().toISOString(), appVersion: APP_VERSION } };
            return { text: saveGraph(doc), doc };
          },

          addNode(kind, position, params) {
            const r = edit.addNode(get().doc, kind, position, params);
            if (!change(r.doc)) return null;
            set({ selectedNodes: [r.id], selectedEdges: [] });
            return r.id;
          },
          connect(c) {
            if (isLocked()) return change(get().doc) && false;
            const r = edit.connect(get().doc, c);
            if (r.problem) {
              get().notify('error', `Cannot connect: ${r.problem}`);
              return false;
            }
            return change(r.doc);
          },
          setParam(nodeId, key, value) {
            const r = edit.setParam(get().doc, nodeId, key, value);
            if (r.problem) return r.problem;
            // Parameters are structural while a run holds the graph (the learning rate changes live in the run bar).
            if (isLocked() && r.doc !== get().doc) return 'the graph is locked while training runs: stop the run to change it';
            change(r.doc);
            return null;
          },
          setParams(nodeId, values) {
            let doc = get().doc;
            for (const [key, value] of Object.entries(values)) {
              const r = edit.setParam(doc, nodeId, key, value);
              if (r.problem) {
                get().notify('error', r.problem);
                return r.problem;
              }
              doc = r.doc;
            }
            change(doc);
            return null;
          },
          setLabel(nodeId, label) {
            change(edit.setLabel(get().doc, nodeId, label), false);
          },
          setMetadata(patch) {
            const d = get().doc;
            if (Object.entries(patch).every(([k, v]) => d.metadata[k as keyof typeof d.metadata] === v)) return;
            change({ ...d, metadata: { ...d.metadata, ...patch } }, false);
          },
          moveNodes(positions) {
            change(edit.moveNodes(get().doc, positions), false);
          },
          beginGesture() {
            gestureStart = get().doc;
            store.temporal.getState().pause();
          },
          endGesture() {
            const t = store.temporal.getState();
            t.resume();
            const start = gestureStart;
            gestureStart = null;
            // zundo records nothing while paused; push the state before the gesture so the
            // whole drag undoes in one step.
            if (start && start !== get().doc) {
              store.temporal.setState((s) => ({ pastStates: [...s.pastStates, { doc: start }], futureStates: [] }));
            }
          },
          deleteSelection() {
            const { selectedNodes, selectedEdges } = get();
            if (change(edit.removeItems(get().doc, selectedNodes, selectedEdges))) set({ selectedNodes: [], selectedEdges: [] });
          },
          removeEdges(ids) {
            change(edit.removeItems(get().doc, [], ids));
          },
          duplicateSelection() {
            const r = edit.duplicateItems(get().doc, get().selectedNodes);
            if (change(r.doc)) set({ selectedNodes: r.nodeIds, selectedEdges: [] });
          },
          copySelection() {
            const { selectedNodes } = get();
            if (!selectedNodes.length) return null;
            return JSON.stringify(edit.copyItems(get().doc, selectedNodes));
          },
          cutSelection() {
            const text = get().copySelection();
            if (text) get().deleteSelection();
            return text;
          },
          paste(text, at) {
            const content = edit.parseClipboard(text);
            if (!content) {
              get().notify('warning', 'The clipboard holds no Gradflow nodes');
              return false;
            }
            let offset = { x: 40, y: 40 };
            if (at && content.nodes.length) {
              const minX = Math.min(...content.nodes.map((n) => n.position.x));
              const minY = Math.min(...content.nodes.map((n) => n.position.y));
              offset = { x: at.x - minX, y: at.y - minY };
            }
            const r = edit.pasteItems(get().doc, content, offset);
            if (!change(r.doc)) return false;
            set({ selectedNodes: r.nodeIds, selectedEdges: [] });
            const notes = [
              r.dropped ? `${r.dropped} edge${r.dropped === 1 ? '' : 's'} could not be pasted (the ports were taken or did not fit)` : '',
              r.fixed ? `${r.fixed} pasted node${r.fixed === 1 ? ' had' : 's had'} parameters this version does not accept; they were set to their defaults` : '',
            ].filter(Boolean);
            if (notes.length) get().notify('warning', notes.join('\n'));
            return true;
          },
          select(nodes, edges = []) {
            const s = get();
            if (same(s.selectedNodes, nodes) && same(s.selectedEdges, edges)) return;
            set({ selectedNodes: nodes, selectedEdges: edges });
          },
          selectAll() {
            const d = get().doc;
            set({ selectedNodes: d.nodes.map((n) => n.id), selectedEdges: d.edges.map((e) => e.id) });
          },
          async tidyUp(sizes) {
            const before = get().doc;
            // ELK is large: load it on first use, not at startup.
            const { layoutGraph } = await import('../../core/graph/layout.ts');
            const positions = await layoutGraph(before, sizes);
            if (get().doc !== before) return; // the graph changed while ELK worked; don't clobber it
            change(edit.moveNodes(before, positions), false);
          },
          setWeights(weights, runs) {
            const d = get().doc;
            const next: GraphDocument = { ...d };
            if (weights) next.weights = weights;
            else delete next.weights;
            if (runs) next.runs = runs;
            change(next, false);
          },
          setMasks(masks) {
            const d = get().doc;
            const next: GraphDocument = { ...d };
            if (masks) next.masks = masks;
            else delete next.masks;
            change(next);
          },
          addExperimentResult(result) {
            change(withResult(get().doc, result), false);
          },
          removeExperimentResult(id) {
            change(withoutResult(get().doc, id), false);
          },
          applyExperimentResult(result) {
            const def = experimentDef(result.experiment);
            if (def?.apply) change(def.apply(get().doc, result.data));
          },
          notify(kind, text) {
            set({ notice: { kind, text, seq: ++noticeSeq } });
          },
          clearNotice() {
            set({ notice: null });
          },
        };
      },
      {
        // Undo is for the document: not the selection, the file name or messages.
        partialize: (s) => ({ doc: s.doc }),
        equality: (a, b) => a.doc === b.doc,
        limit: 200,
      },
    ),
  );
  return Object.assign(store, { isLocked });
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export type EditorStore = ReturnType<typeof createEditorStore>;

/**
 * Undo/redo, refused while a run holds the graph (they could remove what is training), and
 * dropping a selection that points at nodes that no longer exist.
 */
export function undo(store: EditorStore): void {
  if (refuseWhileLocked(store)) return;
  store.temporal.getState().undo();
  pruneSelection(store);
}
export function redo(store: EditorStore): void {
  if (refuseWhileLocked(store)) return;
  store.temporal.getState().redo();
  pruneSelection(store);
}
function refuseWhileLocked(store: EditorStore): boolean {
  if (!store.isLocked()) return false;
  store.getState().notify('warning', 'The graph is locked while training runs: stop the run to undo or redo');
  return true;
}
function pruneSelection(store: EditorStore): void {
  const s = store.getState();
  const nodes = new Set(s.doc.nodes.map((n) => n.id));
  const edges = new Set(s.doc.edges.map((e) => e.id));
  s.select(s.selectedNodes.filter((id) => nodes.has(id)), s.selectedEdges.filter((id) => edges.has(id)));
}

export function isDirty(s: Pick<EditorState, 'doc' | 'savedDoc'>): boolean {
  return s.doc !== s.savedDoc;
}
