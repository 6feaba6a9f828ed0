/**
 * The editor shell: lays out the toolbar, palette, canvas, inspector and the resizable bottom
 * panels, and defines what each command does (renderer/commands.tsx turns that into the
 * registry that the keyboard, toolbar, menus and context menus share).
 */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Group, Panel, Separator, useDefaultLayout, usePanelRef } from 'react-resizable-panels';
import { commandForKey } from '../core/commands.ts';
import type { Position } from '../core/graph/document.ts';
import type { MenuCommand } from '../core/platform.ts';
import { importTable, type TableImport } from '../core/data/table.ts';
import { TABLE_KIND } from '../core/graph/catalogue.ts';
import { fragmentToGraphText, graphToFragment, isGraphFragment } from '../core/io/link.ts';
import { CommandButton, CommandsProvider, useCommandEnablement, useCommandRegistry, useShortcuts, type CommandHandlers } from './commands.tsx';
import { Canvas } from './components/Canvas.tsx';
import { ConfirmDiscard, ExamplesDialog, FileFormatDialog, RecoverBanner } from './components/Dialogs.tsx';
import { ImportDialog, type TableChoice } from './components/ImportDialog.tsx';
import { ModelExchangeDialog } from './components/ModelExchange.tsx';
import { Inspector } from './components/Inspector.tsx';
import { Palette } from './components/Palette.tsx';
import { ProblemsPanel } from './components/ProblemsPanel.tsx';
import { GuidePanel, StartPanel } from './components/StartPanel.tsx';
import { Toolbar, type Theme } from './components/Toolbar.tsx';
import { runsToCsv } from './export.ts';
import { downloadText, pickFile } from './platform/dom-files.ts';
import { redo, undo } from './store/editor.ts';
import { useEditor, useEditorStore, usePlatform } from './store/context.tsx';
import { useRun, useTraining } from './train/context.tsx';
import { Dashboard } from './train/Dashboard.tsx';
import { ExperimentsPanel } from './experiments/ExperimentsPanel.tsx';
import { GradientLegend } from './train/Legend.tsx';
import { RunBar } from './train/RunBar.tsx';
import { mergeRuns } from './train/run.ts';
import { useDocumentFiles } from './useDocumentFiles.ts';

/** Keyboard shortcuts, desktop conventions (Ctrl on Linux/Windows, Cmd on macOS); the keys are in core/commands.ts. */
export function shortcutCommand(e: KeyboardEvent): MenuCommand | null {
  return commandForKey(e);
}

function Shell() {
  const store = useEditorStore();
  const platform = usePlatform();
  const flow = useReactFlow();
  const training = useTraining();
  const files = useDocumentFiles();
  const notice = useEditor((s) => s.notice);
  const [showExamples, setShowExamples] = useState(false);
  const [imported, setImported] = useState<TableImport | null>(null);
  const [showModel, setShowModel] = useState(false);
  const [showFormat, setShowFormat] = useState(false);
  const [guide, setGuide] = useState(false);
  const empty = useEditor((s) => s.doc.nodes.length === 0);
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('gradflow.theme') as Theme | null) ?? 'system');
  const clipboard = useRef<string | null>(null);
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

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('gradflow.theme', theme);
  }, [theme]);
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => store.getState().clearNotice(), notice.kind === 'error' ? 12_000 : 6_000);
    return () => clearTimeout(t);
  }, [notice, store]);

  /** Share by link: the graph (no weights) compressed into the URL fragment, on the clipboard. */
  const copyLink = async () => {
    const link = await graphToFragment(store.getState().doc);
    if (!link.ok) return store.getState().notify('warning', `No link made: ${link.error}`);
    const url = `${location.href.replace(/#.*$/, '')}#${link.fragment}`;
    try {
      await navigator.clipboard.writeText(url);
      store.getState().notify('info', `Link copied (${(link.chars / 1000).toFixed(1)} KB): whoever opens it in the web app gets this graph, without trained weights or runs`);
    } catch (e) {
      store.getState().notify('error', `Could not put the link on the clipboard: ${(e as Error).message}`);
    }
  };

  // A shared link opens its graph through the same checks as a file; the fragment is then
  // dropped from the address, so a reload does not replace the user's later edits.
  const openLinkRef = useRef<() => void>(() => {});
  openLinkRef.current = () => {
    const hash = location.hash;
    if (!isGraphFragment(hash)) return;
    history.replaceState(null, '', location.href.replace(/#.*$/, ''));
    void fragmentToGraphText(hash).then((r) => {
      if (!r.ok) return store.getState().notify('error', `Could not open the link: ${r.error}`);
      files.guard(() => files.openBytes(r.text, `${linkName(r.text)}.nngraph`));
    });
  };
  useEffect(() => {
    openLinkRef.current();
    const onHash = () => openLinkRef.current();
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  /** Train: continue from the last run's weights, or the weights saved in the file, or start fresh. */
  const train = useCallback(() => {
    const s = store.getState();
    const weights = training.store.getState().checkpoint ?? s.doc.weights ?? null;
    training.start(s.doc, weights);
  }, [store, training]);

  /** Put the trained weights and the runs into the document, then save it. */
  const saveWithWeights = async () => {
    const weights = await training.exportWeights();
    if (!weights) {
      store.getState().notify('warning', 'There are no trained weights yet: train the network first');
      return;
    }
    const d = store.getState().doc;
    store.getState().setWeights(weights, mergeRuns(d.runs, training.store.getState().runs));
    await files.save(false);
  };

  const paste = async (at?: Position) => {
    let text = clipboard.current;
    try {
      const sys = await navigator.clipboard?.readText?.();
      if (sys && sys.includes('gradflow-clipboard')) text = sys;
    } catch {
      // No permission to read the system clipboard: use the app's own.
    }
    if (text) store.getState().paste(text, at);
  };
  const copy = (cut: boolean) => {
    const text = cut ? store.getState().cutSelection() : store.getState().copySelection();
    if (!text) return;
    clipboard.current = text;
    navigator.clipboard?.writeText?.(text).catch(() => {});
  };

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
    const target = s.selectedNodes.length === 1 ? s.doc.nodes.find((n) => n.id === s.selectedNodes[0] && n.kind === TABLE_KIND.kind) : undefined;
    if (target) {
      s.setParams(target.id, params);
      return;
    }
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const p = flow.screenToFlowPosition({ x: (el?.left ?? 0) + 120, y: (el?.top ?? 0) + 120 });
    s.addNode(TABLE_KIND.kind, p, params);
  };

  const addAtCentre = (kind: string) => {
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const p = flow.screenToFlowPosition({ x: (el?.left ?? 0) + (el?.width ?? 800) / 2, y: (el?.top ?? 0) + (el?.height ?? 600) / 2 });
    const n = store.getState().doc.nodes.length;
    store.getState().addNode(kind, { x: p.x - 90 + (n % 5) * 20, y: p.y - 40 + (n % 5) * 20 });
  };

  // What each command does. Menus, keys, toolbar and context menus all come here.
  const s = () => store.getState();
  const handlers: CommandHandlers = {
    new: () => {
      if (training.live) return s().notify('warning', 'Stop the training run before starting a new graph');
      files.guard(() => {
        training.resetWeights();
        s().newDocument();
        platform.autosave.clear();
      });
    },
    open: files.openDialog,
    save: () => void files.save(false),
    saveAs: () => void files.save(true),
    export: () => void exportRuns(),
    model: () => setShowModel(true),
    'help.fileFormat': () => setShowFormat(true),
    undo: () => undo(store),
    redo: () => redo(store),
    copy: () => copy(false),
    cut: () => copy(true),
    paste: () => void paste(),
    delete: () => s().deleteSelection(),
    duplicate: () => s().duplicateSelection(),
    selectAll: () => s().selectAll(),
    fitView: () => void flow.fitView({ duration: 200, maxZoom: 1.5 }),
    zoomIn: () => void flow.zoomIn(),
    zoomOut: () => void flow.zoomOut(),
    tidyUp: () => void s().tidyUp().then(() => flow.fitView({ duration: 200 })),
    toggleTheme: () => setTheme((t) => (t === 'dark' ? 'light' : 'dark')),
    examples: () => setShowExamples(true),
    'train.start': () => (training.live ? training.resume() : train()),
    'train.pause': () => training.pause(),
    'train.step': () => training.step(),
    'train.stop': () => training.stop(),
  };
  const registry = useCommandRegistry(handlers, useCommandEnablement());
  useShortcuts(registry);
  useEffect(() => platform.onCommand(registry.run), [platform, registry]);
  // The registry changes only when an enabled state does: the desktop menu greys out the same commands.
  useEffect(() => platform.setCommandStates?.(registry.states()), [platform, registry]);

  // The split between the canvas and the plots, and between problems and dashboard, is the
  // user's: kept in localStorage (per user on the desktop app, whose profile holds it).
  const vertical = useDefaultLayout({ id: 'gradflow.layout.centre', storage: localStorage });
  const bottom = useDefaultLayout({ id: 'gradflow.layout.bottom', storage: localStorage });
  // "Enlarge plots" folds the canvas away so the dashboard takes the whole centre; the
  // canvas comes back at its last size.
  const canvasPanel = usePanelRef();
  const [plotsLarge, setPlotsLarge] = useState(false);
  const togglePlots = () => {
    const p = canvasPanel.current;
    if (!p) return;
    if (p.isCollapsed()) p.expand();
    else p.collapse();
  };

  return (
    <CommandsProvider registry={registry}>
      <div className="app">
        <Toolbar
          theme={theme}
          onTheme={setTheme}
          onSaveWithWeights={() => void saveWithWeights()}
          onImportData={() => void importData()}
          extra={
            <>
              {
                // Links open in the web app; the desktop app's address is its own.
                platform.kind === 'browser' ? (
                  <button onClick={() => void copyLink()} title="Copy a link that opens this graph (without trained weights) in the web app">
                    Copy link
                  </button>
                ) : null
              }
              <CommandButton id="model" />
            </>
          }
        />
        {files.recovery ? <RecoverBanner savedAt={files.recovery.savedAt} onRestore={files.restoreRecovery} onDiscard={files.discardRecovery} /> : null}
        <div className="workspace">
          <Palette onAdd={addAtCentre} />
          <main className="centre">
            <RunBar onTrain={train} />
            <Group orientation="vertical" className="centre-split" {...vertical}>
              <Panel id="canvas" minSize={120} collapsible collapsedSize={0} panelRef={canvasPanel} onResize={(size) => setPlotsLarge(size.inPixels < 1)}>
                <div className="canvas-wrap">
                  <Canvas commands={{ paste: (at) => void paste(at) }} />
                  <GradientLegend />
                  {guide ? (
                    <GuidePanel onClose={() => setGuide(false)} />
                  ) : empty ? (
                    <StartPanel onOpenExample={(file, text) => files.guard(() => files.openBytes(text, file))} onGuide={() => setGuide(true)} onImportData={() => void importData()} />
                  ) : null}
                </div>
              </Panel>
              <Separator className="split-handle horizontal" aria-label="Resize the canvas and the panels below it" />
              <Panel id="bottom" defaultSize="30%" minSize={80}>
                <Group orientation="horizontal" className="bottom-panels" {...bottom}>
                  <Panel id="problems" defaultSize="30%" minSize={120}>
                    <ProblemsPanel />
                  </Panel>
                  <Separator className="split-handle vertical" aria-label="Resize the problems list and the dashboard" />
                  <Panel id="dashboard" minSize={240} className={plotsLarge ? 'plots-large' : undefined}>
                    <Dashboard
                      actions={
                        <button className="enlarge" onClick={togglePlots} aria-pressed={plotsLarge} title={plotsLarge ? 'Show the canvas again' : 'Give the plots the whole centre (the canvas folds away)'}>
                          {plotsLarge ? 'Show canvas' : 'Enlarge plots'}
                        </button>
                      }
                    />
                  </Panel>
                  <Separator className="split-handle vertical" aria-label="Resize the dashboard and the experiments" />
                  <Panel id="experiments" defaultSize="30%" minSize={200}>
                    <ExperimentsPanel />
                  </Panel>
                </Group>
              </Panel>
            </Group>
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
              files.guard(() => files.openBytes(text, file));
            }}
          />
        ) : null}
        {showFormat ? <FileFormatDialog onClose={() => setShowFormat(false)} /> : null}
        {showModel ? <ModelExchangeDialog sessionWeights={() => training.exportWeights()} onOpenGraph={(text, name) => files.openBytes(text, name)} onClose={() => setShowModel(false)} /> : null}
        {imported ? <ImportDialog imported={imported} onCreate={createTableDataset} onCancel={() => setImported(null)} /> : null}
        {files.pending ? (
          <ConfirmDiscard
            fileName={store.getState().fileName}
            onCancel={() => files.resolvePending('cancel')}
            onDiscard={() => files.resolvePending('discard')}
            onSave={() => files.resolvePending('save')}
          />
        ) : null}
      </div>
    </CommandsProvider>
  );
}

/** The graph's name for the title, read leniently (the loader checks the text properly). */
function linkName(text: string): string {
  try {
    const name = (JSON.parse(text) as { metadata?: { name?: unknown } }).metadata?.name;
    if (typeof name === 'string' && name.trim()) return name.trim().replace(/[\\/:*?"<>|]/g, '-').slice(0, 80);
  } catch {
    // Not JSON: openBytes reports that.
  }
  return 'Shared graph';
}

export function App() {
  return (
    <ReactFlowProvider>
      <Shell />
    </ReactFlowProvider>
  );
}
