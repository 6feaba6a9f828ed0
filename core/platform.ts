/**
 * The platform contract: how the renderer reaches files, menus and the window. Types only,
 * so that the renderer and the Electron main process stand on the same floor without
 * importing each other. Two implementations: the browser (web build, end-to-end tests)
 * and Electron (preload bridge).
 */

/** A file the user chose to open. */
export interface OpenedFile {
  /** File name shown in the title, e.g. "mnist-mlp.nngraph". */
  name: string;
  /** Full path where the platform has one (Electron), for Save and the recent list. */
  path?: string;
  bytes: Uint8Array;
}

export interface SavedFile {
  name: string;
  path?: string;
}

export interface RecentFile {
  name: string;
  path: string;
}

/** Commands that menus and shortcuts send to the renderer; one handler routes them. */
export type MenuCommand =
  | 'new'
  | 'open'
  | 'save'
  | 'saveAs'
  | 'export'
  | 'model'
  | 'close'
  | 'undo'
  | 'redo'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'delete'
  | 'selectAll'
  | 'duplicate'
  | 'fitView'
  | 'zoomIn'
  | 'zoomOut'
  | 'tidyUp'
  | 'toggleTheme'
  | 'examples'
  | 'train.start'
  | 'train.pause'
  | 'train.step'
  | 'train.stop'
  | 'help.fileFormat'
  | 'help.about';

export interface Platform {
  readonly kind: 'browser' | 'electron';
  /** Ask the user for a graph file; null when cancelled. */
  openFile(): Promise<OpenedFile | null>;
  /**
   * Write a graph file. With `path` (a file opened or saved before) save in place; without,
   * ask where (Save As). Null when cancelled. Rejects with a readable error when writing fails.
   */
  saveFile(options: { suggestedName: string; text: string; path?: string }): Promise<SavedFile | null>;
  /**
   * Export to another format through a save dialog (always asks where). Optional: only hosts
   * that can write arbitrary files (Electron) have it; null when cancelled.
   */
  exportFile?(options: ExportOptions): Promise<SavedFile | null>;
  recentFiles(): Promise<RecentFile[]>;
  openRecent(path: string): Promise<OpenedFile>;
  /** Subscribe to menu commands; returns the unsubscribe function. */
  onCommand(handler: (command: MenuCommand) => void): () => void;
  /**
   * Which commands can run now (core/commands.ts commandEnablement, joined with the
   * renderer's handlers), for hosts with native menus to grey out the others. Optional:
   * the browser has no menus of its own.
   */
  setCommandStates?(enabled: Readonly<Record<MenuCommand, boolean>>): void;
  /** Files opened from outside (command line, file association, second launch, drop). */
  onOpenFile(handler: (file: OpenedFile) => void): () => void;
  setTitle(title: string, dirty: boolean): void;
  /** Local storage for crash recovery of unsaved work. */
  autosave: {
    write(text: string): void;
    read(): { text: string; savedAt: string } | null;
    clear(): void;
  };
}

/** What `Platform.exportFile` writes: a name to suggest, the content, and the dialog's file types. */
export interface ExportOptions {
  suggestedName: string;
  data: string | Uint8Array;
  /** File types offered in the dialog, e.g. `[{ name: 'Python', extensions: ['py'] }]`. */
  filters: { name: string; extensions: string[] }[];
}

/** Editing commands that act on a focused text field instead of the graph in the desktop app. */
export type TextEditCommand = 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'delete' | 'selectAll';

/**
 * Every call across the desktop bridge answers with a result instead of throwing, so that an
 * error reaches the renderer as the main process worded it (a rejected IPC promise would wrap
 * it in "Error invoking remote method ...").
 */
export type BridgeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The Electron preload's bridge, exposed as `window.gradflowBridge`: one method per IPC
 * channel, nothing else (never `ipcRenderer` itself). `renderer/platform/electron.ts` turns it
 * into a `Platform`. The main process checks the sender and every argument of each call, and
 * reads and writes only files the user chose (dialog, recent list, command line, file
 * association, second launch, drop).
 */
export interface DesktopBridge {
  openFile(): Promise<BridgeResult<OpenedFile | null>>;
  saveFile(options: { suggestedName: string; text: string; path?: string }): Promise<BridgeResult<SavedFile | null>>;
  exportFile(options: ExportOptions): Promise<BridgeResult<SavedFile | null>>;
  recentFiles(): Promise<BridgeResult<RecentFile[]>>;
  openRecent(path: string): Promise<BridgeResult<OpenedFile>>;
  /** Files that arrived before the renderer listened (command line, file association). */
  takePendingFiles(): Promise<BridgeResult<OpenedFile[]>>;
  /** The document's title and whether it has unsaved changes: the window title and the close prompt use it. */
  setDocumentState(state: { title: string; dirty: boolean }): void;
  /** Run a native editing command in the focused text field (menus reach text fields this way). */
  editText(command: TextEditCommand): void;
  /** Which commands the native menu shows enabled (commands left out stay enabled). */
  setMenuState(enabled: Partial<Record<MenuCommand, boolean>>): void;
  onCommand(handler: (command: MenuCommand) => void): () => void;
  onOpenFile(handler: (file: OpenedFile) => void): () => void;
}
