/**
 * The IPC contract between the preload and the main process: channel names and the checks
 * every argument goes through. Both sides import this file (the preload to subscribe and to
 * filter what main sends, main to refuse what a renderer should not send), so a channel is
 * named and validated in one place. No Electron import here: it runs under Node tests.
 */
import { isTextEditCommand, TEXT_EDIT_COMMANDS } from '../core/commands.ts';
import type { ExportOptions, MenuCommand, TextEditCommand } from '../core/platform.ts';

/** Renderer → main calls that answer (ipcRenderer.invoke / ipcMain.handle). */
export const InvokeChannel = {
  openFile: 'gradflow:file:open',
  saveFile: 'gradflow:file:save',
  exportFile: 'gradflow:file:export',
  recentFiles: 'gradflow:recent:list',
  openRecent: 'gradflow:recent:open',
  takePendingFiles: 'gradflow:file:take-pending',
  /** Used by the preload's own drop listener only; the page has no method for it. */
  openDropped: 'gradflow:file:open-dropped',
} as const;
export type InvokeChannel = (typeof InvokeChannel)[keyof typeof InvokeChannel];

/** Renderer → main notifications (ipcRenderer.send / ipcMain.on). */
export const SendChannel = {
  documentState: 'gradflow:window:document-state',
  editText: 'gradflow:edit:text',
  /** Which commands can run now, so the native menu greys out the others. */
  menuState: 'gradflow:menu:state',
} as const;
export type SendChannel = (typeof SendChannel)[keyof typeof SendChannel];

/** Main → renderer events (webContents.send / ipcRenderer.on). */
export const EventChannel = {
  command: 'gradflow:menu:command',
  fileOpened: 'gradflow:file:opened',
} as const;

/** Every menu command the renderer accepts, at run time (the type alone cannot check a message). */
export const MENU_COMMANDS = [
  'new',
  'open',
  'save',
  'saveAs',
  'export',
  'model',
  'close',
  'undo',
  'redo',
  'cut',
  'copy',
  'paste',
  'delete',
  'selectAll',
  'duplicate',
  'fitView',
  'zoomIn',
  'zoomOut',
  'tidyUp',
  'toggleTheme',
  'examples',
  'train.start',
  'train.pause',
  'train.step',
  'train.stop',
  'help.fileFormat',
  'help.about',
] as const satisfies readonly MenuCommand[];

// Compile-time check that the list above names every MenuCommand: adding one to the
// contract without adding it here fails the type check instead of silently dropping it.
type MissingCommands = Exclude<MenuCommand, (typeof MENU_COMMANDS)[number]>;
const everyCommandListed: [MissingCommands] extends [never] ? true : MissingCommands = true;
void everyCommandListed;

// The editing commands are listed once, with the command table.
export { isTextEditCommand, TEXT_EDIT_COMMANDS };

const menuCommandSet: ReadonlySet<string> = new Set(MENU_COMMANDS);

/** Whether a value from IPC is a MenuCommand (the preload drops anything else main sends). */
export function isMenuCommand(value: unknown): value is MenuCommand {
  return typeof value === 'string' && menuCommandSet.has(value);
}

/**
 * The largest file Gradflow opens or writes: the same limit as `MAX_FILE_BYTES` in
 * core/io/load.ts (a test keeps them equal). Repeated here so that the main process bundle
 * does not pull in the whole catalogue just for a number.
 */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Longest path accepted from a renderer (Windows' long paths reach 32,767 characters). */
export const MAX_PATH_LENGTH = 32_767;
const MAX_NAME_LENGTH = 255;
const MAX_TITLE_LENGTH = 1024;

/** A call refused because of its arguments; the message says which and why. */
export class InvalidArgument extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgument';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Refuse keys the channel does not define, so a renderer cannot smuggle options through. */
function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new InvalidArgument(`${what}: unexpected field "${k}"`);
  }
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be text, got ${v === null ? 'null' : typeof v}`);
  if (v.length > max) throw new InvalidArgument(`${what} is too long (${v.length} characters; the limit is ${max})`);
  if (v.includes('\0')) throw new InvalidArgument(`${what} contains a NUL character`);
  return v;
}

/** A path from the renderer: text, not empty, no NUL. Whether it may be used is decided elsewhere. */
export function checkPath(v: unknown, what = 'path'): string {
  const p = str(v, what, MAX_PATH_LENGTH);
  if (p.trim() === '') throw new InvalidArgument(`${what} is empty`);
  return p;
}

/**
 * A file name to suggest in a save dialog. Folders are dropped and characters that no
 * file system accepts are replaced, because the name only ever seeds a dialog the user
 * confirms: refusing "a/b.nngraph" would just lose the user's save.
 */
export function sanitizeFileName(v: unknown, fallback = 'Untitled.nngraph'): string {
  const raw = str(v, 'suggestedName', MAX_PATH_LENGTH);
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/[<>:"|?*\u0000-\u001f]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, MAX_NAME_LENGTH);
  return clean === '' ? fallback : clean;
}

/** Arguments of `saveFile`. */
export interface SaveRequest {
  suggestedName: string;
  text: string;
  path?: string;
}

/** Validate `saveFile`'s argument: exactly { suggestedName, text, path? }; the name is cleaned. */
export function checkSaveRequest(v: unknown): SaveRequest {
  if (!isPlainObject(v)) throw new InvalidArgument('saveFile expects { suggestedName, text, path? }');
  onlyKeys(v, ['suggestedName', 'text', 'path'], 'saveFile');
  const text = str(v.text, 'text', MAX_FILE_BYTES);
  const suggestedName = sanitizeFileName(v.suggestedName);
  if (v.path === undefined || v.path === null) return { suggestedName, text };
  return { suggestedName, text, path: checkPath(v.path) };
}

const EXTENSION = /^[A-Za-z0-9][A-Za-z0-9_+-]{0,15}$/;

/** Validate `exportFile`'s argument: a name, text or bytes, and 1 to 16 file types with plain extensions. */
export function checkExportRequest(v: unknown): ExportOptions {
  if (!isPlainObject(v)) throw new InvalidArgument('exportFile expects { suggestedName, data, filters }');
  onlyKeys(v, ['suggestedName', 'data', 'filters'], 'exportFile');
  const suggestedName = sanitizeFileName(v.suggestedName, 'export');
  let data: string | Uint8Array;
  if (typeof v.data === 'string') data = str(v.data, 'data', MAX_FILE_BYTES);
  else if (v.data instanceof Uint8Array) {
    if (v.data.byteLength > MAX_FILE_BYTES) throw new InvalidArgument('data is larger than 512 MiB');
    data = v.data;
  } else throw new InvalidArgument('data must be text or bytes');
  if (!Array.isArray(v.filters) || v.filters.length === 0 || v.filters.length > 16) {
    throw new InvalidArgument('filters must list 1 to 16 file types');
  }
  const filters = v.filters.map((f, i) => {
    if (!isPlainObject(f)) throw new InvalidArgument(`filters[${i}] must be { name, extensions }`);
    onlyKeys(f, ['name', 'extensions'], `filters[${i}]`);
    const name = str(f.name, `filters[${i}].name`, 100);
    if (!Array.isArray(f.extensions) || f.extensions.length === 0 || f.extensions.length > 16) {
      throw new InvalidArgument(`filters[${i}].extensions must list 1 to 16 extensions`);
    }
    const extensions = f.extensions.map((e, j) => {
      const ext = str(e, `filters[${i}].extensions[${j}]`, 16);
      if (!EXTENSION.test(ext)) throw new InvalidArgument(`filters[${i}].extensions[${j}] "${ext}" is not a file extension`);
      return ext;
    });
    return { name, extensions };
  });
  return { suggestedName, data, filters };
}

/** Arguments of `setDocumentState`. */
export interface DocumentState {
  title: string;
  dirty: boolean;
}

/** Validate `setDocumentState`'s argument. */
export function checkDocumentState(v: unknown): DocumentState {
  if (!isPlainObject(v)) throw new InvalidArgument('setDocumentState expects { title, dirty }');
  onlyKeys(v, ['title', 'dirty'], 'setDocumentState');
  if (typeof v.dirty !== 'boolean') throw new InvalidArgument('dirty must be true or false');
  return { title: str(v.title, 'title', MAX_TITLE_LENGTH), dirty: v.dirty };
}

/** Validate `editText`'s argument. */
export function checkTextEditCommand(v: unknown): TextEditCommand {
  if (!isTextEditCommand(v)) throw new InvalidArgument(`not an editing command: ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

/** Argument of `setMenuState`: whether each command can run now (commands left out are enabled). */
export type MenuState = Partial<Record<MenuCommand, boolean>>;

/** Validate `setMenuState`'s argument: an object from menu commands to true or false, nothing else. */
export function checkMenuState(v: unknown): MenuState {
  if (!isPlainObject(v)) throw new InvalidArgument('setMenuState expects { [command]: true | false }');
  const out: MenuState = {};
  for (const [k, on] of Object.entries(v)) {
    if (!isMenuCommand(k)) throw new InvalidArgument(`setMenuState: not a menu command: ${JSON.stringify(k).slice(0, 40)}`);
    if (typeof on !== 'boolean') throw new InvalidArgument(`setMenuState: ${k} must be true or false`);
    out[k] = on;
  }
  return out;
}

/** Paths of dropped files, as the preload read them from the drop event. */
export function checkDroppedPaths(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) throw new InvalidArgument('expected 1 to 64 dropped paths');
  return v.map((p, i) => checkPath(p, `paths[${i}]`));
}

/** No arguments: a call that passes some is not from our preload. */
export function checkNoArguments(args: readonly unknown[]): void {
  if (args.length > 0) throw new InvalidArgument(`expected no arguments, got ${args.length}`);
}
