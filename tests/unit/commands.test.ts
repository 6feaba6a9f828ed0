import { describe, expect, it } from 'vitest';
import { COMMANDS, PAGE_SHORTCUT_COMMANDS, TEXT_EDIT_COMMANDS, commandEnablement, commandForKey, menuEnablement, shortcutText, type CommandState, type KeyStroke } from '../../core/commands.ts';
import { MENU_COMMANDS } from '../../electron/channels.ts';

const key = (k: string, mods: Partial<Omit<KeyStroke, 'key'>> = {}): KeyStroke => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('the command table', () => {
  it('has an entry for every command the renderer accepts, with a label', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual([...MENU_COMMANDS].sort());
    for (const [id, c] of Object.entries(COMMANDS)) expect(c.label, id).not.toBe('');
  });

  it.each([
    [key('z', { ctrlKey: true }), 'undo'],
    [key('z', { metaKey: true }), 'undo'],
    [key('Z', { ctrlKey: true, shiftKey: true }), 'redo'],
    [key('y', { ctrlKey: true }), 'redo'],
    [key('s', { ctrlKey: true }), 'save'],
    [key('S', { ctrlKey: true, shiftKey: true }), 'saveAs'],
    [key('+', { ctrlKey: true, shiftKey: true }), 'zoomIn'],
    [key('=', { ctrlKey: true }), 'zoomIn'],
    [key('Delete'), 'delete'],
    [key('Backspace'), 'delete'],
    [key('f'), 'fitView'],
  ] as const)('%o runs %s', (stroke, command) => {
    expect(commandForKey(stroke)).toBe(command);
  });

  it.each([
    ['a plain letter that is no shortcut', key('z')],
    ['Shift+F (only F fits the view)', key('F', { shiftKey: true })],
    ['Alt combinations (left to the system)', key('z', { ctrlKey: true, altKey: true })],
    ['Ctrl+Shift+N (not New)', key('N', { ctrlKey: true, shiftKey: true })],
    ['a function key (the desktop menu registers those)', key('F5')],
  ])('ignores %s', (_what, stroke) => {
    expect(commandForKey(stroke)).toBeNull();
  });

  it('shows shortcuts the way each platform writes them', () => {
    expect(shortcutText('redo', false)).toBe('Ctrl+Shift+Z');
    expect(shortcutText('redo', true)).toBe('⌘⇧Z');
    expect(shortcutText('delete', false)).toBe('Del');
    expect(shortcutText('tidyUp', false)).toBeUndefined();
  });

  it('knows which commands the page takes from the keyboard', () => {
    expect([...PAGE_SHORTCUT_COMMANDS].sort()).toEqual(['copy', 'cut', 'delete', 'duplicate', 'fitView', 'new', 'open', 'paste', 'redo', 'save', 'saveAs', 'selectAll', 'undo', 'zoomIn', 'zoomOut']);
  });
});

describe('when commands can run', () => {
  const idle: CommandState = { canUndo: true, canRedo: false, hasSelection: false, hasNodes: true, canTrain: true, run: 'idle' };

  it('follows the history, the selection and the graph', () => {
    expect(commandEnablement(idle)).toMatchObject({ undo: true, redo: false, copy: false, cut: false, delete: false, duplicate: false, paste: true, selectAll: true, fitView: true, 'train.start': true, 'train.pause': false, 'train.step': false, 'train.stop': false });
    expect(commandEnablement({ ...idle, hasSelection: true })).toMatchObject({ copy: true, cut: true, delete: true, duplicate: true });
    expect(commandEnablement({ ...idle, hasNodes: false, canTrain: false })).toMatchObject({ selectAll: false, tidyUp: false, fitView: false, 'train.start': false });
  });

  it.each([
    ['starting', { 'train.start': false, 'train.pause': false, 'train.step': false, 'train.stop': true }],
    ['running', { 'train.start': false, 'train.pause': true, 'train.step': false, 'train.stop': true }],
    ['paused', { 'train.start': true, 'train.pause': false, 'train.step': true, 'train.stop': true }],
  ] as const)('a %s run holds the graph: no undo, cut, delete or paste; the Train menu follows it', (run, train) => {
    const e = commandEnablement({ ...idle, canRedo: true, hasSelection: true, run });
    expect(e).toMatchObject({ undo: false, redo: false, cut: false, delete: false, duplicate: false, paste: false, copy: true, ...train });
  });

  it('the desktop menu keeps the editing commands enabled while a text field has focus, and only those', () => {
    const off = Object.fromEntries(Object.keys(COMMANDS).map((c) => [c, false]));
    const inField = menuEnablement(off, true);
    expect(Object.keys(inField).filter((c) => inField[c as keyof typeof inField]).sort()).toEqual([...TEXT_EDIT_COMMANDS].sort());
    expect(menuEnablement(off, false)).toEqual(off);
  });
});
