/**
 * The preload: runs in an isolated world of the sandboxed renderer and exposes
 * `window.gradflowBridge` (core/platform.ts's DesktopBridge): one method per IPC channel,
 * with fixed channel names, never `ipcRenderer` itself, so the page can reach nothing else in
 * the main process. renderer/platform/electron.ts wraps the bridge into a Platform.
 *
 * It also owns file drops: only this isolated world can turn a dropped File into its path
 * (webUtils), and the page has no method that takes a path to open, so a compromised page
 * cannot ask for arbitrary files by naming them.
 *
 * Built by scripts/build-electron.mjs into dist/electron/preload.cjs (sandboxed preloads must
 * be one CommonJS file that requires nothing but 'electron').
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { BridgeResult, DesktopBridge, MenuCommand, OpenedFile } from '../core/platform.ts';
import { EventChannel, InvokeChannel, SendChannel, isMenuCommand } from './channels.ts';

function invoke<T>(channel: string, ...args: unknown[]): Promise<BridgeResult<T>> {
  return ipcRenderer.invoke(channel, ...args) as Promise<BridgeResult<T>>;
}

function isOpenedFile(v: unknown): v is OpenedFile {
  const f = v as OpenedFile | null;
  return !!f && typeof f.name === 'string' && f.bytes instanceof Uint8Array && (f.path === undefined || typeof f.path === 'string');
}

/** Subscribe to a main → renderer event; the handler never sees the IPC event object. */
function listen<T>(channel: string, accept: (v: unknown) => v is T, handler: (value: T) => void): () => void {
  const listener = (_event: IpcRendererEvent, value: unknown) => {
    if (accept(value)) handler(value);
  };
  ipcRenderer.on(channel, listener);
  return () => void ipcRenderer.removeListener(channel, listener);
}

const bridge: DesktopBridge = {
  openFile: () => invoke(InvokeChannel.openFile),
  saveFile: (options) => invoke(InvokeChannel.saveFile, options),
  exportFile: (options) => invoke(InvokeChannel.exportFile, options),
  recentFiles: () => invoke(InvokeChannel.recentFiles),
  openRecent: (path) => invoke(InvokeChannel.openRecent, path),
  takePendingFiles: () => invoke(InvokeChannel.takePendingFiles),
  setDocumentState: (state) => ipcRenderer.send(SendChannel.documentState, state),
  editText: (command) => ipcRenderer.send(SendChannel.editText, command),
  setMenuState: (enabled) => ipcRenderer.send(SendChannel.menuState, enabled),
  onCommand: (handler) => listen<MenuCommand>(EventChannel.command, isMenuCommand, handler),
  onOpenFile: (handler) => listen<OpenedFile>(EventChannel.fileOpened, isOpenedFile, handler),
};

contextBridge.exposeInMainWorld('gradflowBridge', bridge);

// ── File drops ──────────────────────────────────────────────────────────────────────────
// Capture phase on window, registered before any page script: this sees drops first. Only
// drops that carry files are taken; the palette's own drag and drop carries none.

function carriesFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
}

window.addEventListener(
  'dragover',
  (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  },
  true,
);

window.addEventListener(
  'drop',
  (e) => {
    if (!carriesFiles(e)) return;
    // Without this Chromium would try to navigate to the file (which main refuses anyway).
    e.preventDefault();
    e.stopPropagation();
    const paths = Array.from(e.dataTransfer?.files ?? [])
      .map((f) => webUtils.getPathForFile(f))
      // Files made by script (new File([...])) have no path: nothing to open.
      .filter((p) => p !== '');
    if (paths.length > 0) void invoke(InvokeChannel.openDropped, paths.slice(0, 64));
  },
  true,
);
