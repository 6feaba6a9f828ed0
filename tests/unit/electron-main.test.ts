/**
 * The main process entry (electron/main.ts), bundled as the app ships it and run in Node
 * against a fake `electron` module: what it registers before the app is ready, the window it
 * opens, the protocol it serves, the IPC it answers, the hardening of every webContents, and
 * the close prompt. This is as close to the real app as a machine without Electron gets.
 */
import { build } from 'esbuild';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventChannel, InvokeChannel, SendChannel } from '../../electron/channels.ts';

type Listener = (...args: any[]) => any;

class FakeContents extends EventEmitter {
  static next = 1;
  id = FakeContents.next++;
  sent: [string, unknown][] = [];
  openHandler: ((d: { url: string }) => unknown) | null = null;
  mainFrame = { url: 'app://gradflow/index.html', parent: null };
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  isDestroyed() {
    return false;
  }
  setWindowOpenHandler(h: (d: { url: string }) => unknown) {
    this.openHandler = h;
  }
  toggleDevTools() {}
}

class FakeWindow extends EventEmitter {
  static all: FakeWindow[] = [];
  webContents = new FakeContents();
  loaded: string | null = null;
  destroyed = false;
  constructor(readonly options: Record<string, any>) {
    super();
    FakeWindow.all.push(this);
    fake.app.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string) {
    this.loaded = url;
    return Promise.resolve();
  }
  /** As Electron: 'close' can be prevented; otherwise the window goes and 'closed' follows. */
  close() {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.destroyed = true;
    this.emit('closed');
  }
  maximize() {}
  setFullScreen() {}
  isFullScreen() {
    return false;
  }
  isMaximized() {
    return false;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  show() {}
  focus() {}
  setDocumentEdited() {}
  getNormalBounds() {
    return { x: 1, y: 2, width: 1000, height: 700 };
  }
}

const calls: string[] = [];
const switches: [string, string?][] = [];
const handlers = new Map<string, Listener>();
const listeners = new Map<string, Listener>();
const messageBoxes: Record<string, any>[] = [];
let protocolHandler: ((req: Request) => Promise<Response>) | null = null;
let menuTemplate: any[] = [];
const flatMenu = (items: any[]): any[] => items.flatMap((i) => [i, ...(i.submenu ? flatMenu(i.submenu) : [])]);
let permissionHandler: Listener | null = null;
let userData = '';
let readyResolve: () => void = () => {};
const ready = new Promise<void>((r) => (readyResolve = r));

const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  commandLine: {
    appendSwitch: (name: string, value?: string) => void switches.push(value === undefined ? [name] : [name, value]),
    getSwitchValue: () => '',
  },
  setName: () => {},
  getName: () => 'Gradflow',
  getVersion: () => '0.1.0',
  setPath: () => {},
  getPath: (name: string) => (name === 'userData' ? userData : tmpdir()),
  requestSingleInstanceLock: () => (calls.push('requestSingleInstanceLock'), true),
  whenReady: () => ready,
  quit: () => calls.push('quit'),
  exit: () => calls.push('exit'),
  addRecentDocument: () => {},
  clearRecentDocuments: () => {},
});

const fake = {
  app,
  BrowserWindow: FakeWindow,
  Menu: {
    buildFromTemplate: (t: any[]) => t,
    setApplicationMenu: (m: any[]) => void (menuTemplate = m),
    getApplicationMenu: () => ({ getMenuItemById: (id: string) => flatMenu(menuTemplate).find((i) => i.id === id) ?? null }),
  },
  ipcMain: {
    handle: (c: string, l: Listener) => void handlers.set(c, l),
    on: (c: string, l: Listener) => void listeners.set(c, l),
  },
  protocol: {
    registerSchemesAsPrivileged: (s: unknown[]) => calls.push(`registerSchemesAsPrivileged ${JSON.stringify(s)}`),
    handle: (scheme: string, h: (req: Request) => Promise<Response>) => {
      calls.push(`protocol.handle ${scheme}`);
      protocolHandler = h;
    },
  },
  dialog: {
    showMessageBox: async (...args: any[]) => {
      messageBoxes.push(args.at(-1));
      return { response: 2 };
    },
    showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    showSaveDialog: async () => ({ canceled: true }),
    showErrorBox: (title: string, message: string) => calls.push(`showErrorBox ${title}: ${message}`),
  },
  screen: {
    getPrimaryDisplay: () => ({ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
    getAllDisplays: () => [{ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (h: Listener) => void (permissionHandler = h),
      setPermissionCheckHandler: () => {},
    },
  },
  shell: { openExternal: async (url: string) => void calls.push(`openExternal ${url}`) },
};

let dir: string;
let win: FakeWindow;
const ours = () => ({ sender: win.webContents, senderFrame: win.webContents.mainFrame });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradflow-main-'));
  userData = join(dir, 'user-data');
  await mkdir(userData, { recursive: true });
  // The shipped layout: dist/electron/main.cjs beside dist/renderer.
  await mkdir(join(dir, 'dist', 'renderer'), { recursive: true });
  await writeFile(join(dir, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Gradflow</title>');
  await build({
    entryPoints: [resolve(import.meta.dirname, '..', '..', 'electron', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['electron'],
    outfile: join(dir, 'dist', 'electron', 'main.cjs'),
    logLevel: 'silent',
  });
  await mkdir(join(dir, 'node_modules', 'electron'), { recursive: true });
  await writeFile(join(dir, 'node_modules', 'electron', 'index.js'), 'module.exports = globalThis.__fakeElectron;');
  (globalThis as { __fakeElectron?: unknown }).__fakeElectron = fake;
  const argv = process.argv;
  process.argv = [process.execPath, join(dir, 'launch-missing.nngraph')];
  createRequire(join(dir, 'x.js'))(join(dir, 'dist', 'electron', 'main.cjs'));
  calls.push('ready');
  readyResolve();
  for (let i = 0; i < 50 && FakeWindow.all.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  // main.ts reads the launch's files once ready.
  process.argv = argv;
  win = FakeWindow.all[0]!;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

describe('before the app is ready', () => {
  it('takes the single-instance lock, registers app:// as privileged, and passes ONE --enable-features', () => {
    const before = calls.slice(0, calls.indexOf('ready'));
    expect(before[0]).toMatch(/^registerSchemesAsPrivileged \[\{"scheme":"app","privileges":\{"standard":true,"secure":true/);
    expect(before).toContain('requestSingleInstanceLock');
    expect(switches.filter(([n]) => n === 'enable-features')).toHaveLength(process.platform === 'linux' ? 1 : 0);
  });

  it('listens for files from the OS and second launches from the start', () => {
    for (const event of ['open-file', 'second-instance', 'before-quit', 'web-contents-created', 'activate']) {
      expect(app.listenerCount(event), event).toBe(1);
    }
  });
});

describe('after the app is ready', () => {
  it('opens one secure window on app://gradflow', () => {
    expect(FakeWindow.all).toHaveLength(1);
    expect(win.loaded).toBe('app://gradflow/index.html');
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: join(dir, 'dist', 'electron', 'preload.cjs') });
    expect(win.options.show).toBe(false);
  });

  it('serves the built renderer with COOP/COEP and the CSP', async () => {
    expect(calls).toContain('protocol.handle app');
    const r = await protocolHandler!(new Request('app://gradflow/index.html'));
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>Gradflow</title>');
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await protocolHandler!(new Request('app://gradflow/../../etc/passwd'))).status).toBe(404);
  });

  it('denies permissions the app does not use', () => {
    const answers: boolean[] = [];
    permissionHandler!(win.webContents, 'media', (ok: boolean) => answers.push(ok), { requestingUrl: 'app://gradflow/index.html' });
    permissionHandler!(win.webContents, 'clipboard-read', (ok: boolean) => answers.push(ok), { requestingUrl: 'app://gradflow/index.html' });
    expect(answers).toEqual([false, true]);
  });

  it('hardens the window: no navigation, no new windows, https links to the browser', () => {
    let prevented = false;
    win.webContents.emit('will-navigate', { preventDefault: () => (prevented = true), url: 'https://example.com/' });
    expect(prevented).toBe(true);
    expect(win.webContents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(calls).toContain('openExternal https://example.com/');
    expect(calls.filter((c) => c.startsWith('openExternal'))).toHaveLength(1);
  });

  it('answers every channel, and refuses a page that is not ours', async () => {
    expect([...handlers.keys()].sort()).toEqual(Object.values(InvokeChannel).sort());
    expect([...listeners.keys()].sort()).toEqual(Object.values(SendChannel).sort());
    const hostile = { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } };
    expect(await handlers.get(InvokeChannel.recentFiles)!(hostile)).toMatchObject({ ok: false });
    expect(await handlers.get(InvokeChannel.recentFiles)!(ours())).toEqual({ ok: true, value: [] });
  });

  it('told the user that the file named on the command line does not exist', () => {
    expect(messageBoxes[0]).toMatchObject({ type: 'error', message: 'Could not open launch-missing.nngraph' });
  });

  it('builds the menu with one click handler per item with an id', () => {
    const flat = (items: any[]): any[] => items.flatMap((i) => [i, ...(i.submenu ? flat(i.submenu) : [])]);
    const items = flat(menuTemplate);
    expect(items.filter((i) => i.id).every((i) => typeof i.click === 'function')).toBe(true);
    items.find((i) => i.id === 'train.start').click();
    expect(win.webContents.sent.at(-1)).toEqual([EventChannel.command, 'train.start']);
  });

  it('greys out the menu items the page says cannot run, in the menu Electron shows', () => {
    const item = (id: string) => flatMenu(menuTemplate).find((i) => i.id === id);
    listeners.get(SendChannel.menuState)!(ours(), { redo: false, 'train.stop': false });
    expect(item('redo').enabled).toBe(false);
    expect(item('train.stop').enabled).toBe(false);
    expect(item('undo').enabled).not.toBe(false);
    listeners.get(SendChannel.menuState)!(ours(), { redo: true, 'train.stop': true });
    expect(item('redo').enabled).toBe(true);
  });

  it('asks before closing with unsaved changes (Cancel keeps the window)', async () => {
    listeners.get(SendChannel.documentState)!(ours(), { title: 'model.nngraph', dirty: true });
    win.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(win.destroyed).toBe(false);
    expect(messageBoxes.at(-1)).toMatchObject({ message: 'Do you want to save the changes you made to model.nngraph?' });
    listeners.get(SendChannel.documentState)!(ours(), { title: 'model.nngraph', dirty: false });
    win.close();
    expect(win.destroyed).toBe(true);
    expect(calls.at(-1)).toBe('quit');
    // The window's place is saved for the next launch.
    await expect.poll(() => readFile(join(userData, 'window-state.json'), 'utf8').then(JSON.parse, () => null)).toEqual({
      bounds: { x: 1, y: 2, width: 1000, height: 700 },
      maximized: false,
      fullScreen: false,
    });
  });
});
