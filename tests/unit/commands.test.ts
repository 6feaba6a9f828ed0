import { describe, expect, it } from 'vitest';
import { COMMANDS, PAGE_SHORTCUT_COMMANDS, commandForKey, shortcutText, type KeyStroke } from '../../core/commands.ts';
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
