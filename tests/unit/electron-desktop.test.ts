/**
 * The desktop controller with Electron replaced by fakes: files from outside (command line,
 * file association, second launch, drop, Open Recent), dialogs, which paths the page may
 * save to, the unsaved-changes prompt, quitting, and the menu's actions.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MenuCommand, OpenedFile, TextEditCommand } from '../../core/platform.ts';
import { EventChannel } from '../../electron/channels.ts';
import { Desktop, type AppWindow, type DesktopEnv, type ElectronApis, type MessageBoxOptions, type WindowHooks } from '../../electron/desktop.ts';
import { memoryStore } from '../../electron/json-store.ts';
import { flattenMenu, type MenuItemSpec } from '../../electron/menu.ts';
import { RecentFiles } from '../../electron/recent.ts';
import type { WindowState } from '../../electron/window-state.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradflow-desktop-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GRAPH = '{"format":"gradflow-graph","version":1}';
const tick = () => new Promise((r) => setTimeout(r, 0));
/** Let chains of promises (dialogs, file reads, writes) settle. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await tick();
};
/**
 * Wait for an assertion that depends on real file reads to hold (polled, not a fixed pause):
 * on a loaded machine a read can take longer than a few turns of the event loop.
 */
const eventually = (assertion: () => void) => vi.waitFor(assertion, { timeout: 10_000, interval: 5 });

class FakeWindow implements AppWindow {
  sent: [string, unknown][] = [];
  closed = false;
  focused = 0;
  edited: boolean[] = [];
  textEdits: TextEditCommand[] = [];
  /** The page's beforeunload stops unloading (it has unsaved changes). */
  pageBlocksUnload = false;
  constructor(
    readonly webContentsId: number,
    readonly placement: WindowState,
    readonly hooks: WindowHooks,
  ) {}
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  commands(): MenuCommand[] {
    return this.sent.filter(([c]) => c === EventChannel.command).map(([, p]) => p as MenuCommand);
  }
  files(): OpenedFile[] {
    return this.sent.filter(([c]) => c === EventChannel.fileOpened).map(([, p]) => p as OpenedFile);
  }
  focus() {
    this.focused++;
  }
  /** As Electron: 'close' may be prevented, then the page's beforeunload may be overridden. */
  close() {
    if (this.closed || !this.hooks.onClose()) return;
    if (this.pageBlocksUnload && !this.hooks.onWillPreventUnload()) return;
    this.closed = true;
    this.hooks.onClosed();
  }
  setDocumentEdited(dirty: boolean) {
    this.edited.push(dirty);
  }
  editText(command: TextEditCommand) {
    this.textEdits.push(command);
  }
  toggleFullScreen() {}
  toggleDevTools() {}
  state(): WindowState {
    return { bounds: { x: 10, y: 20, width: 1000, height: 700 }, maximized: false, fullScreen: false };
  }
}

function setup(platform: NodeJS.Platform = 'linux', savedWindow: unknown = null) {
  const windows: FakeWindow[] = [];
  const messages: MessageBoxOptions[] = [];
  let menu: MenuItemSpec[] = [];
  /** The live enabled states set on the menu since the last build, by item id. */
  let menuEnabled: Record<string, boolean> = {};
  let click: (id: string) => void = () => {};
  const answers: number[] = [];
  const apis = {
    dialog: {
      showOpenDialog: vi.fn(async (_w: AppWindow | null, _o: { defaultPath?: string; filters: unknown }) => ({ canceled: true, filePaths: [] as string[] })),
      showSaveDialog: vi.fn(async (_w: AppWindow | null, _o: { defaultPath: string; filters: unknown }): Promise<{ canceled: boolean; filePath?: string }> => ({ canceled: true })),
      showMessageBox: vi.fn(async (_w: AppWindow | null, o: MessageBoxOptions) => {
        messages.push(o);
        return { response: answers.shift() ?? 0 };
      }),
    },
    createWindow: (placement: WindowState, hooks: WindowHooks) => {
      const w = new FakeWindow(100 + windows.length, placement, hooks);
      windows.push(w);
      return w;
    },
    workAreas: () => [{ x: 0, y: 0, width: 1920, height: 1080 }],
    setMenu: (template: MenuItemSpec[], onClick: (id: string) => void) => {
      menu = template;
      click = onClick;
      menuEnabled = {};
    },
    setMenuEnabled: (states: Readonly<Record<string, boolean>>) => void Object.assign(menuEnabled, states),
    quit: vi.fn(),
  } satisfies ElectronApis;
  const env: DesktopEnv = { platform, appName: 'Gradflow', appVersion: '0.1.0', isDev: false, versions: { electron: '41.7.1' }, documentsDir: dir, log: () => {} };
  const recentStore = memoryStore();
  const windowStore = memoryStore(savedWindow);
  const desktop = new Desktop(apis, env, new RecentFiles({ store: recentStore, platform }), windowStore);
  return {
    desktop,
    apis,
    windows,
    messages,
    /** The answer (button index) the next message boxes give. */
    answer: (...r: number[]) => answers.push(...r),
    win: () => windows.at(-1)!,
    click: (id: string) => click(id),
    menuIds: () => flattenMenu(menu).map((i) => i.id).filter(Boolean),
    /** Whether the menu shows an item enabled: its live state, else how it was built. */
    menuItemEnabled: (id: string) => menuEnabled[id] ?? flattenMenu(menu).find((i) => i.id === id)?.enabled !== false,
    recentStore,
    windowStore,
  };
}

async function graphFile(name = 'model.nngraph', text = GRAPH): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('starting', () => {
  it('opens the window where it was, and holds launch files until the page listens', async () => {
    const file = await graphFile();
    const t = setup('linux', { bounds: { x: 50, y: 60, width: 1200, height: 800 }, maximized: true });
    await t.desktop.start([file]);
    expect(t.windows).toHaveLength(1);
    expect(t.win().placement).toEqual({ bounds: { x: 50, y: 60, width: 1200, height: 800 }, maximized: true, fullScreen: false });
    expect(t.win().files()).toEqual([]);
    const pending = t.desktop.takePendingFiles(t.win().webContentsId);
    expect(pending).toEqual([{ name: 'model.nngraph', path: file, bytes: new TextEncoder().encode(GRAPH) }]);
    expect(t.desktop.takePendingFiles(t.win().webContentsId)).toEqual([]);
  });

  it('a launch file is granted, so Save writes back to it', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([file]);
    const id = t.win().webContentsId;
    await expect(t.desktop.saveFile(id, { suggestedName: 'model.nngraph', text: '{"v":2}', path: file })).resolves.toEqual({ name: 'model.nngraph', path: file });
    expect(await readFile(file, 'utf8')).toBe('{"v":2}');
  });

  it('tells the user when a launch file cannot be opened, and still starts', async () => {
    const t = setup();
    await t.desktop.start([join(dir, 'missing.nngraph')]);
    await eventually(() => expect(t.messages[0]).toMatchObject({ type: 'error', message: 'Could not open missing.nngraph' }));
    expect(t.windows).toHaveLength(1);
    expect(t.messages[0]!.detail).toContain('does not exist');
  });

  it('opens the first of several files and says which were not opened', async () => {
    const a = await graphFile('a.nngraph');
    const b = await graphFile('b.nngraph');
    const t = setup();
    await t.desktop.start([a, b]);
    await eventually(() => expect(t.messages[0]?.detail).toContain('b.nngraph'));
    expect(t.desktop.takePendingFiles(t.win().webContentsId).map((f) => f.name)).toEqual(['a.nngraph']);
  });

  it('keeps files the OS sends before the app is ready (macOS open-file)', async () => {
    const file = await graphFile();
    const t = setup('darwin');
    await t.desktop.openExternal([file]);
    expect(t.windows).toHaveLength(0);
    await t.desktop.start([]);
    expect(t.desktop.takePendingFiles(t.win().webContentsId).map((f) => f.path)).toEqual([file]);
  });
});

describe('files from outside while running', () => {
  it('a second launch hands its file to the window and brings it to the front', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([]);
    t.desktop.takePendingFiles(t.win().webContentsId);
    await t.desktop.secondInstance([file]);
    expect(t.win().files().map((f) => f.path)).toEqual([file]);
    expect(t.win().focused).toBeGreaterThan(0);
    expect(t.windows).toHaveLength(1);
  });

  it('after a reload the page must ask again; files wait meanwhile', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([]);
    t.desktop.takePendingFiles(t.win().webContentsId);
    t.win().hooks.onPageLoad();
    await t.desktop.openExternal([file]);
    expect(t.win().files()).toEqual([]);
    expect(t.desktop.takePendingFiles(t.win().webContentsId)).toHaveLength(1);
  });

  it('drops: .nngraph files open, others are named and refused', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([]);
    const id = t.win().webContentsId;
    t.desktop.takePendingFiles(id);
    await t.desktop.openDropped(id, ['/home/ada/photo.png', file]);
    await eventually(() => expect(t.win().files().map((f) => f.path)).toEqual([file]));
    await eventually(() => expect(t.messages[0]).toMatchObject({ type: 'warning', message: 'Gradflow opens .nngraph graph files' }));
    expect(t.messages[0]!.detail).toContain('photo.png');
  });

  it('drops must be absolute paths', async () => {
    const t = setup();
    await t.desktop.start([]);
    await expect(t.desktop.openDropped(t.win().webContentsId, ['relative.nngraph'])).rejects.toThrow(/not an absolute path/);
  });
});

describe('open and save through the page', () => {
  it('Open asks with a .nngraph filter, reads, grants and remembers the file', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([]);
    const id = t.win().webContentsId;
    t.apis.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [file] });
    const opened = await t.desktop.openFile(id);
    expect(opened?.path).toBe(file);
    expect(t.apis.dialog.showOpenDialog.mock.calls[0]![1]).toMatchObject({ filters: [{ name: 'Gradflow graphs', extensions: ['nngraph'] }], defaultPath: dir });
    expect(t.desktop.recentFiles().map((f) => f.path)).toEqual([file]);
    expect(t.menuIds()).toContain('recent.open:0');
    expect(t.desktop.access.allows(file)).toBe(true);
    expect(await t.desktop.openFile(id)).toBeNull(); // cancelled
  });

  it('refuses to save to a path the user never chose, writing nothing', async () => {
    const t = setup();
    await t.desktop.start([]);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await expect(t.desktop.saveFile(t.win().webContentsId, { suggestedName: 'x', text: 'overwritten', path: victim })).rejects.toThrow(/can only save to files you opened or chose/);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    await expect(t.desktop.saveFile(t.win().webContentsId, { suggestedName: 'x', text: 'x', path: 'relative.nngraph' })).rejects.toThrow(/not an absolute path/);
  });

  it('refuses calls for a window that is not ours', async () => {
    const t = setup();
    await t.desktop.start([]);
    await expect(t.desktop.openFile(999)).rejects.toThrow(/no Gradflow window 999/);
    expect(() => t.desktop.takePendingFiles(999)).toThrow();
  });

  it('Save As adds .nngraph to a bare name and asks before replacing that file', async () => {
    const existing = await graphFile('model.nngraph', 'old');
    const t = setup();
    await t.desktop.start([]);
    const id = t.win().webContentsId;
    t.apis.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: join(dir, 'model') });
    t.answer(1); // Cancel
    expect(await t.desktop.saveFile(id, { suggestedName: 'model.nngraph', text: 'new' })).toBeNull();
    expect(await readFile(existing, 'utf8')).toBe('old');
    t.answer(0); // Replace
    expect(await t.desktop.saveFile(id, { suggestedName: 'model.nngraph', text: 'new' })).toEqual({ name: 'model.nngraph', path: existing });
    expect(await readFile(existing, 'utf8')).toBe('new');
    expect(t.messages.map((m) => m.message)).toEqual(['model.nngraph already exists. Do you want to replace it?', 'model.nngraph already exists. Do you want to replace it?']);
    expect(t.apis.dialog.showSaveDialog.mock.calls[0]![1]).toMatchObject({ defaultPath: join(dir, 'model.nngraph') });
  });

  it('a save that fails reports why and keeps the old file', async () => {
    const t = setup();
    await t.desktop.start([]);
    t.apis.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: join(dir, 'no-such-folder', 'x.nngraph') });
    await expect(t.desktop.saveFile(t.win().webContentsId, { suggestedName: 'x', text: 'x' })).rejects.toThrow(/Could not save .*the file or its folder does not exist/);
  });

  it('Export writes where the user said, without making that file a graph to save to', async () => {
    const t = setup();
    await t.desktop.start([]);
    const id = t.win().webContentsId;
    const target = join(dir, 'model.py');
    t.apis.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: target });
    expect(await t.desktop.exportFile(id, { suggestedName: 'model.py', data: 'import torch\n', filters: [{ name: 'Python', extensions: ['py'] }] })).toEqual({ name: 'model.py', path: target });
    expect(await readFile(target, 'utf8')).toBe('import torch\n');
    expect(t.desktop.recentFiles()).toEqual([]);
    await expect(t.desktop.saveFile(id, { suggestedName: 'x', text: 'x', path: target })).rejects.toThrow(/use Save As/);
  });
});

describe('recent files', () => {
  it('opens only files in the list, and drops ones that are gone', async () => {
    const a = await graphFile('a.nngraph');
    const t = setup();
    await t.desktop.start([a]);
    const id = t.win().webContentsId;
    await expect(t.desktop.openRecent(id, join(dir, 'other.nngraph'))).rejects.toThrow(/not in the recent files list/);
    expect((await t.desktop.openRecent(id, a)).path).toBe(a);
    await rm(a);
    await expect(t.desktop.openRecent(id, a)).rejects.toThrow(/no longer exists; it was removed from the recent files list/);
    expect(t.desktop.recentFiles()).toEqual([]);
    expect(t.menuIds()).not.toContain('recent.open:0');
  });

  it('the Open Recent menu hands the file to the page; Clear Recent empties it', async () => {
    const a = await graphFile('a.nngraph');
    const t = setup();
    await t.desktop.start([a]);
    t.desktop.takePendingFiles(t.win().webContentsId);
    t.click('recent.open:0');
    await eventually(() => expect(t.win().files().map((f) => f.path)).toEqual([a]));
    t.click('recent.clear');
    await eventually(() => expect(t.recentStore.value).toEqual({ version: 1, files: [] }));
    expect(t.desktop.recentFiles()).toEqual([]);
  });
});

describe('closing with unsaved changes', () => {
  async function dirtyWindow(platform: NodeJS.Platform = 'linux') {
    const t = setup(platform);
    await t.desktop.start([]);
    const w = t.win();
    t.desktop.setDocumentState(w.webContentsId, { title: 'model.nngraph', dirty: true });
    w.pageBlocksUnload = true;
    return { ...t, w };
  }

  it('closes a clean window at once and remembers where it was', async () => {
    const t = setup();
    await t.desktop.start([]);
    t.win().close();
    await settle();
    expect(t.win().closed).toBe(true);
    expect(t.messages).toEqual([]);
    expect(t.windowStore.value).toEqual({ bounds: { x: 10, y: 20, width: 1000, height: 700 }, maximized: false, fullScreen: false });
    expect(t.apis.quit).toHaveBeenCalled(); // Linux: the last window closing ends the app
  });

  it('asks first; Cancel keeps the window', async () => {
    const t = await dirtyWindow();
    t.answer(2);
    t.w.close();
    await settle();
    expect(t.messages[0]).toMatchObject({ message: 'Do you want to save the changes you made to model.nngraph?', buttons: ['Save', "Don't Save", 'Cancel'], cancelId: 2 });
    expect(t.w.closed).toBe(false);
    expect(t.w.edited).toEqual([true]);
  });

  it("Don't Save closes, overriding the page's beforeunload", async () => {
    const t = await dirtyWindow();
    t.answer(1);
    t.w.close();
    await settle();
    expect(t.w.closed).toBe(true);
  });

  it('Save asks the page to save, and closes once the document is clean', async () => {
    const t = await dirtyWindow();
    t.answer(0);
    t.w.close();
    await settle();
    expect(t.w.commands()).toEqual(['save']);
    expect(t.w.closed).toBe(false);
    // The page saved (through saveFile) and reports a clean document.
    t.desktop.setDocumentState(t.w.webContentsId, { title: 'model.nngraph', dirty: false });
    expect(t.w.closed).toBe(true);
  });

  it('Save, then cancelling the save dialog, keeps the window open for good', async () => {
    const t = await dirtyWindow();
    t.answer(0);
    t.w.close();
    await settle();
    expect(await t.desktop.saveFile(t.w.webContentsId, { suggestedName: 'model.nngraph', text: '{}' })).toBeNull();
    // A later, unrelated save must not close the window by surprise.
    t.desktop.setDocumentState(t.w.webContentsId, { title: 'model.nngraph', dirty: false });
    expect(t.w.closed).toBe(false);
  });

  it('asks even when the page has changes it had not reported yet', async () => {
    const t = setup();
    await t.desktop.start([]);
    const w = t.win();
    w.pageBlocksUnload = true; // dirty in the page, clean as far as main knows
    t.answer(2);
    w.close();
    await settle();
    expect(t.messages).toHaveLength(1);
    expect(w.closed).toBe(false);
  });

  it('asks once, however often the user clicks close', async () => {
    const t = await dirtyWindow();
    t.answer(2);
    t.w.close();
    t.w.close();
    await settle();
    expect(t.messages).toHaveLength(1);
  });

  it('macOS: closing the window keeps the app; quitting after Save finishes the quit', async () => {
    const t = await dirtyWindow('darwin');
    t.desktop.quitRequested();
    t.answer(0);
    t.w.close();
    await settle();
    expect(t.apis.quit).not.toHaveBeenCalled();
    t.desktop.setDocumentState(t.w.webContentsId, { title: 'model.nngraph', dirty: false });
    expect(t.w.closed).toBe(true);
    expect(t.apis.quit).toHaveBeenCalledOnce();
  });

  it('macOS: Cancel also cancels the quit', async () => {
    const t = await dirtyWindow('darwin');
    t.desktop.quitRequested();
    t.answer(2);
    t.w.close();
    await settle();
    t.desktop.setDocumentState(t.w.webContentsId, { title: 'model.nngraph', dirty: false });
    t.w.pageBlocksUnload = false;
    t.w.close();
    expect(t.w.closed).toBe(true);
    expect(t.apis.quit).not.toHaveBeenCalled();
  });
});

describe('menu actions', () => {
  it('sends page commands, closes through the prompt, and shows About', async () => {
    const t = setup();
    await t.desktop.start([]);
    t.click('save');
    t.click('train.start');
    expect(t.win().commands()).toEqual(['save', 'train.start']);
    t.click('help.about');
    await settle();
    expect(t.messages[0]).toMatchObject({ message: 'Gradflow 0.1.0' });
    expect(t.messages[0]!.detail).toContain('Electron 41.7.1');
    t.click('close');
    expect(t.win().closed).toBe(true);
  });

  it('greys out the commands the page says cannot run, never Close or About, and keeps that across a rebuild', async () => {
    const file = await graphFile();
    const t = setup();
    await t.desktop.start([]);
    expect(t.menuItemEnabled('redo')).toBe(true);
    t.desktop.setMenuState(t.win().webContentsId, { redo: false, 'train.stop': false, close: false, 'help.about': false });
    expect(t.menuItemEnabled('redo')).toBe(false);
    expect(t.menuItemEnabled('train.stop')).toBe(false);
    expect(t.menuItemEnabled('undo')).toBe(true);
    expect(t.menuItemEnabled('close')).toBe(true);
    expect(t.menuItemEnabled('help.about')).toBe(true);
    // Opening a file rebuilds the menu (the recent list changed): the states stay.
    await t.desktop.openExternal([file]);
    expect(t.menuItemEnabled('redo')).toBe(false);
    t.desktop.setMenuState(t.win().webContentsId, { redo: true });
    expect(t.menuItemEnabled('redo')).toBe(true);
    expect(t.menuItemEnabled('train.stop')).toBe(true);
    expect(() => t.desktop.setMenuState(5, { redo: false })).toThrow();
    expect(t.menuItemEnabled('redo')).toBe(true);
  });

  it('macOS: with the window closed every command is enabled again (each opens a new window)', async () => {
    const t = setup('darwin');
    await t.desktop.start([]);
    t.desktop.setMenuState(t.win().webContentsId, { undo: false, 'train.start': false });
    expect(t.menuItemEnabled('undo')).toBe(false);
    t.win().close();
    expect(t.menuItemEnabled('undo')).toBe(true);
    expect(t.menuItemEnabled('train.start')).toBe(true);
  });

  it('routes text edits to the focused field of our window only', async () => {
    const t = setup();
    await t.desktop.start([]);
    t.desktop.editText(t.win().webContentsId, 'paste');
    expect(t.win().textEdits).toEqual(['paste']);
    expect(() => t.desktop.editText(5, 'paste')).toThrow();
  });

  it('macOS with no window: New opens one; Open asks, then opens the file in a new window', async () => {
    const file = await graphFile();
    const t = setup('darwin');
    await t.desktop.start([]);
    t.win().close();
    expect(t.desktop.hasWindow).toBe(false);
    t.click('new');
    await settle();
    expect(t.windows).toHaveLength(2);
    t.win().close();
    t.apis.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [file] });
    t.click('open');
    await eventually(() => expect(t.windows).toHaveLength(3));
    // The file reaches the new window as a pending file or, once the page has asked for its
    // pending files, as a message: either way, once its read has finished.
    const received: string[] = [];
    await eventually(() => {
      received.push(...t.desktop.takePendingFiles(t.win().webContentsId).map((f) => f.path ?? f.name));
      expect([...received, ...t.win().files().map((f) => f.path ?? f.name)]).toEqual([file]);
    });
  });

  it('leaves no temporary files behind after saving', async () => {
    const t = setup();
    await t.desktop.start([]);
    t.apis.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: join(dir, 'a.nngraph') });
    await t.desktop.saveFile(t.win().webContentsId, { suggestedName: 'a', text: GRAPH });
    expect(await readdir(dir)).toEqual(['a.nngraph']);
  });
});
