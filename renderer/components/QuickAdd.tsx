/** A searchable list of node kinds, placed at the cursor (double-click, key "/" or a wire dropped on empty canvas). */
import { useEffect, useMemo, useRef, useState } from 'react';
import { catalogue } from '../../core/graph/catalogue.ts';
import type { AnyKindDef } from '../../core/graph/types.ts';

export interface QuickAddRequest {
  /** Screen position of the menu. */
  screen: { x: number; y: number };
  /** Flow position where the node goes. */
  flow: { x: number; y: number };
  /** Only kinds that fit a dropped wire: a kind needs a port of this type on this side. */
  fit?: { side: 'input' | 'output'; type: 'tensor' | 'loss' };
}

export function matchesSearch(def: AnyKindDef, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (!s) return true;
  return [def.title, def.kind, def.category, def.description].some((t) => t.toLowerCase().includes(s));
}

export function QuickAdd({ request, onPick, onClose }: { request: QuickAddRequest; onPick: (kind: string) => void; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const kinds = useMemo(
    () =>
      catalogue.filter((d) => {
        if (!matchesSearch(d, query)) return false;
        if (!request.fit) return true;
        const ports = request.fit.side === 'input' ? d.inputs : d.outputs;
        return ports.some((p: { type: string }) => p.type === request.fit!.type);
      }),
    [query, request.fit],
  );
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setActive(0), [query]);
  return (
    <div className="quick-add" role="dialog" aria-label="Add node" style={{ left: request.screen.x, top: request.screen.y }} onKeyDown={(e) => e.stopPropagation()}>
      <input
        ref={input}
        aria-label="Search node kinds"
        placeholder={request.fit ? 'Nodes that fit this wire…' : 'Add a node…'}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(kinds.length - 1, a + 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(0, a - 1));
          else if (e.key === 'Enter' && kinds[active]) onPick(kinds[active]!.kind);
          else return;
          e.preventDefault();
        }}
        onBlur={(e) => {
          if (!e.currentTarget.parentElement?.contains(e.relatedTarget as Node)) onClose();
        }}
      />
      <ul role="listbox" aria-label="Node kinds">
        {kinds.map((d, i) => (
          <li key={d.kind} role="option" aria-selected={i === active} tabIndex={-1} className={i === active ? 'active' : ''} onMouseDown={(e) => e.preventDefault()} onClick={() => onPick(d.kind)} title={d.description}>
            <span className="qa-title">{d.title}</span>
            <span className="qa-cat">{d.category}</span>
          </li>
        ))}
        {kinds.length === 0 ? <li className="qa-empty">No kind matches</li> : null}
      </ul>
    </div>
  );
}
