/** Modal dialogs: the examples gallery, and "save changes?" before discarding work. */
import { useEffect, useRef, type ReactNode } from 'react';
import { EXAMPLES } from '../examples.ts';

function Modal({ label, children, onClose }: { label: string; children: ReactNode; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('button, [tabindex]')?.focus();
  }, []);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className="modal" role="dialog" aria-modal="true" aria-label={label} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        {children}
      </div>
    </div>
  );
}

export function ExamplesDialog({ onOpen, onClose }: { onOpen: (file: string, text: string) => void; onClose: () => void }) {
  return (
    <Modal label="Examples" onClose={onClose}>
      <h2>Examples</h2>
      <ul className="examples">
        {EXAMPLES.map((ex) => (
          <li key={ex.file}>
            <button aria-label={`Open example ${ex.name}`} onClick={() => onOpen(ex.file, ex.text)}>
              <strong>{ex.name}</strong>
              <span>{ex.description}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="modal-actions">
        <button onClick={onClose}>Close</button>
      </div>
    </Modal>
  );
}

export function ConfirmDiscard({ fileName, onSave, onDiscard, onCancel }: { fileName: string; onSave: () => void; onDiscard: () => void; onCancel: () => void }) {
  return (
    <Modal label="Unsaved changes" onClose={onCancel}>
      <h2>Save changes to {fileName}?</h2>
      <p>Your changes will be lost if you don’t save them.</p>
      <div className="modal-actions">
        <button className="primary" onClick={onSave}>
          Save
        </button>
        <button onClick={onDiscard}>Don’t save</button>
        <button onClick={onCancel}>Cancel</button>
      </div>
    </Modal>
  );
}

export function RecoverBanner({ savedAt, onRestore, onDiscard }: { savedAt: string; onRestore: () => void; onDiscard: () => void }) {
  return (
    <div className="banner" role="alert" aria-label="Recover unsaved work">
      <span>Gradflow found unsaved work from {new Date(savedAt).toLocaleString()}.</span>
      <button className="primary" onClick={onRestore}>
        Restore
      </button>
      <button onClick={onDiscard}>Discard</button>
    </div>
  );
}
