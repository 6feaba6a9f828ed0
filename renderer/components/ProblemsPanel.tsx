/** Errors and warnings of the graph; clicking one selects and centres its node. */
import { useReactFlow } from '@xyflow/react';
import { analysisOf } from '../store/editor.ts';
import { useEditor, useEditorStore } from '../store/context.tsx';

export function ProblemsPanel() {
  const doc = useEditor((s) => s.doc);
  const store = useEditorStore();
  const flow = useReactFlow();
  const a = analysisOf(doc);
  return (
    <section className="problems" aria-label="Problems">
      <h2>
        Problems <span className="count">{a.errors} errors, {a.warnings} warnings</span>
      </h2>
      {a.issues.length === 0 ? (
        <p className="ok">{doc.nodes.length ? 'No problems: every shape fits.' : 'Drag nodes from the palette, or open an example.'}</p>
      ) : (
        <ul>
          {a.issues.map((i, k) => (
            <li key={k}>
              <button
                className={`problem ${i.severity}`}
                onClick={() => {
                  if (!i.nodeId) return;
                  store.getState().select([i.nodeId]);
                  const n = doc.nodes.find((x) => x.id === i.nodeId);
                  if (n) void flow.setCenter(n.position.x + 90, n.position.y + 40, { zoom: Math.max(flow.getZoom(), 1), duration: 250 });
                }}
              >
                <span className="sev">{i.severity}</span> {i.message}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
