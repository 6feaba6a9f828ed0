/**
 * The command table: every command's label, tooltip and keyboard shortcuts, in one place.
 * The page's shortcuts, the toolbar, the context menus and the desktop app's native menus
 * all read it (as VS Code's command registry does), so a label or a key is written once.
 * Pure data and pure functions: the renderer adds what a command does; when a command is
 * enabled is decided here (commandEnablement), so the toolbar and the native menu agree.
 */
import type { MenuCommand, TextEditCommand } from './platform.ts';

/** What the table knows about one command. */
export interface CommandInfo {
  /** The label in menus ("Save As…"). */
  label: string;
  /** A shorter label for toolbar buttons, where it differs ("Save as"). */
  button?: string;
  /** What it does, for tooltips. */
  title?: string;
  /**
   * Keys the page handles itself, e.g. "Mod+Shift+Z" ("Mod" is Ctrl on Linux and Windows,
   * Cmd on macOS). Letters must match Shift exactly; for other keys Shift is ignored, because
   * keyboards differ in which of them need it ("+" is Shift+= on many layouts).
   */
  keys?: readonly string[];
}

/** Every command the renderer accepts. A `Record` so that a new MenuCommand cannot be left out. */
export const COMMANDS: Readonly<Record<MenuCommand, CommandInfo>> = {
  new: { label: 'New', title: 'Start a new, empty graph', keys: ['Mod+N'] },
  open: { label: 'Open…', button: 'Open', title: 'Open a graph file (.nngraph)', keys: ['Mod+O'] },
  save: { label: 'Save', title: 'Save the graph', keys: ['Mod+S'] },
  saveAs: { label: 'Save As…', button: 'Save as', title: 'Save the graph under another name', keys: ['Mod+Shift+S'] },
  export: { label: 'Export…', button: 'Export runs', title: 'Export the curves of every run as CSV' },
  model: { label: 'Export or Import Model…', button: 'Model…', title: 'Export the model (ONNX, PyTorch, TensorFlow.js), import an ONNX or TensorFlow.js model, or load trained weights' },
  close: { label: 'Close' },
  undo: { label: 'Undo', title: 'Undo the last change to the graph', keys: ['Mod+Z'] },
  redo: { label: 'Redo', title: 'Redo the change you undid', keys: ['Mod+Shift+Z', 'Mod+Y'] },
  cut: { label: 'Cut', keys: ['Mod+X'] },
  copy: { label: 'Copy', keys: ['Mod+C'] },
  paste: { label: 'Paste', keys: ['Mod+V'] },
  delete: { label: 'Delete', keys: ['Delete', 'Backspace'] },
  selectAll: { label: 'Select All', keys: ['Mod+A'] },
  duplicate: { label: 'Duplicate', keys: ['Mod+D'] },
  fitView: { label: 'Fit to Window', button: 'Fit', title: 'Show the whole graph', keys: ['F'] },
  zoomIn: { label: 'Zoom In', keys: ['Mod+=', 'Mod++'] },
  zoomOut: { label: 'Zoom Out', keys: ['Mod+-'] },
  tidyUp: { label: 'Tidy Up', button: 'Tidy up', title: 'Arrange the graph left to right' },
  toggleTheme: { label: 'Toggle Light/Dark Theme' },
  examples: { label: 'Examples…', button: 'Examples', title: 'Open one of the example graphs' },
  'train.start': { label: 'Start or Resume', button: 'Train', title: 'Train the network (continues from trained weights, if any)' },
  'train.pause': { label: 'Pause' },
  'train.step': { label: 'Step', title: 'One batch' },
  'train.stop': { label: 'Stop' },
  'help.fileFormat': { label: 'The .nngraph File Format' },
  'help.about': { label: 'About Gradflow' },
};

/** The parts of a keydown event the table matches. */
export interface KeyStroke {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

interface Binding {
  key: string;
  mod: boolean;
  shift: boolean;
}

function parseBinding(spec: string): Binding {
  // "Mod++" ends in the key "+": split off the modifiers before the last "+".
  const m = /^((?:(?:Mod|Shift)\+)*)(.+)$/.exec(spec);
  if (!m) throw new Error(`Bad key binding "${spec}"`);
  const mods = m[1]!.split('+').filter(Boolean);
  return { key: m[2]!.length === 1 ? m[2]!.toLowerCase() : m[2]!, mod: mods.includes('Mod'), shift: mods.includes('Shift') };
}

const BINDINGS: readonly { command: MenuCommand; binding: Binding }[] = (Object.entries(COMMANDS) as [MenuCommand, CommandInfo][]).flatMap(([command, info]) =>
  (info.keys ?? []).map((k) => ({ command, binding: parseBinding(k) })),
);

/** The command a keystroke stands for, or null (Alt combinations are left to the system). */
export function commandForKey(e: KeyStroke): MenuCommand | null {
  if (e.altKey) return null;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const letter = /^[a-z]$/.test(key);
  for (const { command, binding } of BINDINGS) {
    if (binding.key !== key || binding.mod !== mod) continue;
    if (letter && binding.shift !== e.shiftKey) continue;
    return command;
  }
  return null;
}

/** Commands the page handles from the keyboard itself (the desktop menu must not register them too). */
export const PAGE_SHORTCUT_COMMANDS: ReadonlySet<MenuCommand> = new Set(BINDINGS.map((b) => b.command));

/** The first shortcut of a command as people read it on this platform ("Ctrl+Shift+Z", "⌘⇧Z"), or undefined. */
export function shortcutText(command: MenuCommand, mac: boolean): string | undefined {
  const spec = COMMANDS[command].keys?.[0];
  if (!spec) return undefined;
  const b = parseBinding(spec);
  const key = b.key.length === 1 ? b.key.toUpperCase() : b.key === 'Delete' ? 'Del' : b.key;
  if (mac) return `${b.mod ? '⌘' : ''}${b.shift ? '⇧' : ''}${key}`;
  return [...(b.mod ? ['Ctrl'] : []), ...(b.shift ? ['Shift'] : []), key].join('+');
}

/** Editing commands that act on a focused text field instead of the graph (the desktop menu sends them there). */
export const TEXT_EDIT_COMMANDS = ['undo', 'redo', 'cut', 'copy', 'paste', 'delete', 'selectAll'] as const satisfies readonly TextEditCommand[];

const TEXT_EDIT: ReadonlySet<string> = new Set(TEXT_EDIT_COMMANDS);

/** Whether a command is one a focused text field understands (Undo, Copy, Select All…). */
export function isTextEditCommand(value: unknown): value is TextEditCommand {
  return typeof value === 'string' && TEXT_EDIT.has(value);
}

/** What the commands' enabled states depend on: the editor's history, selection and graph, and the training run. */
export interface CommandState {
  canUndo: boolean;
  canRedo: boolean;
  hasSelection: boolean;
  hasNodes: boolean;
  /** The graph analyses as trainable. */
  canTrain: boolean;
  /** The run: none live ('idle', also after it ended), starting, running or paused. */
  run: 'idle' | 'starting' | 'running' | 'paused';
}

/**
 * Whether each command can do something now: nothing to redo, nothing selected, or a live
 * run holding the graph disable it. Commands not named here are always enabled. The
 * toolbar, the context menus and the desktop menu all show these states.
 */
export function commandEnablement(s: CommandState): Partial<Record<MenuCommand, boolean>> {
  const live = s.run !== 'idle';
  return {
    undo: s.canUndo && !live,
    redo: s.canRedo && !live,
    cut: s.hasSelection && !live,
    copy: s.hasSelection,
    delete: s.hasSelection && !live,
    duplicate: s.hasSelection && !live,
    paste: !live,
    selectAll: s.hasNodes,
    tidyUp: s.hasNodes,
    fitView: s.hasNodes,
    'train.start': s.run === 'paused' || (!live && s.canTrain),
    'train.pause': s.run === 'running',
    'train.step': s.run === 'paused',
    'train.stop': live,
  };
}

/**
 * The enabled states the desktop menu shows: the registry's, except that while a text field
 * has focus the editing commands stay enabled, because the menu then sends them to the field
 * (Copy copies the selected text even when no node is selected).
 */
export function menuEnablement(enabled: Partial<Record<MenuCommand, boolean>>, editingText: boolean): Partial<Record<MenuCommand, boolean>> {
  if (!editingText) return { ...enabled };
  const out = { ...enabled };
  for (const c of TEXT_EDIT_COMMANDS) out[c] = true;
  return out;
}
