/**
 * The Electron main process entry: it only adapts Electron to the small interfaces in this
 * folder and wires the app's lifecycle. What the app does lives in desktop.ts (window, files,
 * menus), ipc.ts (the bridge), security.ts and protocol.ts, all tested without Electron.
 *
 * Built by scripts/build-electron.mjs into dist/electron/main.cjs (CommonJS, so every
 * listener below is in place before Electron emits its first event).
 */
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, screen, session, shell, type MenuItemConstructorOptions } from 'electron';
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { filesFromArgv } from './args.ts';
import { Desktop, type AppWindow, type DialogApi, type ElectronApis, type WindowHooks } from './desktop.ts';
import { registerIpc } from './ipc.ts';
import { jsonFileStore } from './json-store.ts';
import type { MenuItemSpec } from './menu.ts';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, serveAppRequest } from './protocol.ts';
import { RecentFiles } from './recent.ts';
import { chromiumSwitches, hardenWebContents, isPermissionAllowed, type SecureWebPreferences } from './security.ts';
import { MIN_SIZE, type WindowState } from './window-state.ts';

const log = (message: string) => console.warn(`[gradflow] ${message}`);

// dist/electron/main.cjs → dist/electron (preload, icon) and dist/renderer (the page).
const here = __dirname;
const rendererRoot = nodePath.join(here, '..', 'renderer');
const preloadPath = nodePath.join(here, 'preload.cjs');
const iconPath = nodePath.join(here, 'icon.png');
const isDev = !app.isPackaged;

app.setName('Gradflow');
// Tests and side-by-side installs keep their settings apart (GRADFLOW_USER_DATA_DIR=/tmp/x).
if (process.env.GRADFLOW_USER_DATA_DIR) app.setPath('userData', nodePath.resolve(process.env.GRADFLOW_USER_DATA_DIR));

for (const [name, value] of chromiumSwitches(process.platform, process.env, app.commandLine.getSwitchValue('enable-features'))) {
  app.commandLine.appendSwitch(name, value);
}
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

// A second launch hands its files to this instance and exits.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  main();
}

function main(): void {
  const windows = new Map<number, BrowserWindow>();
  const userData = app.getPath('userData');

  // Dialogs are looked up on `dialog` at call time (not destructured) so that the end-to-end
  // test can replace them from the main process.
  const dialogApi: DialogApi = {
    showOpenDialog: (w, o) => {
      const opts = { ...o, properties: ['openFile' as const] };
      const bw = w ? windows.get(w.webContentsId) : undefined;
      return bw ? dialog.showOpenDialog(bw, opts) : dialog.showOpenDialog(opts);
    },
    showSaveDialog: (w, o) => {
      const opts = { ...o, properties: ['showOverwriteConfirmation' as const, 'createDirectory' as const] };
      const bw = w ? windows.get(w.webContentsId) : undefined;
      return bw ? dialog.showSaveDialog(bw, opts) : dialog.showSaveDialog(opts);
    },
    showMessageBox: (w, o) => {
      const opts = { ...o, noLink: true };
      const bw = w ? windows.get(w.webContentsId) : undefined;
      return bw ? dialog.showMessageBox(bw, opts) : dialog.showMessageBox(opts);
    },
  };

  const apis: ElectronApis = {
    dialog: dialogApi,
    createWindow: (placement, hooks) => createWindow(placement, hooks, windows),
    workAreas: () => {
      const primary = screen.getPrimaryDisplay();
      return [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)].map((d) => d.workArea);
    },
    setMenu: (template, onClick) => Menu.setApplicationMenu(Menu.buildFromTemplate(toElectronMenu(template, onClick))),
    setMenuEnabled: (states) => {
      const menu = Menu.getApplicationMenu();
      for (const [id, enabled] of Object.entries(states)) {
        const item = menu?.getMenuItemById(id);
        if (item) item.enabled = enabled;
      }
    },
    quit: () => app.quit(),
  };

  const desktop = new Desktop(
    apis,
    {
      platform: process.platform,
      appName: app.getName(),
      appVersion: app.getVersion(),
      isDev,
      versions: { electron: process.versions.electron, chrome: process.versions.chrome, node: process.versions.node, v8: process.versions.v8 },
      documentsDir: safePath(() => app.getPath('documents')) ?? app.getPath('home'),
      log,
    },
    new RecentFiles({
      store: jsonFileStore(nodePath.join(userData, 'recent-files.json'), { log }),
      platform: process.platform,
      // The OS lists (macOS Dock and Open Recent, Windows jump list); Linux has none.
      os: process.platform === 'linux' ? undefined : { add: (p) => app.addRecentDocument(p), clear: () => app.clearRecentDocuments() },
      log,
    }),
    jsonFileStore(nodePath.join(userData, 'window-state.json'), { log }),
  );

  registerIpc(ipcMain, desktop, { appOrigin: APP_ORIGIN, isAppWindow: (id) => desktop.isAppWindow(id) }, log);

  // macOS: double-clicked files and files dropped on the Dock icon; may come before ready.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    void desktop.openExternal([path]);
  });
  app.on('second-instance', (_event, argv, workingDirectory) => {
    void desktop.secondInstance(filesFromArgv(argv, { defaultApp: !!process.defaultApp, cwd: workingDirectory }));
  });
  app.on('before-quit', () => desktop.quitRequested());
  // Every webContents, including any created behind our back, gets the same hardening.
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, { appOrigin: APP_ORIGIN, openExternal: (url) => void shell.openExternal(url), log });
  });
  app.on('window-all-closed', () => {
    // desktop.ts quits (or, on macOS, stays in the Dock) when its window closes.
  });
  app.on('activate', () => {
    if (!desktop.hasWindow) void desktop.openWindow();
  });

  void app.whenReady().then(async () => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, permission, callback, details) => callback(isPermissionAllowed(permission, details.requestingUrl, APP_ORIGIN)));
    ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => isPermissionAllowed(permission, requestingOrigin, APP_ORIGIN));
    protocol.handle(APP_SCHEME, async (request) => {
      const r = await serveAppRequest({ url: request.url, method: request.method }, rendererRoot, (f) => readFile(f));
      return new Response(r.body as BodyInit | null, { status: r.status, headers: r.headers });
    });
    await desktop.start(filesFromArgv(process.argv, { defaultApp: !!process.defaultApp, cwd: process.cwd() }));
  }).catch((e: unknown) => {
    // Without this an error here would leave a process with no window and no word.
    const message = e instanceof Error ? e.message : String(e);
    log(`Could not start: ${message}`);
    dialog.showErrorBox('Gradflow could not start', message);
    app.exit(1);
  });
}

function createWindow(placement: WindowState, hooks: WindowHooks, windows: Map<number, BrowserWindow>): AppWindow {
  const win = new BrowserWindow({
    ...placement.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: 'Gradflow',
    backgroundColor: '#1e1f24',
    ...(process.platform === 'linux' ? { icon: iconPath } : {}),
    // Written out here, not built by a function, so that static audits (electronegativity in
    // CI) can read them; `satisfies` makes the compiler hold every value to security.ts's.
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: isDev,
    } satisfies SecureWebPreferences,
  });
  const contents = win.webContents;
  const id = contents.id;
  windows.set(id, win);
  if (placement.maximized) win.maximize();
  if (placement.fullScreen) win.setFullScreen(true);
  win.once('ready-to-show', () => win.show());
  win.on('close', (event) => {
    if (!hooks.onClose()) event.preventDefault();
  });
  win.on('closed', () => {
    windows.delete(id);
    hooks.onClosed();
  });
  contents.on('will-prevent-unload', (event) => {
    // preventDefault here means "ignore the page's beforeunload and unload anyway".
    if (hooks.onWillPreventUnload()) event.preventDefault();
  });
  contents.on('did-start-loading', () => hooks.onPageLoad());
  contents.on('render-process-gone', (_event, details) => log(`The window's renderer stopped (${details.reason})`));
  void win.loadURL(APP_ENTRY_URL);

  return {
    webContentsId: id,
    send: (channel, payload) => {
      if (!contents.isDestroyed()) contents.send(channel, payload);
    },
    focus: () => {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
    },
    close: () => win.close(),
    setDocumentEdited: (dirty) => {
      if (process.platform === 'darwin') win.setDocumentEdited(dirty);
    },
    // Each text command is the webContents method of the same name (the IPC layer has checked
    // that it is one of them).
    editText: (command) => contents[command](),
    toggleFullScreen: () => win.setFullScreen(!win.isFullScreen()),
    toggleDevTools: () => {
      if (isDev) contents.toggleDevTools();
    },
    state: () => ({ bounds: win.getNormalBounds(), maximized: win.isMaximized(), fullScreen: win.isFullScreen() }),
  };
}

/** Our plain-data menu as Electron's template: every item with an id calls the one router. */
function toElectronMenu(items: readonly MenuItemSpec[], onClick: (id: string) => void): MenuItemConstructorOptions[] {
  return items.map((it): MenuItemConstructorOptions => {
    const { submenu, id, ...rest } = it;
    return {
      ...rest,
      ...(id ? { id, click: () => onClick(id) } : {}),
      ...(submenu ? { submenu: toElectronMenu(submenu, onClick) } : {}),
    };
  });
}

function safePath(get: () => string): string | null {
  try {
    return get();
  } catch {
    return null;
  }
}
