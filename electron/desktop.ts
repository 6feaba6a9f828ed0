/**
 * The desktop app's behaviour, apart from Electron itself: the window and its unsaved-changes
 * prompt, files opened from outside, dialogs, recent files and menus. Electron reaches it
 * through the small `ElectronApis` interface that electron/main.ts implements, so all of this
 * runs (and is tested) in plain Node.
 *
 * Gradflow edits one graph in one window. Files arriving from outside (command line, file
 * association, second launch, drop, Open Recent) are read here, their paths granted to the
 * renderer, and handed over as OpenedFile; the renderer decides whether to ask about unsaved
 * changes first.
 */
import * as nodePath from 'node:path';
import type { ExportOptions, MenuCommand, OpenedFile, RecentFile, SavedFile, TextEditCommand } from '../core/platform.ts';
import { EventChannel, InvalidArgument, type DocumentState, type MenuState, type SaveRequest } from './channels.ts';
import { FileAccess, FileError, nodeFileSystem, readUserFile, withGraphExtension, writeFileAtomic, type FileSystem } from './files.ts';
import { requireAbsolute, type DesktopActions } from './ipc.ts';
import type { JsonStore } from './json-store.ts';
import { buildMenu, menuItemStates, routeMenuAction, type MenuItemSpec } from './menu.ts';
import type { RecentFiles } from './recent.ts';
import { parseWindowState, placeWindow, type Rect, type WindowState } from './window-state.ts';

/** The open and save dialogs show graph files only. */
export const GRAPH_FILTERS = [{ name: 'Gradflow graphs', extensions: ['nngraph'] }];

export interface MessageBoxOptions {
  type: 'none' | 'info' | 'error' | 'question' | 'warning';
  title?: string;
  message: string;
  detail?: string;
  buttons?: string[];
  defaultId?: number;
  cancelId?: number;
}

/** The native dialogs, attached to a window when there is one. */
export interface DialogApi {
  showOpenDialog(window: AppWindow | null, options: { title: string; defaultPath?: string; filters: typeof GRAPH_FILTERS }): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(window: AppWindow | null, options: { title: string; defaultPath: string; filters: { name: string; extensions: string[] }[] }): Promise<{ canceled: boolean; filePath?: string }>;
  showMessageBox(window: AppWindow | null, options: MessageBoxOptions): Promise<{ response: number }>;
}

/** What the window tells the controller; the return values decide whether to go ahead. */
export interface WindowHooks {
  /** The window is about to close: true lets it. */
  onClose(): boolean;
  /** The page's beforeunload wants to stop the unload: true overrides it. */
  onWillPreventUnload(): boolean;
  onClosed(): void;
  /** The page started loading again (a reload): it has to ask for pending files anew. */
  onPageLoad(): void;
}

/** One BrowserWindow, as the controller uses it. */
export interface AppWindow {
  readonly webContentsId: number;
  send(channel: string, payload: unknown): void;
  /** Bring to the front, restoring it if minimized. */
  focus(): void;
  close(): void;
  setDocumentEdited(dirty: boolean): void;
  editText(command: TextEditCommand): void;
  toggleFullScreen(): void;
  toggleDevTools(): void;
  /** Normal (not maximized) bounds and modes, for the next launch. */
  state(): WindowState;
}

/** Everything the controller needs from Electron. */
export interface ElectronApis {
  dialog: DialogApi;
  createWindow(placement: WindowState, hooks: WindowHooks): AppWindow;
  /** The screens' work areas, primary first. */
  workAreas(): Rect[];
  setMenu(template: MenuItemSpec[], onClick: (id: string) => void): void;
  /**
   * Enable or disable items of the current menu by id, without rebuilding it: a rebuild would
   * close a menu the user has open when, say, a run ends.
   */
  setMenuEnabled(states: Readonly<Record<string, boolean>>): void;
  quit(): void;
  fs?: FileSystem;
}

export interface DesktopEnv {
  platform: NodeJS.Platform;
  appName: string;
  appVersion: string;
  isDev: boolean;
  /** Shown in About: electron, chrome, node, v8. */
  versions: Record<string, string | undefined>;
  /** Where dialogs start before any file was opened. */
  documentsDir: string;
  log?: (message: string) => void;
}

interface WindowSession {
  win: AppWindow;
  title: string;
  dirty: boolean;
  /** The page subscribed to opened files; until then they wait in `pending`. */
  listening: boolean;
  pending: OpenedFile[];
  /** The user chose Save in the close prompt: close once the document is clean. */
  closeAfterSave: boolean;
  /** The user agreed to close (saved or discarded): let it through. */
  allowClose: boolean;
  prompting: boolean;
}

/**
 * The desktop app's controller: one per process. main.ts creates it with the Electron
 * adapter, registers it as the IPC actions, and forwards app events to it.
 */
export class Desktop implements DesktopActions {
  #session: WindowSession | null = null;
  #menuRecent: RecentFile[] = [];
  /** The window's command states (setMenuState); none without a window, so every command can open one. */
  #menuEnabled: MenuState = {};
  #lastDir: string;
  #quitRequested = false;
  #started = false;
  /** Files that arrived before there was a window (macOS open-file before ready). */
  #early: string[] = [];
  readonly #fs: FileSystem;
  readonly access: FileAccess;

  constructor(
    private readonly apis: ElectronApis,
    private readonly env: DesktopEnv,
    private readonly recent: RecentFiles,
    private readonly windowStore: JsonStore,
  ) {
    this.#fs = apis.fs ?? nodeFileSystem;
    this.access = new FileAccess(env.platform);
    this.#lastDir = env.documentsDir;
  }

  /** After app ready: restore the recent list and the window, and open the launch's files. */
  async start(launchFiles: readonly string[]): Promise<void> {
    await this.recent.load();
    this.rebuildMenu();
    await this.openWindow();
    this.#started = true;
    const files = [...this.#early, ...launchFiles];
    this.#early = [];
    await this.openExternal(files);
  }

  /** Rebuild the menu bar (the recent list changed). */
  rebuildMenu(): void {
    this.#menuRecent = this.recent.list();
    this.apis.setMenu(this.#menuTemplate(), (id) => this.onMenu(id));
  }

  #menuTemplate(): MenuItemSpec[] {
    return buildMenu({ platform: this.env.platform, appName: this.env.appName, recent: this.#menuRecent, isDev: this.env.isDev, enabled: this.#menuEnabled });
  }

  /** The renderer's command states changed: grey out in the menu what cannot run now. */
  setMenuState(windowId: number, enabled: MenuState): void {
    this.#sessionFor(windowId);
    this.#menuEnabled = enabled;
    this.apis.setMenuEnabled(menuItemStates(this.#menuTemplate()));
  }

  get hasWindow(): boolean {
    return this.#session !== null;
  }

  /** Whether a webContents id is our window (for IPC sender checks). */
  isAppWindow(webContentsId: number): boolean {
    return this.#session?.win.webContentsId === webContentsId;
  }

  async openWindow(): Promise<AppWindow> {
    if (this.#session) return this.#session.win;
    const saved = parseWindowState(await this.windowStore.read());
    const placement = placeWindow(saved, this.apis.workAreas());
    // The hooks run only after createWindow returns, by which time `session` is set.
    let session: WindowSession;
    const win = this.apis.createWindow(placement, {
      onClose: () => this.#onClose(session),
      onWillPreventUnload: () => this.#onWillPreventUnload(session),
      onClosed: () => this.#onClosed(session),
      onPageLoad: () => {
        session.listening = false;
      },
    });
    session = { win, title: '', dirty: false, listening: false, pending: [], closeAfterSave: false, allowClose: false, prompting: false };
    this.#session = session;
    return win;
  }

  // ── files from outside ────────────────────────────────────────────────────────────────

  /**
   * Open files named from outside the page: the command line, a file association, a second
   * launch, the macOS Dock, a drop. One graph per window, so the first file opens and the
   * user is told about the others.
   */
  async openExternal(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    if (!this.#started) {
      this.#early.push(...paths);
      return;
    }
    const session = this.#session ?? (await this.openWindow(), this.#session!);
    session.win.focus();
    const [first, ...rest] = paths;
    if (rest.length > 0) {
      void this.#message('info', `Opening ${nodePath.basename(first!)}`, `Gradflow edits one graph per window, so these were not opened:\n${rest.map((p) => nodePath.basename(p)).join('\n')}`);
    }
    try {
      this.#deliver(session, await this.#readAndGrant(first!));
    } catch (e) {
      void this.#message('error', `Could not open ${nodePath.basename(first!)}`, (e as Error).message);
    }
  }

  /** A second launch (`gradflow other.nngraph` while Gradflow runs): its files come here. */
  async secondInstance(files: readonly string[]): Promise<void> {
    if (!this.#session && this.#started) await this.openWindow();
    this.#session?.win.focus();
    await this.openExternal(files);
  }

  #deliver(session: WindowSession, file: OpenedFile): void {
    if (session.listening) session.win.send(EventChannel.fileOpened, file);
    else session.pending.push(file);
  }

  async #readAndGrant(path: string): Promise<OpenedFile> {
    const bytes = await readUserFile(path, { fs: this.#fs });
    this.access.grant(path);
    this.#lastDir = nodePath.dirname(path);
    await this.recent.add(path);
    this.rebuildMenu();
    return { name: nodePath.basename(path), path, bytes };
  }

  // ── IPC actions (DesktopActions) ──────────────────────────────────────────────────────

  #sessionFor(windowId: number): WindowSession {
    const s = this.#session;
    if (!s || s.win.webContentsId !== windowId) throw new InvalidArgument(`no Gradflow window ${windowId}`);
    return s;
  }

  async openFile(windowId: number): Promise<OpenedFile | null> {
    const s = this.#sessionFor(windowId);
    const r = await this.apis.dialog.showOpenDialog(s.win, { title: 'Open a graph', defaultPath: this.#lastDir, filters: GRAPH_FILTERS });
    const path = r.filePaths[0];
    if (r.canceled || !path) return null;
    return this.#readAndGrant(path);
  }

  async saveFile(windowId: number, request: SaveRequest): Promise<SavedFile | null> {
    const s = this.#sessionFor(windowId);
    try {
      let target: string;
      if (request.path !== undefined) {
        requireAbsolute(request.path, this.env.platform);
        if (!this.access.allows(request.path)) {
          throw new InvalidArgument(`Gradflow can only save to files you opened or chose, and ${nodePath.basename(request.path)} is not one of them: use Save As`);
        }
        target = request.path;
      } else {
        const chosen = await this.#askSavePath(s, request.suggestedName);
        if (!chosen) return this.#saveEnded(s, null);
        target = chosen;
      }
      await writeFileAtomic(target, request.text, { fs: this.#fs, platform: this.env.platform });
      this.access.grant(target);
      this.#lastDir = nodePath.dirname(target);
      await this.recent.add(target);
      this.rebuildMenu();
      return this.#saveEnded(s, { name: nodePath.basename(target), path: target });
    } catch (e) {
      this.#saveEnded(s, null);
      throw e;
    }
  }

  /** A save that did not happen cancels "close after saving" (and a pending quit). */
  #saveEnded<T>(s: WindowSession, result: T | null): T | null {
    if (result === null && s.closeAfterSave) {
      s.closeAfterSave = false;
      this.#quitRequested = false;
    }
    return result;
  }

  async #askSavePath(s: WindowSession, suggestedName: string): Promise<string | null> {
    const r = await this.apis.dialog.showSaveDialog(s.win, {
      title: 'Save the graph',
      defaultPath: nodePath.join(this.#lastDir, withGraphExtension(suggestedName)),
      filters: GRAPH_FILTERS,
    });
    if (r.canceled || !r.filePath) return null;
    const target = withGraphExtension(r.filePath);
    // The dialog asked about replacing the name the user typed, not the one with .nngraph added.
    if (target !== r.filePath && (await this.#exists(target))) {
      const answer = await this.apis.dialog.showMessageBox(s.win, {
        type: 'warning',
        message: `${nodePath.basename(target)} already exists. Do you want to replace it?`,
        detail: 'Replacing it overwrites its contents.',
        buttons: ['Replace', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
      });
      if (answer.response !== 0) return null;
    }
    this.access.grant(target);
    return target;
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await this.#fs.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async exportFile(windowId: number, request: ExportOptions): Promise<SavedFile | null> {
    const s = this.#sessionFor(windowId);
    const r = await this.apis.dialog.showSaveDialog(s.win, {
      title: 'Export',
      defaultPath: nodePath.join(this.#lastDir, request.suggestedName),
      filters: request.filters,
    });
    if (r.canceled || !r.filePath) return null;
    // Exports are written once, where the user said; they are not graphs, so they join
    // neither the recent list nor the files the page may save to again.
    await writeFileAtomic(r.filePath, request.data, { fs: this.#fs, platform: this.env.platform });
    return { name: nodePath.basename(r.filePath), path: r.filePath };
  }

  recentFiles(): RecentFile[] {
    return this.recent.list();
  }

  async openRecent(windowId: number, path: string): Promise<OpenedFile> {
    this.#sessionFor(windowId);
    requireAbsolute(path, this.env.platform);
    if (!this.recent.has(path)) throw new InvalidArgument(`${nodePath.basename(path)} is not in the recent files list`);
    return this.#openRecentPath(path);
  }

  async #openRecentPath(path: string): Promise<OpenedFile> {
    try {
      return await this.#readAndGrant(path);
    } catch (e) {
      if (e instanceof FileError && e.code === 'ENOENT') {
        await this.recent.remove(path);
        this.rebuildMenu();
        throw new FileError(`${path} no longer exists; it was removed from the recent files list`, 'ENOENT');
      }
      throw e;
    }
  }

  takePendingFiles(windowId: number): OpenedFile[] {
    const s = this.#sessionFor(windowId);
    s.listening = true;
    return s.pending.splice(0);
  }

  /** Files dropped on the window (their paths come from the preload's own drop listener). */
  async openDropped(windowId: number, paths: string[]): Promise<void> {
    this.#sessionFor(windowId);
    const graphs = paths.filter((p) => /\.nngraph$/i.test(p));
    const others = paths.filter((p) => !/\.nngraph$/i.test(p));
    if (others.length > 0) {
      void this.#message('warning', 'Gradflow opens .nngraph graph files', `Not opened:\n${others.map((p) => nodePath.basename(p)).join('\n')}`);
    }
    await this.openExternal(graphs.map((p) => requireAbsolute(p, this.env.platform)));
  }

  setDocumentState(windowId: number, state: DocumentState): void {
    const s = this.#sessionFor(windowId);
    s.title = state.title;
    s.dirty = state.dirty;
    s.win.setDocumentEdited(state.dirty);
    if (!state.dirty && s.closeAfterSave) {
      s.closeAfterSave = false;
      s.allowClose = true;
      s.win.close();
    }
  }

  editText(windowId: number, command: TextEditCommand): void {
    this.#sessionFor(windowId).win.editText(command);
  }

  // ── closing ──────────────────────────────────────────────────────────────────────────

  /** app 'before-quit': remember it, so that closing after "Save" finishes the quit. */
  quitRequested(): void {
    this.#quitRequested = true;
  }

  #onClose(s: WindowSession): boolean {
    if (s.allowClose || !s.dirty) {
      void this.windowStore.write(s.win.state()).catch((e: unknown) => this.env.log?.(`Could not save the window position: ${(e as Error).message}`));
      return true;
    }
    void this.#promptUnsaved(s);
    return false;
  }

  #onWillPreventUnload(s: WindowSession): boolean {
    if (s.allowClose) return true;
    // The page knows of changes the last document-state message did not carry yet.
    s.dirty = true;
    void this.#promptUnsaved(s);
    return false;
  }

  async #promptUnsaved(s: WindowSession): Promise<void> {
    if (s.prompting) return;
    s.prompting = true;
    try {
      const name = s.title || 'this graph';
      const { response } = await this.apis.dialog.showMessageBox(s.win, {
        type: 'warning',
        message: `Do you want to save the changes you made to ${name}?`,
        detail: "Your changes will be lost if you don't save them.",
        buttons: ['Save', "Don't Save", 'Cancel'],
        defaultId: 0,
        cancelId: 2,
      });
      if (response === 0) {
        // The page saves (it has the document); setDocumentState(dirty: false) then closes.
        s.closeAfterSave = true;
        s.win.send(EventChannel.command, 'save' satisfies MenuCommand);
      } else if (response === 1) {
        s.allowClose = true;
        s.win.close();
      } else {
        this.#quitRequested = false;
      }
    } finally {
      s.prompting = false;
    }
  }

  #onClosed(s: WindowSession): void {
    if (this.#session === s) {
      this.#session = null;
      // macOS keeps the menu without a window: every command opens a new one, so none is greyed.
      this.#menuEnabled = {};
      this.apis.setMenuEnabled(menuItemStates(this.#menuTemplate()));
    }
    // macOS keeps apps running without windows, except when the user asked to quit.
    if (this.env.platform !== 'darwin' || this.#quitRequested) this.apis.quit();
  }

  // ── menus ────────────────────────────────────────────────────────────────────────────

  onMenu(id: string): void {
    const routed = routeMenuAction(id, this.#menuRecent, {
      send: (command) => void this.#sendCommand(command),
      closeWindow: () => this.#session?.win.close(),
      quit: () => this.apis.quit(),
      toggleFullScreen: () => this.#session?.win.toggleFullScreen(),
      toggleDevTools: () => this.#session?.win.toggleDevTools(),
      showAbout: () => void this.showAbout(),
      openRecent: (path) => void this.#menuOpenRecent(path),
      clearRecent: () => void this.recent.clear().then(() => this.rebuildMenu()),
    });
    if (!routed) this.env.log?.(`Unknown menu item ${id}`);
  }

  async #sendCommand(command: MenuCommand): Promise<void> {
    if (this.#session) {
      this.#session.win.send(EventChannel.command, command);
      return;
    }
    // macOS with every window closed: the menu still works. A new window is a new graph;
    // Open asks for the file here and hands it to the new window.
    await this.openWindow();
    if (command === 'open') {
      const r = await this.apis.dialog.showOpenDialog(null, { title: 'Open a graph', defaultPath: this.#lastDir, filters: GRAPH_FILTERS });
      if (!r.canceled && r.filePaths[0]) await this.openExternal([r.filePaths[0]]);
    }
  }

  async #menuOpenRecent(path: string): Promise<void> {
    const session = this.#session ?? (await this.openWindow(), this.#session!);
    try {
      this.#deliver(session, await this.#openRecentPath(path));
    } catch (e) {
      void this.#message('error', `Could not open ${nodePath.basename(path)}`, (e as Error).message);
    }
  }

  async showAbout(): Promise<void> {
    const v = this.env.versions;
    await this.apis.dialog.showMessageBox(this.#session?.win ?? null, {
      type: 'info',
      title: `About ${this.env.appName}`,
      message: `${this.env.appName} ${this.env.appVersion}`,
      detail: [
        'Design and train neural networks visually.',
        '',
        `Electron ${v.electron ?? '?'}`,
        `Chromium ${v.chrome ?? '?'}`,
        `Node.js ${v.node ?? '?'}`,
        `V8 ${v.v8 ?? '?'}`,
      ].join('\n'),
      buttons: ['OK'],
    });
  }

  #message(type: MessageBoxOptions['type'], message: string, detail: string): Promise<unknown> {
    this.env.log?.(`${message}: ${detail}`);
    return this.apis.dialog.showMessageBox(this.#session?.win ?? null, { type, message, detail, buttons: ['OK'] }).catch(() => {});
  }
}
