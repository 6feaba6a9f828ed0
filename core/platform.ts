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
  recentFiles(): Promise<RecentFile[]>;
  openRecent(path: string): Promise<OpenedFile>;
  /** Subscribe to menu commands; returns the unsubscribe function. */
  onCommand(handler: (command: MenuCommand) => void): () => void;
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
