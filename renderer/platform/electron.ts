/**
 * The desktop implementation of the platform contract, over the preload's bridge
 * (`window.gradflowBridge`, see electron/preload.ts). Files, dialogs and recent files live in
 * the main process; this side turns the bridge's results into the Platform's promises and
 * errors, routes editing commands to a focused text field, and keeps files that arrive before
 * the editor listens.
 */
import { isTextEditCommand, menuEnablement } from '../../core/commands.ts';
import type { BridgeResult, DesktopBridge, MenuCommand, OpenedFile, Platform, TextEditCommand } from '../../core/platform.ts';
import { createBrowserPlatform } from './browser.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the web build. */
    gradflowBridge?: DesktopBridge;
  }
}

function unwrap<T>(r: BridgeResult<T>): T {
  if (r.ok) return r.value;
  throw new Error(r.error);
}

/** Whether keyboard focus is in something that edits text (where Undo or Paste mean the text). */
export function isEditingText(el: Element | null): boolean {
  if (!el) return false;
  const h = el as HTMLElement;
  if (h.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA') return !(el as HTMLTextAreaElement).readOnly;
  if (el.tagName !== 'INPUT') return false;
  const input = el as HTMLInputElement;
  const texty = ['text', 'search', 'url', 'tel', 'email', 'password', 'number', ''];
  return texty.includes(input.type) && !input.readOnly && !input.disabled;
}

export interface ElectronPlatformOptions {
  /** Where focus is; a parameter so that tests need no DOM. */
  activeElement?: () => Element | null;
  /** Sets the window's title (document.title by default). */
  setDocumentTitle?: (title: string) => void;
  /** Calls `listener` whenever focus moves (focusin/focusout on the document by default); returns the unsubscribe function. */
  onFocusChange?: (listener: () => void) => () => void;
  autosave?: Platform['autosave'];
}

/** The Platform for the desktop app. */
export function createElectronPlatform(bridge: DesktopBridge, options: ElectronPlatformOptions = {}): Platform {
  const activeElement = options.activeElement ?? (() => document.activeElement);
  const setDocumentTitle = options.setDocumentTitle ?? ((t: string) => void (document.title = t));
  const commandHandlers = new Set<(c: MenuCommand) => void>();
  const openHandlers = new Set<(f: OpenedFile) => void>();
  /** Files that came while no handler listened (React subscribes after the first render). */
  const waiting: OpenedFile[] = [];
  let bridgeCommandsOff: (() => void) | null = null;
  let bridgeFilesOff: (() => void) | null = null;
  const onFocusChange = options.onFocusChange ?? defaultFocusChange;
  /** The registry's latest command states, and what the menu was last told (to send only changes). */
  let commandStates: Readonly<Record<MenuCommand, boolean>> | null = null;
  let sentMenuState = '';
  let focusOff: (() => void) | null = null;
  const sendMenuState = () => {
    if (!commandStates) return;
    // While a text field has focus the menu's editing commands act on it, so they stay enabled.
    const state = menuEnablement(commandStates, isEditingText(activeElement()));
    const key = JSON.stringify(state);
    if (key === sentMenuState) return;
    sentMenuState = key;
    bridge.setMenuState(state);
  };

  const dispatchFile = (f: OpenedFile) => {
    if (openHandlers.size === 0) return void waiting.push(f);
    for (const h of openHandlers) h(f);
  };

  return {
    kind: 'electron',
    async openFile() {
      return unwrap(await bridge.openFile());
    },
    async saveFile({ suggestedName, text, path }) {
      return unwrap(await bridge.saveFile(path === undefined ? { suggestedName, text } : { suggestedName, text, path }));
    },
    async exportFile(options) {
      return unwrap(await bridge.exportFile(options));
    },
    async recentFiles() {
      return unwrap(await bridge.recentFiles());
    },
    async openRecent(path) {
      return unwrap(await bridge.openRecent(path));
    },
    onCommand(handler) {
      commandHandlers.add(handler);
      // One subscription to the bridge for all handlers, so that a text edit runs once.
      bridgeCommandsOff ??= bridge.onCommand((command) => {
        // Edit > Copy (or its shortcut, where the menu gets it) means the text when a text field
        // has focus: let Chromium do it there, and give the graph everything else.
        if (isTextEditCommand(command) && isEditingText(activeElement())) return bridge.editText(command);
        for (const h of commandHandlers) h(command);
      });
      return () => {
        commandHandlers.delete(handler);
        if (commandHandlers.size === 0 && bridgeCommandsOff) {
          bridgeCommandsOff();
          bridgeCommandsOff = null;
        }
      };
    },
    onOpenFile(handler) {
      openHandlers.add(handler);
      for (const f of waiting.splice(0)) dispatchFile(f);
      if (!bridgeFilesOff) {
        bridgeFilesOff = bridge.onOpenFile(dispatchFile);
        // Listening now: collect what came from the command line or file association before.
        void bridge.takePendingFiles().then((r) => {
          if (r.ok) r.value.forEach(dispatchFile);
          else console.warn(`Gradflow: files opened at launch were lost: ${r.error}`);
        });
      }
      // The bridge subscription stays when handlers come and go (React's StrictMode
      // subscribes twice): files arriving in between wait in `waiting`.
      return () => {
        openHandlers.delete(handler);
      };
    },
    setCommandStates(enabled) {
      commandStates = enabled;
      focusOff ??= onFocusChange(sendMenuState);
      sendMenuState();
    },
    setTitle(title, dirty) {
      setDocumentTitle(`${dirty ? '● ' : ''}${title} — Gradflow`);
      bridge.setDocumentState({ title, dirty });
    },
    // Autosave stays in the page's own storage (the app:// origin keeps it across launches).
    autosave: options.autosave ?? createBrowserPlatform().autosave,
  };
}

function defaultFocusChange(listener: () => void): () => void {
  document.addEventListener('focusin', listener);
  document.addEventListener('focusout', listener);
  return () => {
    document.removeEventListener('focusin', listener);
    document.removeEventListener('focusout', listener);
  };
}
