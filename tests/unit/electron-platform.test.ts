/** The renderer's desktop Platform over a fake preload bridge. */
import { describe, expect, it, vi } from 'vitest';
import type { BridgeResult, DesktopBridge, MenuCommand, OpenedFile } from '../../core/platform.ts';
import { MENU_COMMANDS } from '../../electron/channels.ts';
import { createElectronPlatform, isEditingText } from '../../renderer/platform/electron.ts';

const ok = <T,>(value: T): BridgeResult<T> => ({ ok: true, value });
const file = (name: string): OpenedFile => ({ name, path: `/g/${name}`, bytes: new Uint8Array([1]) });

function fakeBridge(pending: OpenedFile[] = []) {
  let commandListener: ((c: MenuCommand) => void) | null = null;
  let fileListener: ((f: OpenedFile) => void) | null = null;
  const bridge = {
    openFile: vi.fn(async () => ok<OpenedFile | null>(file('a.nngraph'))),
    saveFile: vi.fn(async (): Promise<BridgeResult<{ name: string; path?: string } | null>> => ok({ name: 'a.nngraph', path: '/g/a.nngraph' })),
    exportFile: vi.fn(async () => ok(null)),
    recentFiles: vi.fn(async () => ok([{ name: 'a.nngraph', path: '/g/a.nngraph' }])),
    openRecent: vi.fn(async (): Promise<BridgeResult<OpenedFile>> => ({ ok: false, error: 'Could not open /g/x.nngraph: permission denied' })),
    takePendingFiles: vi.fn(async () => ok(pending.splice(0))),
    setDocumentState: vi.fn(),
    editText: vi.fn(),
    setMenuState: vi.fn(),
    onCommand: vi.fn((h: (c: MenuCommand) => void) => {
      commandListener = h;
      return () => void (commandListener = null);
    }),
    onOpenFile: vi.fn((h: (f: OpenedFile) => void) => {
      fileListener = h;
      return () => void (fileListener = null);
    }),
  } satisfies DesktopBridge;
  return { bridge, command: (c: MenuCommand) => commandListener?.(c), opened: (f: OpenedFile) => fileListener?.(f), hasCommandListener: () => commandListener !== null };
}

const noAutosave = { write: () => {}, read: () => null, clear: () => {} };
const el = (tagName: string, extra: Record<string, unknown> = {}) => ({ tagName, isContentEditable: false, type: 'text', readOnly: false, disabled: false, ...extra }) as unknown as Element;
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('the desktop platform', () => {
  it('passes results through and turns errors into rejections with the main process\'s words', async () => {
    const { bridge } = fakeBridge();
    const p = createElectronPlatform(bridge, { autosave: noAutosave, setDocumentTitle: () => {} });
    expect(p.kind).toBe('electron');
    expect((await p.openFile())?.name).toBe('a.nngraph');
    expect(await p.recentFiles()).toEqual([{ name: 'a.nngraph', path: '/g/a.nngraph' }]);
    await expect(p.openRecent('/g/x.nngraph')).rejects.toThrow('Could not open /g/x.nngraph: permission denied');
    await p.saveFile({ suggestedName: 'a.nngraph', text: '{}' });
    expect(bridge.saveFile).toHaveBeenLastCalledWith({ suggestedName: 'a.nngraph', text: '{}' });
    await p.saveFile({ suggestedName: 'a.nngraph', text: '{}', path: '/g/a.nngraph' });
    expect(bridge.saveFile).toHaveBeenLastCalledWith({ suggestedName: 'a.nngraph', text: '{}', path: '/g/a.nngraph' });
  });

  it('reports the title and unsaved changes to the main process', () => {
    const { bridge } = fakeBridge();
    const titles: string[] = [];
    const p = createElectronPlatform(bridge, { autosave: noAutosave, setDocumentTitle: (t) => titles.push(t) });
    p.setTitle('model.nngraph', true);
    p.setTitle('model.nngraph', false);
    expect(titles).toEqual(['● model.nngraph — Gradflow', 'model.nngraph — Gradflow']);
    expect(bridge.setDocumentState.mock.calls).toEqual([[{ title: 'model.nngraph', dirty: true }], [{ title: 'model.nngraph', dirty: false }]]);
  });

  it('sends edit commands to a focused text field, and everything else to the editor', () => {
    const { bridge, command } = fakeBridge();
    let focus: Element | null = el('INPUT');
    const p = createElectronPlatform(bridge, { autosave: noAutosave, activeElement: () => focus, setDocumentTitle: () => {} });
    const got: MenuCommand[] = [];
    p.onCommand((c) => got.push(c));
    command('paste');
    command('save');
    expect(bridge.editText.mock.calls).toEqual([['paste']]);
    expect(got).toEqual(['save']);
    focus = el('DIV');
    command('paste');
    expect(got).toEqual(['save', 'paste']);
  });

  it('tells the menu which commands can run, keeping the editing ones enabled while a text field has focus', () => {
    const { bridge } = fakeBridge();
    let focus: Element | null = el('DIV');
    let focusMoved = () => {};
    const p = createElectronPlatform(bridge, { autosave: noAutosave, activeElement: () => focus, setDocumentTitle: () => {}, onFocusChange: (l) => ((focusMoved = l), () => {}) });
    const states = Object.fromEntries(MENU_COMMANDS.map((c) => [c, !['copy', 'cut', 'redo', 'train.stop'].includes(c)])) as Record<MenuCommand, boolean>;
    p.setCommandStates!(states);
    expect(bridge.setMenuState).toHaveBeenLastCalledWith(states);
    focus = el('INPUT');
    focusMoved();
    expect(bridge.setMenuState).toHaveBeenLastCalledWith({ ...states, copy: true, cut: true, redo: true });
    // Only changes are sent: the same focus again sends nothing.
    focusMoved();
    expect(bridge.setMenuState).toHaveBeenCalledTimes(2);
    focus = el('DIV');
    focusMoved();
    expect(bridge.setMenuState).toHaveBeenLastCalledWith(states);
  });

  it('one bridge subscription for many handlers; the last unsubscribe ends it', () => {
    const { bridge, command, hasCommandListener } = fakeBridge();
    const p = createElectronPlatform(bridge, { autosave: noAutosave, activeElement: () => null, setDocumentTitle: () => {} });
    const a = vi.fn();
    const b = vi.fn();
    const offA = p.onCommand(a);
    const offB = p.onCommand(b);
    expect(bridge.onCommand).toHaveBeenCalledOnce();
    command('undo');
    expect(a).toHaveBeenCalledWith('undo');
    expect(b).toHaveBeenCalledWith('undo');
    offA();
    expect(hasCommandListener()).toBe(true);
    offB();
    expect(hasCommandListener()).toBe(false);
  });

  it('delivers launch files once, even with React StrictMode subscribing twice', async () => {
    const { bridge, opened } = fakeBridge([file('launch.nngraph')]);
    const p = createElectronPlatform(bridge, { autosave: noAutosave, setDocumentTitle: () => {} });
    const first = vi.fn();
    const second = vi.fn();
    const off = p.onOpenFile(first);
    off(); // StrictMode's mount, unmount, mount
    p.onOpenFile(second);
    await flush();
    expect(bridge.takePendingFiles).toHaveBeenCalledOnce();
    expect(first).not.toHaveBeenCalled();
    expect(second.mock.calls.map(([f]) => f.name)).toEqual(['launch.nngraph']);
    opened(file('dropped.nngraph'));
    expect(second.mock.calls.map(([f]) => f.name)).toEqual(['launch.nngraph', 'dropped.nngraph']);
  });

  it('keeps files that arrive while nobody listens', async () => {
    const { bridge, opened } = fakeBridge();
    const p = createElectronPlatform(bridge, { autosave: noAutosave, setDocumentTitle: () => {} });
    p.onOpenFile(() => {})();
    opened(file('late.nngraph'));
    const h = vi.fn();
    p.onOpenFile(h);
    expect(h.mock.calls.map(([f]) => f.name)).toEqual(['late.nngraph']);
  });
});

describe('text fields', () => {
  it.each([
    [el('INPUT'), true],
    [el('INPUT', { type: 'number' }), true],
    [el('INPUT', { type: 'checkbox' }), false],
    [el('INPUT', { readOnly: true }), false],
    [el('INPUT', { disabled: true }), false],
    [el('TEXTAREA'), true],
    [el('DIV', { isContentEditable: true }), true],
    [el('SELECT'), false],
    [el('BUTTON'), false],
    [null, false],
  ])('%o edits text: %s', (e, expected) => {
    expect(isEditingText(e)).toBe(expected);
  });
});
