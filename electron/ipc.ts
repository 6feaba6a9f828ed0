/**
 * The main process side of the bridge: one handler per channel. Every call is checked twice
 * before it does anything: the sender must be the main frame of one of our windows showing
 * our own app:// page (not an iframe, not a page it navigated to), and every argument must
 * pass the channel's validator. A refused call answers with an error and is logged; it never
 * throws into Electron and never touches a file.
 */
import * as nodePath from 'node:path';
import type { BridgeResult, ExportOptions, OpenedFile, RecentFile, SavedFile, TextEditCommand } from '../core/platform.ts';
import {
  InvalidArgument,
  InvokeChannel,
  SendChannel,
  checkDocumentState,
  checkDroppedPaths,
  checkExportRequest,
  checkMenuState,
  checkNoArguments,
  checkPath,
  checkSaveRequest,
  checkTextEditCommand,
  type DocumentState,
  type MenuState,
  type SaveRequest,
} from './channels.ts';
import { originOf } from './security.ts';

/** The parts of an IPC event that sender validation reads (Electron's IpcMainEvent has them). */
export interface IpcEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** ipcMain, narrowed to what registration needs. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void;
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): void;
  removeHandler?(channel: string): void;
}

/** What the handlers do, per window (identified by its webContents id). */
export interface DesktopActions {
  openFile(windowId: number): Promise<OpenedFile | null>;
  saveFile(windowId: number, request: SaveRequest): Promise<SavedFile | null>;
  exportFile(windowId: number, request: ExportOptions): Promise<SavedFile | null>;
  recentFiles(): RecentFile[];
  openRecent(windowId: number, path: string): Promise<OpenedFile>;
  takePendingFiles(windowId: number): OpenedFile[];
  openDropped(windowId: number, paths: string[]): Promise<void>;
  setDocumentState(windowId: number, state: DocumentState): void;
  editText(windowId: number, command: TextEditCommand): void;
  setMenuState(windowId: number, enabled: MenuState): void;
}

export interface SenderPolicy {
  /** The app's origin, e.g. "app://gradflow". */
  appOrigin: string;
  /** Whether a webContents id belongs to one of our windows. */
  isAppWindow(webContentsId: number): boolean;
}

/** Why a sender is refused, or null when it is trusted. */
export function senderProblem(event: IpcEventLike, policy: SenderPolicy): string | null {
  if (!policy.isAppWindow(event.sender.id)) return `webContents ${event.sender.id} is not a Gradflow window`;
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone (it navigated or closed)';
  if (frame.parent !== null) return 'the call came from a subframe';
  const actual = originOf(String(frame.url));
  if (!actual) return `the sending page has no valid URL (${String(frame.url).slice(0, 100)})`;
  if (actual !== policy.appOrigin) return `the sending page is ${actual}, not ${policy.appOrigin}`;
  return null;
}

type Log = (message: string) => void;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Register every channel on `ipc`. Returns the handlers by channel, for tests that want to
 * call them directly.
 */
export function registerIpc(ipc: IpcMainLike, actions: DesktopActions, policy: SenderPolicy, log: Log = console.warn) {
  const invoke = <T>(channel: string, run: (windowId: number, args: unknown[]) => Promise<T> | T) => {
    const handler = async (event: IpcEventLike, ...args: unknown[]): Promise<BridgeResult<T>> => {
      const problem = senderProblem(event, policy);
      if (problem) {
        log(`Refused ${channel}: ${problem}`);
        return { ok: false, error: `refused: ${problem}` };
      }
      try {
        return { ok: true, value: await run(event.sender.id, args) };
      } catch (e) {
        if (e instanceof InvalidArgument) log(`Refused ${channel}: ${e.message}`);
        return { ok: false, error: errorMessage(e) };
      }
    };
    ipc.handle(channel, handler);
    return handler;
  };
  const notify = (channel: string, run: (windowId: number, args: unknown[]) => void) => {
    const listener = (event: IpcEventLike, ...args: unknown[]): void => {
      const problem = senderProblem(event, policy);
      if (problem) return log(`Refused ${channel}: ${problem}`);
      try {
        run(event.sender.id, args);
      } catch (e) {
        log(`Refused ${channel}: ${errorMessage(e)}`);
      }
    };
    ipc.on(channel, listener);
    return listener;
  };
  const one = (args: unknown[]): unknown => {
    if (args.length !== 1) throw new InvalidArgument(`expected 1 argument, got ${args.length}`);
    return args[0];
  };

  return {
    [InvokeChannel.openFile]: invoke(InvokeChannel.openFile, (id, args) => {
      checkNoArguments(args);
      return actions.openFile(id);
    }),
    [InvokeChannel.saveFile]: invoke(InvokeChannel.saveFile, (id, args) => actions.saveFile(id, checkSaveRequest(one(args)))),
    [InvokeChannel.exportFile]: invoke(InvokeChannel.exportFile, (id, args) => actions.exportFile(id, checkExportRequest(one(args)))),
    [InvokeChannel.recentFiles]: invoke(InvokeChannel.recentFiles, (_id, args) => {
      checkNoArguments(args);
      return actions.recentFiles();
    }),
    [InvokeChannel.openRecent]: invoke(InvokeChannel.openRecent, (id, args) => actions.openRecent(id, checkPath(one(args)))),
    [InvokeChannel.takePendingFiles]: invoke(InvokeChannel.takePendingFiles, (id, args) => {
      checkNoArguments(args);
      return actions.takePendingFiles(id);
    }),
    [InvokeChannel.openDropped]: invoke(InvokeChannel.openDropped, (id, args) => actions.openDropped(id, checkDroppedPaths(one(args)))),
    [SendChannel.documentState]: notify(SendChannel.documentState, (id, args) => actions.setDocumentState(id, checkDocumentState(one(args)))),
    [SendChannel.editText]: notify(SendChannel.editText, (id, args) => actions.editText(id, checkTextEditCommand(one(args)))),
    [SendChannel.menuState]: notify(SendChannel.menuState, (id, args) => actions.setMenuState(id, checkMenuState(one(args)))),
  };
}

/** Absolute paths only: a relative path from a renderer would resolve against wherever main runs. */
export function requireAbsolute(path: string, platform: NodeJS.Platform = process.platform): string {
  const abs = platform === 'win32' ? nodePath.win32.isAbsolute(path) : nodePath.posix.isAbsolute(path);
  if (!abs) throw new InvalidArgument(`not an absolute path: ${path.slice(0, 200)}`);
  return path;
}
