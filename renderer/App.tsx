/** The editor shell: toolbar, palette, canvas, inspector, problems; commands, shortcuts, files, autosave. */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Position } from '../core/graph/document.ts';
import type { MenuCommand } from '../core/platform.ts';
import { Canvas } from './components/Canvas.tsx';
import { ConfirmDiscard, ExamplesDialog, FileFormatDialog, RecoverBanner } from './components/Dialogs.tsx';
import { runsToCsv } from './export.ts';
import { downloadText, pickFile } from './platform/dom-files.ts';
import { ImportDialog, type TableChoice } from './components/ImportDialog.tsx';
import { Inspector } from './components/Inspector.tsx';
import { importTable, type TableImport } from '../core/data/table.ts';
import { Palette } from './components/Palette.tsx';
import { ProblemsPanel } from './components/ProblemsPanel.tsx';
import { analysisOf, isDirty, redo, undo } from './store/editor.ts';
import { useEditor, useEditorStore, usePlatform } from './store/context.tsx';
import { useRun, useTraining } from './train/context.tsx';
import { Dashboard } from './train/Dashboard.tsx';
import { GradientLegend } from './train/Legend.tsx';
import { RunBar } from './train/RunBar.tsx';
import { mergeRuns } from './train/run.ts';

type Theme = 'system' | 'light' | 'dark';

/** Keyboard shortcuts, desktop conventions (Ctrl on Linux/Windows, Cmd on macOS). */
export function shortcutCommand(e: KeyboardEvent): MenuCommand | null {
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key.toLowerCase();
  if (mod && !e.altKey) {
    if (k === 'n') return 'new';
    if (k === 'o') return 'open';
    if (k === 's') return e.shiftKey ? 'saveAs' : 'save';
    if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (k === 'y') return 'redo';
    if (k === 'c') return 'copy';
    if (k === 'x') return 'cut';
    if (k === 'v') return 'paste';
    if (k === 'd') return 'duplicate';
    if (k === 'a') return 'selectAll';
    if (k === '=' || k === '+') return 'zoomIn';
    if (k === '-') return 'zoomOut';
    return null;
  }
  if (!mod && !e.altKey) {
    if (e.key === 'Delete' || e.key === 'Backspace') return 'delete';
    if (k === 'f' && !e.shiftKey) return 'fitView';
  }
  return null;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

function Shell() {
  const store = useEditorStore();
  const platform = usePlatform();
  const flow = useReactFlow();
  const fileName = useEditor((s) => s.fileName);
  const dirty = useEditor(isDirty);
  const notice = useEditor((s) => s.notice);
  const doc = useEditor((s) => s.doc);
  const canUndo = useEditor(() => store.temporal.getState().pastStates.length > 0);
  const [showExamples, setShowExamples] = useState(false);
  const [imported, setImported] = useState<TableImport | null>(null);
  const [showFormat, setShowFormat] = useState(false);
  const [confirm, setConfirm] = useState<null | (() => void)>(null);
  const [recovery, setRecovery] = useState(() => platform.autosave.read());
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('gradflow.theme') as Theme | null) ?? 'system');
  const clipboard = useRef<string | null>(null);
  const a = analysisOf(doc);
  const training = useTraining();
  const fault = useRun((s) => s.fault);
  const runError = useRun((s) => s.error);

  // A fault (NaN/Infinity) pauses everything on the node where it appeared.
  useEffect(() => {
    if (!fault) return;
    store.getState().notify('error', `Training stopped: ${fault.message}`);
    if (fault.nodeId) {
      store.getState().select([fault.nodeId]);
      const n = store.getState().doc.nodes.find((x) => x.id === fault.nodeId);
      if (n) void flow.setCenter(n.position.x + 90, n.position.y + 40, { zoom: Math.max(flow.getZoom(), 1), duration: 250 });
    }
  }, [fault, store, flow]);
  useEffect(() => {
    if (runError) store.getState().notify('error', runError);
  }, [runError, store]);

  /** Train: continue from the last run's weights, or the weights saved in the file, or start fresh. */
  const train = useCallback(() => {
    const s = store.getState();
    const weights = training.store.getState().checkpoint ?? s.doc.weights ?? null;
    training.start(s.doc, weights);
  }, [store, training]);

  /** Put the trained weights and the runs into the document, then save it. */
  const saveWithWeights = useCallback(async () => {
    const weights = await training.exportWeights();
    if (!weights) {
      store.getState().notify('warning', 'There are no trained weights yet: train the network first');
      return;
    }
    const d = store.getState().doc;
    store.getState().setWeights(weights, mergeRuns(d.runs, training.store.getState().runs));
    await saveRef.current(false);
  }, [store, training]);
  const saveRef = useRef<(as: boolean) => Promise<boolean>>(async () => false);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('gradflow.theme', theme);
  }, [theme]);
  useEffect(() => platform.setTitle(fileName, dirty), [platform, fileName, dirty]);
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => store.getState().clearNotice(), notice.kind === 'error' ? 12_000 : 6_000);
    return () => clearTimeout(t);
  }, [notice, store]);

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

  saveRef.current = save;

  /** Run `action` now, or after asking to save unsaved changes. */
  const guard = useCallback(
    (action: () => void) => {
      if (!isDirty(store.getState())) action();
      else setConfirm(() => action);
    },
    [store],
  );

  /** Open a graph; false when it was refused (the message says why) and nothing changed. */
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

  const paste = useCallback(
    async (at?: Position) => {
      let text = clipboard.current;
      try {
        const sys = await navigator.clipboard?.readText?.();
        if (sys && sys.includes('gradflow-clipboard')) text = sys;
      } catch {
        // No permission to read the system clipboard: use the app's own.
      }
      if (text) store.getState().paste(text, at);
    },
    [store],
  );
  const copy = useCallback(
    (cut: boolean) => {
      const text = cut ? store.getState().cutSelection() : store.getState().copySelection();
      if (!text) return;
      clipboard.current = text;
      navigator.clipboard?.writeText?.(text).catch(() => {});
    },
    [store],
  );

  const run = useCallback(
    (command: MenuCommand) => {
      const s = store.getState();
      switch (command) {
        case 'new':
          if (training.live) return s.notify('warning', 'Stop the training run before starting a new graph');
          return guard(() => {
            training.resetWeights();
            s.newDocument();
            platform.autosave.clear();
          });
        case 'open':
          if (training.live) return s.notify('warning', 'Stop the training run before opening another graph');
          return guard(async () => {
            try {
              const f = await platform.openFile();
              if (f) openBytes(f.bytes, f.name, f.path);
            } catch (e) {
              s.notify('error', `Could not open the file: ${(e as Error).message}`);
            }
          });
        case 'export':
          return void exportRuns();
        case 'help.fileFormat':
          return setShowFormat(true);
        case 'save':
          return void save(false);
        case 'saveAs':
          return void save(true);
        case 'undo':
          return undo(store);
        case 'redo':
          return redo(store);
        case 'copy':
          return copy(false);
        case 'cut':
          return copy(true);
        case 'paste':
          return void paste();
        case 'delete':
          return s.deleteSelection();
        case 'duplicate':
          return s.duplicateSelection();
        case 'selectAll':
          return s.selectAll();
        case 'fitView':
          return void flow.fitView({ duration: 200, maxZoom: 1.5 });
        case 'zoomIn':
          return void flow.zoomIn();
        case 'zoomOut':
          return void flow.zoomOut();
        case 'tidyUp':
          return void s.tidyUp().then(() => flow.fitView({ duration: 200 }));
        case 'toggleTheme':
          return setTheme((t) => (t === 'dark' ? 'light' : 'dark'));
        case 'examples':
          return setShowExamples(true);
        case 'train.start':
          return training.live ? training.resume() : train();
        case 'train.pause':
          return training.pause();
        case 'train.step':
          return training.step();
        case 'train.stop':
          return training.stop();
        default:
          return;
      }
    },
    [store, guard, platform, openBytes, save, copy, paste, flow, training, train],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || document.querySelector('.modal')) return;
      const command = shortcutCommand(e);
      if (!command) return;
      e.preventDefault();
      run(command);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [run]);
  useEffect(() => platform.onCommand(run), [platform, run]);
  useEffect(() => platform.onOpenFile((f) => guard(() => openBytes(f.bytes, f.name, f.path))), [platform, guard, openBytes]);

  /** Export: the curves of every run (this session's and the file's) as CSV, for a spreadsheet or a paper. */
  const exportRuns = async () => {
    const d = store.getState().doc;
    const runs = mergeRuns(d.runs, training.store.getState().runs);
    if (!runs.length) {
      store.getState().notify('warning', 'There is nothing to export yet: train the network first (Export writes the runs’ curves as CSV)');
      return;
    }
    const data = runsToCsv(runs);
    const suggestedName = `${store.getState().fileName.replace(/\.nngraph$/, '')}-runs.csv`;
    try {
      const saved = platform.exportFile ? await platform.exportFile({ suggestedName, data, filters: [{ name: 'CSV', extensions: ['csv'] }] }) : downloadText(suggestedName, data, 'text/csv');
      if (saved) store.getState().notify('info', `Exported ${runs.length} run${runs.length === 1 ? '' : 's'} to ${saved.name}`);
    } catch (e) {
      store.getState().notify('error', `Could not export: ${(e as Error).message}`);
    }
  };

  /** Read a CSV or JSON file the user picks; a broken file gets a message naming the row and column. */
  const importData = async () => {
    const file = await pickFile('.csv,.tsv,.txt,.json,text/csv,application/json');
    if (!file) return;
    const r = importTable(await file.text(), file.name);
    if (!r.ok) store.getState().notify('error', `Could not import ${file.name}: ${r.error}`);
    else setImported(r.value);
  };

  const createTableDataset = (c: TableChoice) => {
    setImported(null);
    const s = store.getState();
    const params = { data: c.data, fileName: c.fileName, features: c.features, label: c.label, task: c.task, normalization: c.normalization, validationFraction: c.validationFraction };
    const target = s.selectedNodes.length === 1 ? s.doc.nodes.find((n) => n.id === s.selectedNodes[0] && n.kind === 'tableDataset') : undefined;
    if (target) {
      s.setParams(target.id, params);
      return;
    }
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const p = flow.screenToFlowPosition({ x: (el?.left ?? 0) + 120, y: (el?.top ?? 0) + 120 });
    s.addNode('tableDataset', p, params);
  };

  const addAtCentre = (kind: string) => {
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const p = flow.screenToFlowPosition({ x: (el?.left ?? 0) + (el?.width ?? 800) / 2, y: (el?.top ?? 0) + (el?.height ?? 600) / 2 });
    const n = store.getState().doc.nodes.length;
    store.getState().addNode(kind, { x: p.x - 90 + (n % 5) * 20, y: p.y - 40 + (n % 5) * 20 });
  };

  return (
    <div className="app">
      <header className="toolbar" role="toolbar" aria-label="Main toolbar">
        <span className="brand">Gradflow</span>
        <span className="doc-title" aria-label="Document title">
          {fileName}
          {dirty ? <span className="dirty" aria-label="unsaved changes"> ●</span> : null}
        </span>
        <button onClick={() => run('new')} title="New (Ctrl+N)">New</button>
        <button onClick={() => run('open')} title="Open (Ctrl+O)">Open</button>
        <button onClick={() => run('save')} title="Save (Ctrl+S)">Save</button>
        <button onClick={() => run('saveAs')} title="Save as (Ctrl+Shift+S)">Save as</button>
        <button onClick={() => void saveWithWeights()} title="Save the graph with its trained weights and runs">Save with weights</button>
        <button onClick={() => run('examples')}>Examples</button>
        <button onClick={() => void importData()} title="Make a Table dataset from a CSV or JSON file">Import data…</button>
        <button onClick={() => run('export')} title="Export the curves of every run as CSV">Export runs</button>
        <span className="sep" />
        <button onClick={() => run('undo')} disabled={!canUndo} title="Undo (Ctrl+Z)">Undo</button>
        <button onClick={() => run('redo')} title="Redo (Ctrl+Shift+Z)">Redo</button>
        <button onClick={() => run('tidyUp')} title="Arrange the graph left to right">Tidy up</button>
        <button onClick={() => run('fitView')} title="Fit view (F)">Fit</button>
        <span className="sep" />
        <label className="theme">
          Theme{' '}
          <select aria-label="Theme" value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <span className="totals-inline" aria-label="Parameter count">
          {(a.totals.trainable + a.totals.nonTrainable).toLocaleString('en-US')} parameters
        </span>
      </header>
      {recovery ? (
        <RecoverBanner
          savedAt={recovery.savedAt}
          onRestore={() => {
            // Only a successful restore consumes the recovered work; otherwise it stays offered.
            if (!openBytes(recovery.text, 'Recovered.nngraph')) return;
            // A recovered graph is unsaved work: keep it dirty until the user saves it.
            store.setState({ savedDoc: { ...store.getState().doc } });
            setRecovery(null);
          }}
          onDiscard={() => {
            platform.autosave.clear();
            setRecovery(null);
          }}
        />
      ) : null}
      <div className="workspace">
        <Palette onAdd={addAtCentre} />
        <main className="centre">
          <RunBar onTrain={train} />
          <div className="canvas-wrap">
            <Canvas commands={{ copy: () => copy(false), cut: () => copy(true), paste: (at) => void paste(at) }} />
            <GradientLegend />
          </div>
          <div className="bottom-panels">
            <ProblemsPanel />
            <Dashboard />
          </div>
        </main>
        <Inspector />
      </div>
      {notice ? (
        <div className={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} key={notice.seq}>
          <span>{notice.text}</span>
          <button aria-label="Dismiss message" onClick={() => store.getState().clearNotice()}>
            ×
          </button>
        </div>
      ) : null}
      {showExamples ? (
        <ExamplesDialog
          onClose={() => setShowExamples(false)}
          onOpen={(file, text) => {
            setShowExamples(false);
            guard(() => openBytes(text, file));
          }}
        />
      ) : null}
      {showFormat ? <FileFormatDialog onClose={() => setShowFormat(false)} /> : null}
      {imported ? <ImportDialog imported={imported} onCreate={createTableDataset} onCancel={() => setImported(null)} /> : null}
      {confirm ? (
        <ConfirmDiscard
          fileName={fileName}
          onCancel={() => setConfirm(null)}
          onDiscard={() => {
            const action = confirm;
            setConfirm(null);
            platform.autosave.clear();
            action();
          }}
          onSave={async () => {
            const action = confirm;
            setConfirm(null);
            if (await save(false)) action();
          }}
        />
      ) : null}
    </div>
  );
}

export function App() {
  return (
    <ReactFlowProvider>
      <Shell />
    </ReactFlowProvider>
  );
}
