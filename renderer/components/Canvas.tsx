/** The canvas: a React Flow view of the document. Every change goes through the store's actions. */
import {
  Background,
  BackgroundVariant,
  ConnectionLineType,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type OnConnectEnd,
} from '@xyflow/react';
import { useCallback, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import { kindDef } from '../../core/graph/catalogue.ts';
import { connectionProblem } from '../../core/graph/edit.ts';
import type { Position as XY } from '../../core/graph/document.ts';
import { edgeTypes, type ShapeFlowEdge } from '../nodes/ShapeEdge.tsx';
import { nodeTypes, type GraphFlowNode } from '../nodes/NodeCard.tsx';
import { NodeViewCache, shapeText } from '../nodes/view.ts';
import { analysisOf, savingsOf } from '../store/editor.ts';
import { useEditor, useEditorStore } from '../store/context.tsx';
import { commandMenuItem, useCommands } from '../commands.tsx';
import { ContextMenu, type MenuItem } from './ContextMenu.tsx';
import { QuickAdd, type QuickAddRequest } from './QuickAdd.tsx';

export const DRAG_MIME = 'application/x-gradflow-kind';

interface PendingWire {
  nodeId: string;
  handleId: string;
  side: 'source' | 'target';
}

export function Canvas({ commands }: { commands: { paste(at?: XY): void } }) {
  const store = useEditorStore();
  const doc = useEditor((s) => s.doc);
  const selectedNodes = useEditor((s) => s.selectedNodes);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  const flow = useReactFlow();
  const registry = useCommands();
  const cache = useRef(new NodeViewCache());
  const [measured, setMeasured] = useState(() => new Map<string, { width: number; height: number }>());
  const [quickAdd, setQuickAdd] = useState<(QuickAddRequest & { wire?: PendingWire }) | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number; items: MenuItem[] } | null>(null);

  const analysis = analysisOf(doc);
  const savings = savingsOf(doc);
  const nodes: GraphFlowNode[] = useMemo(() => {
    const sel = new Set(selectedNodes);
    cache.current.prune(new Set(doc.nodes.map((n) => n.id)));
    return doc.nodes.map((n) => {
      const view = cache.current.get(n, analysis, savings);
      const m = measured.get(n.id);
      return {
        id: n.id,
        type: view.category,
        position: n.position,
        data: { view },
        selected: sel.has(n.id),
        ...(m ? { measured: m, width: m.width, height: m.height } : {}),
        ariaLabel: `${view.title} ${view.label ?? n.id}`,
      };
    });
  }, [doc, analysis, savings, selectedNodes, measured]);

  const edges: ShapeFlowEdge[] = useMemo(() => {
    const sel = new Set(selectedEdges);
    const remaining = new Map(savings.nodes.filter((x) => x.pruned).map((x) => [x.nodeId, x.fractionKept]));
    return doc.edges.map((e) => {
      const ea = analysis.edges[e.id];
      const problem = analysis.issues.find((i) => i.edgeId === e.id || (i.nodeId === e.target && i.port === e.targetPort && i.severity === 'error'))?.message ?? null;
      const tPort = kindDef(doc.nodes.find((n) => n.id === e.target)?.kind ?? '')?.inputs.find((p: { name: string }) => p.name === e.targetPort);
      return {
        id: e.id,
        source: e.source,
        sourceHandle: e.sourcePort,
        target: e.target,
        targetHandle: e.targetPort,
        type: 'shape' as const,
        selected: sel.has(e.id),
        data: { shape: ea?.shape && ea.shape.length ? shapeText(ea.shape) : null, problem: ea?.valid === false ? problem : problem && ea?.shape === null ? problem : null, loss: tPort?.type === 'loss', remaining: remaining.get(e.target) ?? null },
        ariaLabel: `edge from ${e.source}.${e.sourcePort} to ${e.target}.${e.targetPort}`,
      };
    });
  }, [doc, analysis, savings, selectedEdges]);

  const onNodesChange = useCallback(
    (changes: NodeChange<GraphFlowNode>[]) => {
      const positions = new Map<string, XY>();
      let selection: Set<string> | null = null;
      let sizes: Map<string, { width: number; height: number }> | null = null;
      for (const c of changes) {
        if (c.type === 'position' && c.position) positions.set(c.id, { x: Math.round(c.position.x), y: Math.round(c.position.y) });
        else if (c.type === 'select') {
          selection ??= new Set(store.getState().selectedNodes);
          if (c.selected) selection.add(c.id);
          else selection.delete(c.id);
        } else if (c.type === 'dimensions' && c.dimensions) {
          sizes ??= new Map();
          sizes.set(c.id, c.dimensions);
        }
      }
      if (positions.size) store.getState().moveNodes(positions);
      if (selection) store.getState().select([...selection], store.getState().selectedEdges);
      if (sizes) {
        const s = sizes;
        setMeasured((prev) => {
          let changed = false;
          const next = new Map(prev);
          for (const [id, d] of s) {
            const p = prev.get(id);
            if (!p || p.width !== d.width || p.height !== d.height) {
              next.set(id, d);
              changed = true;
            }
          }
          return changed ? next : prev;
        });
      }
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<ShapeFlowEdge>[]) => {
      let selection: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === 'select') {
          selection ??= new Set(store.getState().selectedEdges);
          if (c.selected) selection.add(c.id);
          else selection.delete(c.id);
        }
      }
      if (selection) store.getState().select(store.getState().selectedNodes, [...selection]);
    },
    [store],
  );

  const toRequest = (c: Connection) => ({ source: c.source, sourcePort: c.sourceHandle ?? '', target: c.target, targetPort: c.targetHandle ?? '' });
  const onConnect = useCallback((c: Connection) => void store.getState().connect(toRequest(c)), [store]);
  const isValidConnection = useCallback((c: Connection | ShapeFlowEdge) => connectionProblem(store.getState().doc, toRequest(c as Connection)) === null, [store]);

  const onConnectEnd: OnConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode || !state.fromHandle) return;
      const point = 'changedTouches' in event ? event.changedTouches[0]! : event;
      if (state.toHandle && state.toNode) {
        const from = { nodeId: state.fromNode.id, port: state.fromHandle.id ?? '' };
        const to = { nodeId: state.toNode.id, port: state.toHandle.id ?? '' };
        const req = state.fromHandle.type === 'source'
          ? { source: from.nodeId, sourcePort: from.port, target: to.nodeId, targetPort: to.port }
          : { source: to.nodeId, sourcePort: to.port, target: from.nodeId, targetPort: from.port };
        const problem = connectionProblem(store.getState().doc, req);
        if (problem) store.getState().notify('error', `Cannot connect: ${problem}`);
        return;
      }
      // Dropped on empty canvas: offer the kinds that can take this wire.
      const fromDef = kindDef(store.getState().doc.nodes.find((n) => n.id === state.fromNode!.id)?.kind ?? '');
      const side = state.fromHandle.type === 'source' ? 'output' : 'input';
      const port = (side === 'output' ? fromDef?.outputs : fromDef?.inputs)?.find((p: { name: string }) => p.name === state.fromHandle!.id);
      setQuickAdd({
        screen: { x: point.clientX, y: point.clientY },
        flow: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
        fit: { side: side === 'output' ? 'input' : 'output', type: port?.type ?? 'tensor' },
        wire: { nodeId: state.fromNode.id, handleId: state.fromHandle.id ?? '', side: state.fromHandle.type },
      });
    },
    [flow, store],
  );

  const pickQuickAdd = (kind: string) => {
    const req = quickAdd;
    setQuickAdd(null);
    if (!req) return;
    const id = store.getState().addNode(kind, req.flow);
    if (!id || !req.wire) return;
    const def = kindDef(kind)!;
    if (req.wire.side === 'source') {
      const port = def.inputs.find((p: { type: string }) => p.type === req.fit?.type);
      if (port) store.getState().connect({ source: req.wire.nodeId, sourcePort: req.wire.handleId, target: id, targetPort: port.name });
    } else {
      const port = def.outputs.find((p: { type: string }) => p.type === req.fit?.type);
      if (port) store.getState().connect({ source: id, sourcePort: port.name, target: req.wire.nodeId, targetPort: req.wire.handleId });
    }
  };

  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(DRAG_MIME);
      if (!kind) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      store.getState().addNode(kind, { x: p.x - 90, y: p.y - 30 });
    },
    [flow, store],
  );

  const openQuickAdd = (clientX: number, clientY: number) =>
    setQuickAdd({ screen: { x: clientX, y: clientY }, flow: flow.screenToFlowPosition({ x: clientX, y: clientY }) });

  const onDoubleClick = (e: ReactMouseEvent) => {
    if ((e.target as HTMLElement).classList.contains('react-flow__pane')) openQuickAdd(e.clientX, e.clientY);
  };

  const nodeMenu = (e: ReactMouseEvent, nodeId: string) => {
    e.preventDefault();
    const s = store.getState();
    if (!s.selectedNodes.includes(nodeId)) s.select([nodeId]);
    setMenu({
      x: e.clientX,
      y: e.clientY,
      // The selection changes just above; the commands run on it, so they are offered enabled.
      items: (['duplicate', 'copy', 'cut', 'delete'] as const).map((id) => ({ ...commandMenuItem(registry.get(id)), disabled: false })),
    });
  };
  const paneMenu = (e: ReactMouseEvent | MouseEvent) => {
    e.preventDefault();
    const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    setMenu({
      x: e.clientX,
      y: e.clientY,
      items: [
        { label: 'Add node…', run: () => openQuickAdd(e.clientX, e.clientY) },
        commandMenuItem(registry.get('paste'), () => commands.paste(at)),
        commandMenuItem(registry.get('selectAll')),
        // With the measured node sizes, so the layout leaves room for tall nodes.
        commandMenuItem(registry.get('tidyUp'), () => void store.getState().tidyUp(measured)),
        commandMenuItem(registry.get('fitView')),
      ],
    });
  };

  return (
    <div className="canvas" onDoubleClick={onDoubleClick} onDragOver={(e) => e.dataTransfer.types.includes(DRAG_MIME) && e.preventDefault()} onDrop={onDrop}>
      <ReactFlow<GraphFlowNode, ShapeFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={() => store.getState().beginGesture()}
        onNodeDragStop={() => store.getState().endGesture()}
        onSelectionDragStart={() => store.getState().beginGesture()}
        onSelectionDragStop={() => store.getState().endGesture()}
        onNodeContextMenu={(e, n) => nodeMenu(e, n.id)}
        onPaneContextMenu={paneMenu}
        onEdgeContextMenu={(e, edge) => {
          e.preventDefault();
          setMenu({ x: e.clientX, y: e.clientY, items: [{ label: 'Delete edge', run: () => store.getState().removeEdges([edge.id]) }] });
        }}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control']}
        zoomOnDoubleClick={false}
        snapToGrid
        snapGrid={[10, 10]}
        connectionLineType={ConnectionLineType.Bezier}
        minZoom={0.05}
        maxZoom={2.5}
        onlyRenderVisibleElements
        // No `fitView` prop: it would zoom onto the first node dropped on an empty canvas.
        // Documents are fitted when opened (App), with a zoom cap so small graphs stay readable.
        defaultViewport={{ x: 0, y: 0, zoom: 1 }}
        // React Flow's attribution stays visible, as its MIT licence's maintainers ask of
        // projects without a Pro subscription (hiding it warns on every load); top right, it clears
        // the zoom controls, the legend and the minimap.
        attributionPosition="top-right"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
        <Controls aria-label="Zoom controls" />
      </ReactFlow>
      {quickAdd ? <QuickAdd request={quickAdd} onPick={pickQuickAdd} onClose={() => setQuickAdd(null)} /> : null}
      {menu ? <ContextMenu {...menu} onClose={() => setMenu(null)} /> : null}
    </div>
  );
}
