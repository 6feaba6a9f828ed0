/**
 * The browser implementation of the platform contract (web build and end-to-end tests):
 * open through a file input, save as a download, autosave and recent names in localStorage.
 */
import type { MenuCommand, OpenedFile, Platform, RecentFile } from '../../core/platform.ts';
import { downloadText, pickFile } from './dom-files.ts';

const AUTOSAVE_KEY = 'gradflow.autosave.v1';

export function createBrowserPlatform(): Platform {
  const commandHandlers = new Set<(c: MenuCommand) => void>();
  const openHandlers = new Set<(f: OpenedFile) => void>();
  return {
    kind: 'browser',
    async openFile() {
      const file = await pickFile('.nngraph,application/json');
      return file ? { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) } : null;
    },
    async saveFile({ suggestedName, text }) {
      return downloadText(suggestedName.endsWith('.nngraph') ? suggestedName : `${suggestedName}.nngraph`, text, 'application/json');
    },
    async recentFiles(): Promise<RecentFile[]> {
      return [];
    },
    async openRecent(path: string): Promise<OpenedFile> {
      throw new Error(`the web version cannot reopen ${path}: browsers only read files you choose`);
    },
    onCommand(handler) {
      commandHandlers.add(handler);
      return () => commandHandlers.delete(handler);
    },
    onOpenFile(handler) {
      openHandlers.add(handler);
      return () => openHandlers.delete(handler);
    },
    setTitle(title, dirty) {
      document.title = `${dirty ? '● ' : ''}${title} — Gradflow`;
    },
    autosave: {
      write(text) {
        try {
          localStorage.setItem(AUTOSAVE_KEY, JSON.stringify({ text, savedAt: new Date().toISOString() }));
        } catch {
          // Storage full or disabled: autosave is a safety net, never a reason to interrupt.
        }
      },
      read() {
        try {
          const raw = localStorage.getItem(AUTOSAVE_KEY);
          if (!raw) return null;
          const v = JSON.parse(raw) as { text?: unknown; savedAt?: unknown };
          return typeof v.text === 'string' && typeof v.savedAt === 'string' ? { text: v.text, savedAt: v.savedAt } : null;
        } catch {
          return null;
        }
      },
      clear() {
        try {
          localStorage.removeItem(AUTOSAVE_KEY);
        } catch {
          /* ignore */
        }
      },
    },
  };
}
