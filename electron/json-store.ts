/**
 * Small JSON files in the user's data folder (recent files, window position). Written
 * atomically; a missing or damaged file reads as "nothing saved" so that a bad settings file
 * never stops the app from starting.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, type FileSystem } from './files.ts';

/** Where one small JSON value lives. */
export interface JsonStore {
  read(): Promise<unknown>;
  write(value: unknown): Promise<void>;
}

export function jsonFileStore(path: string, options: { fs?: FileSystem; log?: (message: string) => void } = {}): JsonStore {
  return {
    async read() {
      let text: string;
      try {
        text = options.fs ? new TextDecoder().decode(await options.fs.readFile(path)) : await readFile(path, 'utf8');
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ENOENT') options.log?.(`Could not read ${path}: ${(e as Error).message}`);
        return null;
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        options.log?.(`Ignoring ${path}: it is not valid JSON`);
        return null;
      }
    },
    async write(value) {
      await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options.fs ? { fs: options.fs } : {});
    },
  };
}

/** A store in memory, for tests and for running without a writable data folder. */
export function memoryStore(initial: unknown = null): JsonStore & { value: unknown } {
  const s = {
    value: initial,
    async read() {
      return s.value;
    },
    async write(v: unknown) {
      s.value = JSON.parse(JSON.stringify(v)) as unknown;
    },
  };
  return s;
}
