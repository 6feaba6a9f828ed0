/**
 * The renderer's command registry: core/commands.ts's table (labels, tooltips, keys) joined
 * with what each command does and whether it can run now. The keyboard, the toolbar, the
 * context menus, the start panel and the desktop menu (through Platform.onCommand) all run
 * commands through it, so a command is defined once and its buttons agree on when it works.
 */
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { COMMANDS, commandEnablement, commandForKey, shortcutText, type CommandInfo, type KeyStroke } from '../core/commands.ts';
import type { MenuCommand } from '../core/platform.ts';
import { requiredContext } from './required-context.ts';
import { analysisOf } from './store/editor.ts';
import { useEditor, useEditorStore } from './store/context.tsx';
import { useRun } from './train/context.tsx';
import { isLiveStatus } from './train/run.ts';

/** A command as buttons and menus show it. */
export interface Command extends CommandInfo {
  id: MenuCommand;
  /** False when running it now would do nothing (nothing to redo, nothing selected, a run holds the graph). */
  enabled: boolean;
  /** The shortcut as shown on this platform, e.g. "Ctrl+Z". */
  shortcut: string | undefined;
  run(): void;
}

export type CommandHandlers = { [K in MenuCommand]?: () => void };

export interface CommandRegistry {
  get(id: MenuCommand): Command;
  /** Run a command by id (keyboard, desktop menu); one without a handler here does nothing. */
  run(id: MenuCommand): void;
  /** Whether each command can run now: what the desktop menu shows (Platform.setCommandStates). */
  states(): Record<MenuCommand, boolean>;
}

const MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** Whether each command can do something now, read from the stores it depends on. */
export function useCommandEnablement(): Partial<Record<MenuCommand, boolean>> {
  const store = useEditorStore();
  // Subscribed to the history itself: reading it inside an editor-store selector would only
  // update when the document changes, so the buttons lagged behind undo, redo and drags.
  const canUndo = useStore(store.temporal, (t) => t.pastStates.length > 0);
  const canRedo = useStore(store.temporal, (t) => t.futureStates.length > 0);
  const status = useRun((s) => s.status);
  const hasSelection = useEditor((s) => s.selectedNodes.length > 0);
  const hasNodes = useEditor((s) => s.doc.nodes.length > 0);
  const canTrain = useEditor((s) => analysisOf(s.doc).canTrain);
  const run = isLiveStatus(status) ? (status as 'starting' | 'running' | 'paused') : 'idle';
  return commandEnablement({ canUndo, canRedo, hasSelection, hasNodes, canTrain, run });
}

/** Build the registry from handlers; commands are enabled unless `enabled` says otherwise. */
export function useCommandRegistry(handlers: CommandHandlers, enabled: Partial<Record<MenuCommand, boolean>>): CommandRegistry {
  // Handlers close over fresh state on every render; the registry reads the latest through a
  // ref, so it changes (and its buttons re-render) only when an enabled state changes.
  const latest = useRef(handlers);
  latest.current = handlers;
  const key = COMMAND_IDS.map((id) => (enabled[id] === false ? 0 : 1)).join('');
  return useMemo(() => {
    const run = (id: MenuCommand) => latest.current[id]?.();
    const enabledNow = (id: MenuCommand) => !!latest.current[id] && key[commandIndex(id)] === '1';
    return {
      get: (id) => ({ ...COMMANDS[id], id, enabled: enabledNow(id), shortcut: shortcutText(id, MAC), run: () => run(id) }),
      run,
      states: () => Object.fromEntries(COMMAND_IDS.map((id) => [id, enabledNow(id)])) as Record<MenuCommand, boolean>,
    };
  }, [key]);
}

const COMMAND_IDS = Object.keys(COMMANDS) as MenuCommand[];
const commandIndex = (id: MenuCommand) => COMMAND_IDS.indexOf(id);

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

/** Keyboard shortcuts from the command table, except while typing in a field or a dialog is open. */
export function useShortcuts(registry: CommandRegistry): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || document.querySelector('.modal')) return;
      const command = commandForKey(e as KeyStroke);
      if (!command) return;
      e.preventDefault();
      // Run even when disabled: the command itself says why it cannot act (e.g. locked while training).
      registry.run(command);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [registry]);
}

const registryContext = requiredContext<CommandRegistry>('useCommands', 'CommandsProvider');

export function CommandsProvider({ registry, children }: { registry: CommandRegistry; children: ReactNode }) {
  return <registryContext.Provider value={registry}>{children}</registryContext.Provider>;
}

export const useCommands: () => CommandRegistry = registryContext.use;

/** A toolbar button for a command: its label, tooltip with the shortcut, and enabled state from the registry. */
export function CommandButton({ id, className }: { id: MenuCommand; className?: string }) {
  const c = useCommands().get(id);
  const title = [c.title ?? c.label, c.shortcut ? `(${c.shortcut})` : ''].filter(Boolean).join(' ');
  return (
    <button className={className} onClick={c.run} disabled={!c.enabled} title={title}>
      {c.button ?? c.label}
    </button>
  );
}

/** A context-menu item for a command (see components/ContextMenu.tsx). */
export function commandMenuItem(c: Command, run: () => void = c.run) {
  return { label: c.label, ...(c.shortcut ? { shortcut: c.shortcut } : {}), disabled: !c.enabled, run };
}
