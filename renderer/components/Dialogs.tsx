/** Modal dialogs: the examples gallery, and "save changes?" before discarding work. */
import { useEffect, useRef, type ReactNode } from 'react';
import { EXAMPLES } from '../examples.ts';
import { ExampleList } from './ExampleList.tsx';

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
      <ExampleList examples={EXAMPLES} className="examples" action="Open example" onOpen={onOpen} />
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

export function FileFormatDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal label="The file format" onClose={onClose}>
      <h2>The .nngraph file format</h2>
      <p>
        A graph file is JSON text: <code>format</code> (&quot;gradflow-graph&quot;) and <code>version</code> (1), <code>metadata</code> (name, description, created,
        modified, app version), <code>nodes</code> (id, kind, optional label, position, every parameter), <code>edges</code> (id, source node and output port, target
        node and input port), and optionally <code>weights</code> (trained tensors as base64 little-endian float32, by node and name) and <code>runs</code> (settings,
        per-epoch and per-step curves).
      </p>
      <p>
        Keys are written in a fixed order with two-space indents, so files diff well in version control. Opening checks everything; a file that cannot be understood
        is refused with one message naming the node, port or field, and nothing is half-loaded. A node of a kind this version does not know is kept as it is and
        blocks training until it is replaced. Tables imported from CSV or JSON are stored inside the file, so a shared graph trains anywhere.
      </p>
      <div className="modal-actions">
        <button onClick={onClose}>Close</button>
      </div>
    </Modal>
  );
}
