import { describe, expect, it, vi } from 'vitest';
import type { MenuCommand, RecentFile } from '../../core/platform.ts';
import { shortcutCommand } from '../../renderer/App.tsx';
import { MENU_COMMANDS } from '../../electron/channels.ts';
import { RENDERER_SHORTCUTS, buildMenu, flattenMenu, routeMenuAction, type MenuActionHandlers, type MenuItemSpec } from '../../electron/menu.ts';

const PLATFORMS = ['linux', 'win32', 'darwin'] as const;
const recent: RecentFile[] = [
  { name: 'mnist-mlp.nngraph', path: '/home/ada/mnist-mlp.nngraph' },
  { name: 'R&D.nngraph', path: '/home/ada/R&D.nngraph' },
];
const menu = (platform: NodeJS.Platform, isDev = false, files = recent) => buildMenu({ platform, appName: 'Gradflow', recent: files, isDev });
const items = (platform: NodeJS.Platform, isDev = false) => flattenMenu(menu(platform, isDev));
const byId = (platform: NodeJS.Platform, id: string, isDev = false) => items(platform, isDev).find((i) => i.id === id);
const topLabels = (m: MenuItemSpec[]) => m.map((i) => i.label ?? i.role);

function handlers() {
  return {
    send: vi.fn<(command: MenuCommand) => void>(),
    closeWindow: vi.fn<() => void>(),
    quit: vi.fn<() => void>(),
    toggleFullScreen: vi.fn<() => void>(),
    toggleDevTools: vi.fn<() => void>(),
    showAbout: vi.fn<() => void>(),
    openRecent: vi.fn<(path: string) => void>(),
    clearRecent: vi.fn<() => void>(),
  } satisfies MenuActionHandlers;
}

describe('menu bar', () => {
  it('has File, Edit, View, Train and Help on Linux and Windows, with Alt mnemonics', () => {
    expect(topLabels(menu('linux'))).toEqual(['&File', '&Edit', '&View', '&Train', '&Help']);
    expect(topLabels(menu('win32'))).toEqual(['&File', '&Edit', '&View', '&Train', '&Help']);
  });

  it('has the app menu first and a Window menu on macOS', () => {
    const m = menu('darwin');
    expect(topLabels(m)).toEqual(['Gradflow', 'File', 'Edit', 'View', 'Train', 'windowMenu', 'Help']);
    const app = m[0]!.submenu!;
    expect(app.map((i) => i.id ?? i.role ?? i.type)).toEqual(['help.about', 'separator', 'services', 'separator', 'hide', 'hideOthers', 'unhide', 'separator', 'app.quit']);
  });

  it.each(PLATFORMS)('%s: File has New, Open, Open Recent, Save, Save As, Export, Export or Import Model, Close (and Quit)', (p) => {
    const file = menu(p).find((m) => m.label?.replace('&', '') === 'File')!.submenu!;
    const ids = file.filter((i) => i.type !== 'separator').map((i) => i.id ?? i.label);
    expect(ids).toEqual(['new', 'open', 'Open Recent', 'save', 'saveAs', 'export', 'model', 'close', ...(p === 'darwin' ? [] : ['app.quit'])]);
    expect(file.find((i) => i.id === 'model')!.label).toBe('Export or Import Model…');
  });

  it.each(PLATFORMS)('%s: every id is unique and every item with an id is routed', (p) => {
    const all = items(p, true);
    const ids = all.flatMap((i) => (i.id ? [i.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(routeMenuAction(id, recent, handlers()), id).toBe(true);
  });

  it.each(PLATFORMS)('%s: no two items share an accelerator', (p) => {
    const accels = items(p, true).flatMap((i) => (i.accelerator ? [i.accelerator.toLowerCase().replace('cmdorctrl', p === 'darwin' ? 'cmd' : 'ctrl')] : []));
    expect(new Set(accels).size).toBe(accels.length);
  });

  it('uses each platform\'s conventions', () => {
    expect(byId('win32', 'redo')?.accelerator).toBe('Ctrl+Y');
    expect(byId('linux', 'redo')?.accelerator).toBe('Shift+CmdOrCtrl+Z');
    expect(byId('darwin', 'redo')?.accelerator).toBe('Shift+CmdOrCtrl+Z');
    expect(byId('win32', 'app.quit')?.label).toBe('Exit');
    expect(byId('win32', 'app.quit')?.accelerator).toBeUndefined(); // Alt+F4 is Windows' own
    expect(byId('linux', 'app.quit')?.accelerator).toBe('Ctrl+Q');
    expect(byId('darwin', 'app.quit')?.accelerator).toBe('Cmd+Q');
    expect(byId('darwin', 'close')?.accelerator).toBe('Cmd+W');
    expect(byId('linux', 'view.toggleFullScreen')?.accelerator).toBe('F11');
    expect(byId('darwin', 'view.toggleFullScreen')?.accelerator).toBe('Ctrl+Cmd+F');
    // A bare key registered on macOS would fire while typing.
    expect(byId('darwin', 'delete')?.accelerator).toBeUndefined();
    expect(byId('darwin', 'fitView')?.accelerator).toBeUndefined();
    expect(byId('linux', 'delete')?.accelerator).toBe('Delete');
  });

  it('has Train Start, Pause, Step and Stop on function keys', () => {
    for (const p of PLATFORMS) {
      expect(['train.start', 'train.pause', 'train.step', 'train.stop'].map((id) => byId(p, id)?.accelerator)).toEqual(['F5', 'F6', 'F10', 'Shift+F5']);
    }
  });

  it('shows developer tools only when running from source', () => {
    for (const p of PLATFORMS) {
      expect(byId(p, 'view.toggleDevTools', false)).toBeUndefined();
      expect(byId(p, 'view.toggleDevTools', true)?.accelerator).toBe(p === 'darwin' ? 'Alt+Cmd+I' : 'Ctrl+Shift+I');
    }
  });

  it('lists recent files with mnemonics, escaping "&" in names', () => {
    const open = menu('linux')[0]!.submenu!.find((i) => i.label === 'Open Recent')!.submenu!;
    expect(open.map((i) => [i.id, i.label])).toEqual([
      ['recent.open:0', '&1  mnist-mlp.nngraph'],
      ['recent.open:1', '&2  R&&D.nngraph'],
      [undefined, undefined],
      ['recent.clear', 'Clear Recent'],
    ]);
    const mac = menu('darwin')[1]!.submenu!.find((i) => i.label === 'Open Recent')!.submenu!;
    expect(mac[1]!.label).toBe('R&D.nngraph');
    const none = menu('linux', false, [])[0]!.submenu!.find((i) => i.label === 'Open Recent')!.submenu!;
    expect(none[0]).toEqual({ label: 'No Recent Files', enabled: false });
    expect(none.at(-1)).toMatchObject({ id: 'recent.clear', enabled: false });
  });

  it('covers every menu command except the ones that have no menu item', () => {
    const shown = new Set(items('linux').map((i) => i.id));
    const missing = MENU_COMMANDS.filter((c) => !shown.has(c));
    expect(missing).toEqual([]);
  });
});

/** A keydown as the page would see it for an Electron accelerator string. */
function keyEventFor(accelerator: string, mac: boolean): KeyboardEvent {
  const parts = accelerator.split('+');
  const key = parts.pop()!;
  const mods = new Set(parts.map((m) => m.toLowerCase()));
  const cmdOrCtrl = mods.has('cmdorctrl');
  return {
    key: key.length === 1 ? key.toLowerCase() : key,
    ctrlKey: mods.has('ctrl') || (cmdOrCtrl && !mac),
    metaKey: mods.has('cmd') || (cmdOrCtrl && mac),
    shiftKey: mods.has('shift'),
    altKey: mods.has('alt'),
  } as KeyboardEvent;
}

describe('menu accelerators and the page\'s own shortcuts agree', () => {
  it.each(['linux', 'win32'] as const)('%s: keys the page handles are shown but not registered, and do the same command', (p) => {
    for (const it of items(p)) {
      if (!it.accelerator || !it.id) continue;
      const pageCommand = shortcutCommand(keyEventFor(it.accelerator, false));
      if (it.registerAccelerator === false) {
        expect(pageCommand, `${it.id} (${it.accelerator})`).toBe(it.id);
      } else {
        // Registered with the menu: the page must not also act on it, or it would run twice.
        expect(pageCommand, `${it.id} (${it.accelerator}) is registered but the page handles it too`).toBeNull();
      }
    }
  });

  it('macOS registers every accelerator (it cannot do otherwise) and the page agrees on the shared ones', () => {
    for (const it of items('darwin')) {
      expect(it.registerAccelerator).toBeUndefined();
      if (it.accelerator && it.id && RENDERER_SHORTCUTS.has(it.id)) expect(shortcutCommand(keyEventFor(it.accelerator, true)), it.id).toBe(it.id);
    }
  });
});

describe('the one menu handler', () => {
  it('sends renderer commands to the renderer', () => {
    const h = handlers();
    for (const c of ['new', 'open', 'save', 'saveAs', 'export', 'model', 'undo', 'train.start', 'examples', 'help.fileFormat'] satisfies MenuCommand[]) {
      expect(routeMenuAction(c, recent, h)).toBe(true);
      expect(h.send).toHaveBeenLastCalledWith(c);
    }
  });

  it('keeps window and app actions in the main process', () => {
    const h = handlers();
    routeMenuAction('close', recent, h);
    routeMenuAction('app.quit', recent, h);
    routeMenuAction('help.about', recent, h);
    routeMenuAction('view.toggleDevTools', recent, h);
    routeMenuAction('view.toggleFullScreen', recent, h);
    routeMenuAction('recent.clear', recent, h);
    expect(h.closeWindow).toHaveBeenCalledOnce();
    expect(h.quit).toHaveBeenCalledOnce();
    expect(h.showAbout).toHaveBeenCalledOnce();
    expect(h.toggleDevTools).toHaveBeenCalledOnce();
    expect(h.toggleFullScreen).toHaveBeenCalledOnce();
    expect(h.clearRecent).toHaveBeenCalledOnce();
    expect(h.send).not.toHaveBeenCalled();
  });

  it('opens recent files by their place in the menu, never by a path in the id', () => {
    const h = handlers();
    expect(routeMenuAction('recent.open:1', recent, h)).toBe(true);
    expect(h.openRecent).toHaveBeenCalledWith('/home/ada/R&D.nngraph');
    expect(routeMenuAction('recent.open:9', recent, h)).toBe(false);
    expect(routeMenuAction('recent.open:/etc/passwd', recent, h)).toBe(false);
    expect(routeMenuAction('nonsense', recent, h)).toBe(false);
    expect(h.openRecent).toHaveBeenCalledOnce();
  });
});
