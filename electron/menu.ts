/**
 * The native menus: File, Edit, View, Train, Help (and the macOS app and Window menus), with
 * each platform's conventions. Built as plain data here and turned into an Electron Menu by
 * the main process, which gives every item with an id the same click handler: one router
 * (`routeMenuAction`) decides whether the main process acts (quit, close, recent files,
 * about, developer tools) or the renderer gets the MenuCommand.
 */
import { COMMANDS, PAGE_SHORTCUT_COMMANDS } from '../core/commands.ts';
import type { MenuCommand, RecentFile } from '../core/platform.ts';
import { isMenuCommand } from './channels.ts';

/** What a menu item does; ids of items are these strings. */
export type MenuAction =
  | MenuCommand
  | 'app.quit'
  | 'view.toggleFullScreen'
  | 'view.toggleDevTools'
  | 'recent.clear'
  | `recent.open:${number}`;

/** A menu item as plain data: the subset of Electron's MenuItemConstructorOptions used here. */
export interface MenuItemSpec {
  id?: MenuAction;
  label?: string;
  type?: 'normal' | 'separator' | 'submenu';
  /** Native roles, only for things the OS itself does (macOS Services, Hide, the Window menu). */
  role?: 'services' | 'hide' | 'hideOthers' | 'unhide' | 'windowMenu' | 'appMenu';
  accelerator?: string;
  /**
   * False where the page already handles the keystroke itself (renderer/App.tsx's
   * shortcutCommand): the menu shows it, but registering it too would run the command twice,
   * or steal Ctrl+C from a text field. Linux and Windows only; on macOS the page sees the key
   * first and the menu only gets keys the page left alone (e.g. Cmd+C in a text field).
   */
  registerAccelerator?: boolean;
  enabled?: boolean;
  submenu?: MenuItemSpec[];
}

export interface MenuContext {
  platform: NodeJS.Platform;
  appName: string;
  recent: readonly RecentFile[];
  /** Developer tools appear only when running from source. */
  isDev: boolean;
  /**
   * Which of the renderer's commands can run now, as its command registry says
   * (core/commands.ts commandEnablement); commands left out are enabled. Items the main
   * process handles itself (Close, About, Quit) are not the renderer's to disable.
   */
  enabled?: Partial<Record<MenuCommand, boolean>>;
}

/** Keystrokes the renderer handles on its own: the command table's page shortcuts (core/commands.ts). */
export const RENDERER_SHORTCUTS: ReadonlySet<MenuAction> = PAGE_SHORTCUT_COMMANDS;

const sep: MenuItemSpec = { type: 'separator' };

/** Build the whole menu bar for a platform. */
export function buildMenu(ctx: MenuContext): MenuItemSpec[] {
  const mac = ctx.platform === 'darwin';
  const win = ctx.platform === 'win32';
  /** Alt-key mnemonics on Linux and Windows; macOS has none and would show the "&". */
  const top = (label: string) => (mac ? label : `&${label}`);
  const item = (id: MenuAction, label: string, accelerator?: string): MenuItemSpec => {
    const it: MenuItemSpec = { id, label };
    if (accelerator) {
      it.accelerator = accelerator;
      if (!mac && RENDERER_SHORTCUTS.has(id)) it.registerAccelerator = false;
    }
    return it;
  };

  /**
   * A renderer command's item, labelled from the command table (core/commands.ts) and greyed
   * out when the registry says it cannot run; accelerators follow each platform's conventions.
   */
  const cmd = (id: MenuCommand, accelerator?: string): MenuItemSpec => {
    const it = item(id, COMMANDS[id].label, accelerator);
    if (ctx.enabled?.[id] === false) it.enabled = false;
    return it;
  };

  const recent: MenuItemSpec[] =
    ctx.recent.length === 0
      ? [{ label: 'No Recent Files', enabled: false }]
      : ctx.recent.map((f, i) => ({ id: `recent.open:${i}` as const, label: recentLabel(f, i, mac) }));
  const file: MenuItemSpec = {
    label: top('File'),
    submenu: [
      cmd('new', 'CmdOrCtrl+N'),
      cmd('open', 'CmdOrCtrl+O'),
      { label: 'Open Recent', submenu: [...recent, sep, { ...item('recent.clear', 'Clear Recent'), enabled: ctx.recent.length > 0 }] },
      sep,
      cmd('save', 'CmdOrCtrl+S'),
      cmd('saveAs', 'CmdOrCtrl+Shift+S'),
      cmd('export', 'CmdOrCtrl+E'),
      cmd('model'),
      sep,
      item('close', mac ? 'Close Window' : 'Close', mac ? 'Cmd+W' : 'Ctrl+W'),
      // Quit lives in the app menu on macOS; Windows calls it Exit and uses Alt+F4.
      ...(mac ? [] : [sep, win ? item('app.quit', 'Exit') : item('app.quit', 'Quit', 'Ctrl+Q')]),
    ],
  };

  const edit: MenuItemSpec = {
    label: top('Edit'),
    submenu: [
      cmd('undo', 'CmdOrCtrl+Z'),
      cmd('redo', win ? 'Ctrl+Y' : 'Shift+CmdOrCtrl+Z'),
      sep,
      cmd('cut', 'CmdOrCtrl+X'),
      cmd('copy', 'CmdOrCtrl+C'),
      cmd('paste', 'CmdOrCtrl+V'),
      cmd('duplicate', 'CmdOrCtrl+D'),
      // A bare key as a registered macOS accelerator would fire while typing, so Delete has
      // none there (as in macOS's own Edit menus).
      mac ? cmd('delete') : cmd('delete', 'Delete'),
      sep,
      cmd('selectAll', 'CmdOrCtrl+A'),
    ],
  };

  const view: MenuItemSpec = {
    label: top('View'),
    submenu: [
      cmd('zoomIn', 'CmdOrCtrl+='),
      cmd('zoomOut', 'CmdOrCtrl+-'),
      mac ? cmd('fitView') : cmd('fitView', 'F'),
      cmd('tidyUp'),
      sep,
      cmd('toggleTheme'),
      item('view.toggleFullScreen', 'Toggle Full Screen', mac ? 'Ctrl+Cmd+F' : 'F11'),
      ...(ctx.isDev ? [sep, item('view.toggleDevTools', 'Toggle Developer Tools', mac ? 'Alt+Cmd+I' : 'Ctrl+Shift+I')] : []),
    ],
  };

  // Function keys as in debuggers (F5 run, Shift+F5 stop, F6 pause, F10 step): no text
  // field uses them, and the page does not handle them itself.
  const train: MenuItemSpec = {
    label: top('Train'),
    submenu: [
      cmd('train.start', 'F5'),
      cmd('train.pause', 'F6'),
      cmd('train.step', 'F10'),
      cmd('train.stop', 'Shift+F5'),
    ],
  };

  const help: MenuItemSpec = {
    label: top('Help'),
    submenu: [
      cmd('examples'),
      cmd('help.fileFormat'),
      ...(mac ? [] : [sep, item('help.about', `About ${ctx.appName}`)]),
    ],
  };

  if (!mac) return [file, edit, view, train, help];
  const appMenu: MenuItemSpec = {
    label: ctx.appName,
    submenu: [
      item('help.about', `About ${ctx.appName}`),
      sep,
      { role: 'services' },
      sep,
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      sep,
      item('app.quit', `Quit ${ctx.appName}`, 'Cmd+Q'),
    ],
  };
  return [appMenu, file, edit, view, train, { role: 'windowMenu' }, help];
}

/** "1  model.nngraph" with an Alt-key mnemonic for the first nine on Linux and Windows. */
function recentLabel(f: RecentFile, i: number, mac: boolean): string {
  // A literal "&" in a file name would be read as a mnemonic marker: double it.
  const name = mac ? f.name : f.name.replace(/&/g, '&&');
  return mac || i >= 9 ? name : `&${i + 1}  ${name}`;
}

/** Every item in a menu tree, depth first. */
export function flattenMenu(items: readonly MenuItemSpec[]): MenuItemSpec[] {
  return items.flatMap((it) => [it, ...(it.submenu ? flattenMenu(it.submenu) : [])]);
}

/** The enabled state of every item with an id, by id: what a live update sets without rebuilding the menu. */
export function menuItemStates(items: readonly MenuItemSpec[]): Record<string, boolean> {
  return Object.fromEntries(flattenMenu(items).flatMap((it) => (it.id ? [[it.id, it.enabled !== false]] : [])));
}

/** What the main process does for menu actions that are not the renderer's. */
export interface MenuActionHandlers {
  /** Send a command to the focused window's renderer. */
  send(command: MenuCommand): void;
  closeWindow(): void;
  quit(): void;
  toggleFullScreen(): void;
  toggleDevTools(): void;
  showAbout(): void;
  openRecent(path: string): void;
  clearRecent(): void;
}

/**
 * The one handler every menu item calls. Recent entries are looked up by index in the list
 * the menu was built from, so a menu id can never name an arbitrary path.
 */
export function routeMenuAction(id: string, recent: readonly RecentFile[], h: MenuActionHandlers): boolean {
  switch (id) {
    case 'app.quit':
      return h.quit(), true;
    case 'close':
      // Closing the window goes through the unsaved-changes prompt in the main process.
      return h.closeWindow(), true;
    case 'help.about':
      return h.showAbout(), true;
    case 'view.toggleFullScreen':
      return h.toggleFullScreen(), true;
    case 'view.toggleDevTools':
      return h.toggleDevTools(), true;
    case 'recent.clear':
      return h.clearRecent(), true;
  }
  const m = /^recent\.open:(\d{1,2})$/.exec(id);
  if (m) {
    const f = recent[Number(m[1])];
    if (!f) return false;
    h.openRecent(f.path);
    return true;
  }
  if (isMenuCommand(id)) {
    h.send(id);
    return true;
  }
  return false;
}
