/**
 * The document's files: save and save as, open (from bytes, a dialog or outside), the
 * unsaved-changes guard, crash-recovery autosave and the window title. One hook, so the
 * shell only lays out and the commands call named actions.
 */
import { useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { isDirty } from './store/editor.ts';
import { useEditor, useEditorStore, usePlatform } from './store/context.tsx';
import { useTraining } from './train/context.tsx';

export interface DocumentFiles {
  /** Save in place (or ask where, with `as` or for a file never saved); false when cancelled or failed. */
  save(as: boolean): Promise<boolean>;
  /** Run `action` now, or after asking to save unsaved changes. */
  guard(action: () => void): void;
  /** Open a graph; false when it was refused (the message says why) and nothing changed. */
  openBytes(bytes: string | Uint8Array, name: string, path?: string): boolean;
  /** Ask the platform for a file and open it (after the guard). */
  openDialog(): void;
  /** The action waiting for the unsaved-changes answer, or null. */
  pending: (() => void) | null;
  /** Answer the unsaved-changes question. */
  resolvePending(answer: 'cancel' | 'discard' | 'save'): void;
  /** Unsaved work from a previous session, offered back once. */
  recovery: { text: string; savedAt: string } | null;
  restoreRecovery(): void;
  discardRecovery(): void;
}

export function useDocumentFiles(): DocumentFiles {
  const store = useEditorStore();
  const platform = usePlatform();
  const flow = useReactFlow();
  const training = useTraining();
  const fileName = useEditor((s) => s.fileName);
  const dirty = useEditor(isDirty);
  const doc = useEditor((s) => s.doc);
  const [pending, setPending] = useState<null | (() => void)>(null);
  const [recovery, setRecovery] = useState(() => platform.autosave.read());

  useEffect(() => platform.setTitle(fileName, dirty), [platform, fileName, dirty]);

  // Autosave unsaved work (debounced), so a crash never loses it; cleared once saved.
  useEffect(() => {
    const t = setTimeout(() => {
      const s = store.getState();
      if (isDirty(s)) platform.autosave.write(s.serialize().text);
      else if (!recovery) platform.autosave.clear();
    }, 800);
    return () => clearTimeout(t);
  }, [doc, platform, store, recovery]);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (isDirty(store.getState())) e.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [store]);

  const save = useCallback(
    async (as: boolean): Promise<boolean> => {
      const s = store.getState();
      const { text, doc: stamped } = s.serialize();
      try {
        const r = await platform.saveFile({ suggestedName: s.fileName, text, ...(as || !s.filePath ? {} : { path: s.filePath }) });
        if (!r) return false;
        if (store.getState().doc === s.doc) {
          // Saving stamps `modified`; the stamped document becomes the current and saved one,
          // without an undo step of its own (undo would only mark the file unsaved).
          const t = store.temporal.getState();
          t.pause();
          store.setState({ doc: stamped });
          t.resume();
          store.getState().markSaved(r.name, r.path ?? null, stamped);
          platform.autosave.clear();
        } else {
          // Edited while the file was being written: the file is saved, the newer edits are not.
          store.getState().markSaved(r.name, r.path ?? null, s.doc);
        }
        store.getState().notify('info', `Saved ${r.name}`);
        return true;
      } catch (e) {
        store.getState().notify('error', `Could not save ${s.fileName}: ${(e as Error).message}. Your graph is still open and unchanged.`);
        return false;
      }
    },
    [platform, store],
  );

  const guard = useCallback(
    (action: () => void) => {
      if (!isDirty(store.getState())) action();
      else setPending(() => action);
    },
    [store],
  );

  const openBytes = useCallback(
    (bytes: string | Uint8Array, name: string, path?: string): boolean => {
      if (training.live) {
        store.getState().notify('warning', 'Stop the training run before opening another graph');
        return false;
      }
      if (!store.getState().openText(bytes, name, path ?? null)) return false;
      training.resetWeights();
      requestAnimationFrame(() => void flow.fitView({ duration: 0, maxZoom: 1.2 }));
      return true;
    },
    [store, flow, training],
  );

  const openDialog = useCallback(() => {
    if (training.live) return store.getState().notify('warning', 'Stop the training run before opening another graph');
    guard(async () => {
      try {
        const f = await platform.openFile();
        if (f) openBytes(f.bytes, f.name, f.path);
      } catch (e) {
        store.getState().notify('error', `Could not open the file: ${(e as Error).message}`);
      }
    });
  }, [training, store, guard, platform, openBytes]);

  useEffect(() => platform.onOpenFile((f) => guard(() => openBytes(f.bytes, f.name, f.path))), [platform, guard, openBytes]);

  const saveRef = useRef(save);
  saveRef.current = save;
  const resolvePending = useCallback(
    (answer: 'cancel' | 'discard' | 'save') => {
      const action = pending;
      setPending(null);
      if (!action || answer === 'cancel') return;
      if (answer === 'discard') {
        platform.autosave.clear();
        action();
      } else {
        void saveRef.current(false).then((ok) => ok && action());
      }
    },
    [pending, platform],
  );

  return {
    save,
    guard,
    openBytes,
    openDialog,
    pending,
    resolvePending,
    recovery,
    restoreRecovery: () => {
      if (!recovery) return;
      // Only a successful restore consumes the recovered work; otherwise it stays offered.
      if (!openBytes(recovery.text, 'Recovered.nngraph')) return;
      // A recovered graph is unsaved work: keep it dirty until the user saves it.
      store.setState({ savedDoc: { ...store.getState().doc } });
      setRecovery(null);
    },
    discardRecovery: () => {
      platform.autosave.clear();
      setRecovery(null);
    },
  };
}
