import { describe, expect, it, vi } from 'vitest';
import type { BridgeResult } from '../../core/platform.ts';
import {
  InvalidArgument,
  InvokeChannel,
  MENU_COMMANDS,
  SendChannel,
  checkDocumentState,
  checkExportRequest,
  checkSaveRequest,
  isMenuCommand,
  sanitizeFileName,
} from '../../electron/channels.ts';
import { registerIpc, senderProblem, type DesktopActions, type IpcEventLike, type IpcMainLike } from '../../electron/ipc.ts';

const APP = 'app://gradflow';
const WINDOW = 7;

function fakeIpc() {
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>();
  const listeners = new Map<string, (event: IpcEventLike, ...args: unknown[]) => void>();
  const ipc: IpcMainLike = {
    handle: (c, l) => void handlers.set(c, l),
    on: (c, l) => void listeners.set(c, l),
  };
  return { ipc, handlers, listeners };
}

function fakeActions() {
  const a = {
    openFile: vi.fn(async () => ({ name: 'a.nngraph', path: '/a.nngraph', bytes: new Uint8Array([1]) })),
    saveFile: vi.fn(async () => ({ name: 'a.nngraph', path: '/a.nngraph' })),
    exportFile: vi.fn(async () => ({ name: 'a.py', path: '/a.py' })),
    recentFiles: vi.fn(() => []),
    openRecent: vi.fn(async () => ({ name: 'a.nngraph', path: '/a.nngraph', bytes: new Uint8Array() })),
    takePendingFiles: vi.fn(() => []),
    openDropped: vi.fn(async () => {}),
    setDocumentState: vi.fn(),
    editText: vi.fn(),
    setMenuState: vi.fn(),
  } satisfies DesktopActions;
  return a;
}

const ours: IpcEventLike = { sender: { id: WINDOW }, senderFrame: { url: `${APP}/index.html`, parent: null } };

function setup() {
  const { ipc, handlers, listeners } = fakeIpc();
  const actions = fakeActions();
  const logs: string[] = [];
  registerIpc(ipc, actions, { appOrigin: APP, isAppWindow: (id) => id === WINDOW }, (m) => logs.push(m));
  const call = (event: IpcEventLike, channel: string, ...args: unknown[]) => handlers.get(channel)!(event, ...args) as Promise<BridgeResult<unknown>>;
  const send = (event: IpcEventLike, channel: string, ...args: unknown[]) => listeners.get(channel)!(event, ...args);
  return { actions, logs, call, send, handlers, listeners };
}

describe('IPC: every channel is registered', () => {
  it('handles each invoke channel and listens on each send channel', () => {
    const { handlers, listeners } = setup();
    expect([...handlers.keys()].sort()).toEqual(Object.values(InvokeChannel).sort());
    expect([...listeners.keys()].sort()).toEqual(Object.values(SendChannel).sort());
  });
});

describe('IPC: the sender is checked', () => {
  const hostile: [string, IpcEventLike][] = [
    ['a page on another origin', { sender: { id: WINDOW }, senderFrame: { url: 'https://evil.example/', parent: null } }],
    ['a file:// page', { sender: { id: WINDOW }, senderFrame: { url: 'file:///etc/passwd', parent: null } }],
    ['another app:// host', { sender: { id: WINDOW }, senderFrame: { url: 'app://evil/index.html', parent: null } }],
    ['a subframe of our page', { sender: { id: WINDOW }, senderFrame: { url: `${APP}/index.html`, parent: {} } }],
    ['a webContents that is not our window', { sender: { id: 99 }, senderFrame: { url: `${APP}/index.html`, parent: null } }],
    ['a frame that is gone', { sender: { id: WINDOW }, senderFrame: null }],
    ['a frame without a URL', { sender: { id: WINDOW }, senderFrame: { url: 'about:blank', parent: null } }],
  ];

  it.each(hostile)('refuses %s, and does nothing', async (_what, event) => {
    const { actions, logs, call, send } = setup();
    const r = await call(event, InvokeChannel.saveFile, { suggestedName: 'x.nngraph', text: '{}', path: '/home/ada/.bashrc' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^refused: /);
    const open = await call(event, InvokeChannel.openFile);
    expect(open.ok).toBe(false);
    send(event, SendChannel.documentState, { title: 'x', dirty: false });
    send(event, SendChannel.editText, 'paste');
    for (const fn of Object.values(actions)) expect(fn).not.toHaveBeenCalled();
    expect(logs.length).toBe(4);
  });

  it('accepts our own page', async () => {
    const { actions, call } = setup();
    const r = await call(ours, InvokeChannel.openFile);
    expect(r).toEqual({ ok: true, value: { name: 'a.nngraph', path: '/a.nngraph', bytes: new Uint8Array([1]) } });
    expect(actions.openFile).toHaveBeenCalledWith(WINDOW);
  });

  it('names the problem', () => {
    const policy = { appOrigin: APP, isAppWindow: (id: number) => id === WINDOW };
    expect(senderProblem({ sender: { id: WINDOW }, senderFrame: { url: 'https://evil.example/x', parent: null } }, policy)).toBe(
      'the sending page is https://evil.example, not app://gradflow',
    );
    expect(senderProblem(ours, policy)).toBeNull();
  });
});

describe('IPC: every argument is checked', () => {
  const badCalls: [string, string, unknown[]][] = [
    ['openFile with arguments', InvokeChannel.openFile, ['/etc/passwd']],
    ['saveFile without arguments', InvokeChannel.saveFile, []],
    ['saveFile with a string', InvokeChannel.saveFile, ['/etc/passwd']],
    ['saveFile with text that is not text', InvokeChannel.saveFile, [{ suggestedName: 'a', text: 42 }]],
    ['saveFile with an unknown field', InvokeChannel.saveFile, [{ suggestedName: 'a', text: '{}', mode: 0o777 }]],
    ['saveFile with a path that is not text', InvokeChannel.saveFile, [{ suggestedName: 'a', text: '{}', path: ['/etc/passwd'] }]],
    ['saveFile with a NUL in the path', InvokeChannel.saveFile, [{ suggestedName: 'a', text: '{}', path: '/tmp/a\0.nngraph' }]],
    ['saveFile with an object that is not plain', InvokeChannel.saveFile, [new (class X { suggestedName = 'a'; text = '' })()]],
    ['saveFile with two arguments', InvokeChannel.saveFile, [{ suggestedName: 'a', text: '{}' }, 'extra']],
    ['openRecent with a number', InvokeChannel.openRecent, [3]],
    ['openRecent with an empty path', InvokeChannel.openRecent, ['  ']],
    ['openDropped with no paths', InvokeChannel.openDropped, [[]]],
    ['openDropped with something else', InvokeChannel.openDropped, [{ 0: '/etc/passwd' }]],
    ['exportFile without filters', InvokeChannel.exportFile, [{ suggestedName: 'a.py', data: '', filters: [] }]],
    ['exportFile with a strange extension', InvokeChannel.exportFile, [{ suggestedName: 'a', data: '', filters: [{ name: 'x', extensions: ['../sh'] }] }]],
    ['recentFiles with arguments', InvokeChannel.recentFiles, [1]],
    ['takePendingFiles with arguments', InvokeChannel.takePendingFiles, [true]],
  ];

  it.each(badCalls)('refuses %s', async (_what, channel, args) => {
    const { actions, logs, call } = setup();
    const r = await call(ours, channel, ...args);
    expect(r.ok).toBe(false);
    for (const fn of Object.values(actions)) expect(fn).not.toHaveBeenCalled();
    expect(logs).toHaveLength(1);
  });

  it.each([
    ['documentState with a string', SendChannel.documentState, ['dirty']],
    ['documentState with dirty not a boolean', SendChannel.documentState, [{ title: 'x', dirty: 'yes' }]],
    ['documentState with a huge title', SendChannel.documentState, [{ title: 'x'.repeat(5000), dirty: true }]],
    ['editText with an unknown command', SendChannel.editText, ['executeJavaScript']],
  ])('ignores %s', (_what, channel, args) => {
    const { actions, logs, send } = setup();
    send(ours, channel, ...args);
    expect(actions.setDocumentState).not.toHaveBeenCalled();
    expect(actions.editText).not.toHaveBeenCalled();
    expect(logs).toHaveLength(1);
  });

  it('passes valid arguments through, cleaned', async () => {
    const { actions, call, send } = setup();
    await call(ours, InvokeChannel.saveFile, { suggestedName: '../../evil/mo:del.nngraph', text: '{}' });
    expect(actions.saveFile).toHaveBeenCalledWith(WINDOW, { suggestedName: 'mo_del.nngraph', text: '{}' });
    await call(ours, InvokeChannel.saveFile, { suggestedName: 'a.nngraph', text: '{}', path: '/home/ada/a.nngraph' });
    expect(actions.saveFile).toHaveBeenLastCalledWith(WINDOW, { suggestedName: 'a.nngraph', text: '{}', path: '/home/ada/a.nngraph' });
    send(ours, SendChannel.documentState, { title: 'model.nngraph', dirty: true });
    expect(actions.setDocumentState).toHaveBeenCalledWith(WINDOW, { title: 'model.nngraph', dirty: true });
    send(ours, SendChannel.editText, 'paste');
    expect(actions.editText).toHaveBeenCalledWith(WINDOW, 'paste');
  });

  it('passes the menu state on, and ignores one that names something else or is not true/false', () => {
    const { actions, logs, send } = setup();
    send(ours, SendChannel.menuState, { undo: false, 'train.stop': true });
    expect(actions.setMenuState).toHaveBeenCalledWith(WINDOW, { undo: false, 'train.stop': true });
    for (const bad of [['undo'], { undo: 'no' }, { 'app.quit': false }, { __proto__: null, toString: false }, null]) send(ours, SendChannel.menuState, bad);
    expect(actions.setMenuState).toHaveBeenCalledTimes(1);
    expect(logs).toHaveLength(5);
    expect(logs.join('\n')).toMatch(/not a menu command: "app\.quit"/);
  });

  it('answers an action that fails with its message, not a stack', async () => {
    const { actions, call } = setup();
    actions.openRecent.mockRejectedValueOnce(new Error('Could not open /a.nngraph: permission denied'));
    expect(await call(ours, InvokeChannel.openRecent, '/a.nngraph')).toEqual({ ok: false, error: 'Could not open /a.nngraph: permission denied' });
  });
});

describe('channel validators', () => {
  it('suggested names lose folders and forbidden characters', () => {
    expect(sanitizeFileName('C:\\Users\\x\\model.nngraph')).toBe('model.nngraph');
    expect(sanitizeFileName('a<b>c?.nngraph')).toBe('a_b_c_.nngraph');
    expect(sanitizeFileName('...')).toBe('Untitled.nngraph');
    expect(sanitizeFileName('')).toBe('Untitled.nngraph');
    expect(() => sanitizeFileName(5)).toThrow(InvalidArgument);
  });

  it('save requests', () => {
    expect(checkSaveRequest({ suggestedName: 'a.nngraph', text: 'x', path: null })).toEqual({ suggestedName: 'a.nngraph', text: 'x' });
    expect(() => checkSaveRequest(null)).toThrow(/saveFile expects/);
    expect(() => checkSaveRequest([])).toThrow(/saveFile expects/);
    expect(() => checkSaveRequest({ suggestedName: 'a', text: 'x', extra: 1 })).toThrow(/unexpected field "extra"/);
    // An object with a prototype of its own (which could carry a `path` getter) is not data.
    expect(() => checkSaveRequest({ suggestedName: 'a', text: 'x', __proto__: { path: '/x' } })).toThrow(/saveFile expects/);
  });

  it('export requests take text or bytes', () => {
    const bytes = new Uint8Array([1, 2]);
    expect(checkExportRequest({ suggestedName: 'm.py', data: bytes, filters: [{ name: 'Python', extensions: ['py'] }] }).data).toBe(bytes);
    expect(() => checkExportRequest({ suggestedName: 'm.py', data: 5, filters: [{ name: 'Python', extensions: ['py'] }] })).toThrow(/text or bytes/);
  });

  it('document state', () => {
    expect(checkDocumentState({ title: 'a', dirty: false })).toEqual({ title: 'a', dirty: false });
    expect(() => checkDocumentState({ title: 'a' })).toThrow(/dirty must be/);
  });

  it('menu commands', () => {
    for (const c of MENU_COMMANDS) expect(isMenuCommand(c)).toBe(true);
    expect(isMenuCommand('toString')).toBe(false);
    expect(isMenuCommand('__proto__')).toBe(false);
    expect(isMenuCommand(1)).toBe(false);
  });
});
