/** The palette: every kind in the catalogue by category, searchable; drag onto the canvas, or press Enter to add. */
import { useState } from 'react';
import { kindsByCategory } from '../../core/graph/catalogue.ts';
import { DRAG_MIME } from './Canvas.tsx';
import { matchesSearch } from './QuickAdd.tsx';

export function Palette({ onAdd }: { onAdd: (kind: string) => void }) {
  const [query, setQuery] = useState('');
  const groups = kindsByCategory()
    .map((g) => ({ ...g, kinds: g.kinds.filter((d) => matchesSearch(d, query)) }))
    .filter((g) => g.kinds.length);
  return (
    <aside className="palette" aria-label="Palette">
      <input className="palette-search" type="search" placeholder="Search nodes" aria-label="Search the palette" value={query} onChange={(e) => setQuery(e.target.value)} />
      <div className="palette-groups">
        {groups.map((g) => (
          <section key={g.category} aria-label={g.category}>
            <h3>{g.category}</h3>
            <ul>
              {g.kinds.map((d) => (
                <li key={d.kind}>
                  <button
                    className={`palette-item cat-${g.category}`}
                    draggable
                    aria-label={d.title}
                    aria-description={d.description}
                    title={d.description}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DRAG_MIME, d.kind);
                      e.dataTransfer.effectAllowed = 'copy';
                    }}
                    onClick={() => onAdd(d.kind)}
                  >
                    <span className="palette-title">{d.title}</span>
                    <span className="palette-desc">{d.description}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {groups.length === 0 ? <p className="empty">No node matches “{query}”.</p> : null}
      </div>
    </aside>
  );
}
