/**
 * The recent-files list: newest first, no duplicates, at most ten, kept across launches in
 * the user's data folder and mirrored to the operating system's own list (macOS Dock and
 * "Open Recent", Windows jump list) where there is one.
 */
import * as nodePath from 'node:path';
import type { RecentFile } from '../core/platform.ts';
import { pathKey } from './files.ts';
import type { JsonStore } from './json-store.ts';

export const MAX_RECENT = 10;

/** The operating system's recent-documents list (app.addRecentDocument and friends). */
export interface OsRecentDocuments {
  add(path: string): void;
  clear(): void;
}

export interface RecentFilesOptions {
  store: JsonStore;
  platform?: NodeJS.Platform;
  os?: OsRecentDocuments;
  max?: number;
  /** Called after every change, e.g. to rebuild the Open Recent menu. */
  onChange?: (files: readonly RecentFile[]) => void;
  log?: (message: string) => void;
}

const FILE_VERSION = 1;

/** The recent list in memory, persisted after every change (see the file comment). */
export class RecentFiles {
  #files: RecentFile[] = [];
  readonly #o: Required<Pick<RecentFilesOptions, 'platform' | 'max'>> & RecentFilesOptions;
  /** Writes go one after another so that a slow disk cannot reorder them. */
  #writing: Promise<void> = Promise.resolve();

  constructor(options: RecentFilesOptions) {
    this.#o = { platform: process.platform, max: MAX_RECENT, ...options };
  }

  /** Read the saved list; anything malformed in it is skipped, never fatal. */
  async load(): Promise<void> {
    const raw = await this.#o.store.read();
    const entries = (raw as { files?: unknown } | null)?.files;
    const files: RecentFile[] = [];
    const seen = new Set<string>();
    if (Array.isArray(entries)) {
      for (const e of entries) {
        const path = (e as { path?: unknown } | null)?.path;
        if (typeof path !== 'string' || path === '' || path.includes('\0') || !this.#isAbsolute(path)) continue;
        const key = pathKey(path, this.#o.platform);
        if (seen.has(key)) continue;
        seen.add(key);
        files.push({ name: this.#basename(path), path });
        if (files.length >= this.#o.max) break;
      }
    }
    this.#files = files;
    this.#o.onChange?.(this.list());
  }

  list(): RecentFile[] {
    return this.#files.map((f) => ({ ...f }));
  }

  has(path: string): boolean {
    const key = pathKey(path, this.#o.platform);
    return this.#files.some((f) => pathKey(f.path, this.#o.platform) === key);
  }

  /** Put a file at the top (opened or saved just now). */
  add(path: string): Promise<void> {
    const key = pathKey(path, this.#o.platform);
    this.#files = [{ name: this.#basename(path), path }, ...this.#files.filter((f) => pathKey(f.path, this.#o.platform) !== key)].slice(0, this.#o.max);
    this.#o.os?.add(path);
    return this.#changed();
  }

  /** Drop a file, e.g. one that no longer exists. */
  remove(path: string): Promise<void> {
    const key = pathKey(path, this.#o.platform);
    const before = this.#files.length;
    this.#files = this.#files.filter((f) => pathKey(f.path, this.#o.platform) !== key);
    return this.#files.length === before ? this.#writing : this.#changed();
  }

  clear(): Promise<void> {
    this.#files = [];
    this.#o.os?.clear();
    return this.#changed();
  }

  #changed(): Promise<void> {
    const snapshot = { version: FILE_VERSION, files: this.#files.map((f) => ({ path: f.path })) };
    this.#o.onChange?.(this.list());
    this.#writing = this.#writing
      .then(() => this.#o.store.write(snapshot))
      .catch((e: unknown) => {
        // The list is a convenience: failing to persist it must not fail the open or save.
        this.#o.log?.(`Could not save the recent files list: ${(e as Error).message}`);
      });
    return this.#writing;
  }

  #isAbsolute(p: string): boolean {
    return this.#o.platform === 'win32' ? nodePath.win32.isAbsolute(p) : nodePath.posix.isAbsolute(p);
  }

  #basename(p: string): string {
    return this.#o.platform === 'win32' ? nodePath.win32.basename(p) : nodePath.posix.basename(p);
  }
}
