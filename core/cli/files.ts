/** The user's files in and ours out, the same way in every `gradflow` command. */
import { readFile, rename, writeFile } from 'node:fs/promises';

/** Why `path` could not be read, in one line: in the words a user acts on where there are some, else the system's. */
export function readFailure(path: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return `cannot read ${path}: ${why}`;
}

/** The bytes of a file the user named, or the line that says why it cannot be read. */
export async function readUserFile(path: string): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; message: string }> {
  try {
    return { ok: true, bytes: await readFile(path) };
  } catch (e) {
    return { ok: false, message: readFailure(path, e) };
  }
}

/** Write to a temporary file beside `path`, then rename it over `path`, so a crash never leaves a truncated file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
