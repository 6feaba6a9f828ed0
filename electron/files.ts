/**
 * Files on disk for the desktop app: atomic writes (a crash or a full disk never leaves a
 * truncated graph), bounded reads with readable errors, and the list of paths the renderer
 * may touch. The file system is injected so tests can make it fail half-way.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { MAX_FILE_BYTES } from './channels.ts';

/** The part of `fs/promises` that atomic writes and reads use. */
export interface FileSystem {
  open(path: string, flags: string, mode?: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<{ size: number; mode: number; isFile(): boolean; isDirectory(): boolean }>;
  realpath(path: string): Promise<string>;
  readFile(path: string): Promise<Uint8Array>;
}

/** An open file, as `fs/promises`' FileHandle. */
export interface FileHandleLike {
  writeFile(data: string | Uint8Array): Promise<void>;
  sync(): Promise<void>;
  chmod?(mode: number): Promise<void>;
  close(): Promise<void>;
}

/** The real file system. */
export const nodeFileSystem: FileSystem = {
  open: (p, flags, mode) => nodeFs.open(p, flags, mode),
  rename: (a, b) => nodeFs.rename(a, b),
  unlink: (p) => nodeFs.unlink(p),
  stat: (p) => nodeFs.stat(p),
  realpath: (p) => nodeFs.realpath(p),
  readFile: (p) => nodeFs.readFile(p),
};

/** A file operation that failed, with a message fit for the user (no stack, no errno jargon). */
export class FileError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'FileError';
    this.code = code;
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'the file or its folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted (the file may be read-only or in use)',
  EROFS: 'the disk is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EBUSY: 'the file is in use by another program',
  EMFILE: 'too many files are open',
  ENAMETOOLONG: 'the path is too long',
  EIO: 'the disk reported an input/output error',
};

/** Turn a Node error into one readable sentence naming the file. */
export function describeFileError(verb: string, path: string, e: unknown): FileError {
  if (e instanceof FileError) return e;
  const code = (e as { code?: unknown })?.code;
  const reason = typeof code === 'string' && REASONS[code] ? REASONS[code] : e instanceof Error ? e.message : String(e);
  return new FileError(`Could not ${verb} ${path}: ${reason}`, typeof code === 'string' ? code : undefined);
}

export interface AtomicWriteOptions {
  fs?: FileSystem;
  platform?: NodeJS.Platform;
  /** Attempts at the final rename on Windows, where virus scanners briefly lock new files. */
  renameAttempts?: number;
  /** For tests: the suffix of the temporary file. */
  tempSuffix?: string;
}

/**
 * Write `data` to `path` so that the file is either the old one or the complete new one,
 * never a mix: write a temporary file beside it (same folder, so the rename stays on one file
 * system), flush it to disk, then rename it over the target. A failure anywhere removes the
 * temporary file and leaves the old file untouched. A symbolic link is followed, so saving
 * through a link updates the file it points to instead of replacing the link. The old file's
 * permissions carry over.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const fs = options.fs ?? nodeFileSystem;
  const platform = options.platform ?? process.platform;
  let target = nodePath.resolve(path);
  let mode: number | undefined;
  try {
    target = await fs.realpath(target);
    const st = await fs.stat(target);
    if (st.isDirectory()) throw new FileError(`Could not save ${path}: it is a folder, not a file`, 'EISDIR');
    mode = st.mode & 0o7777;
  } catch (e) {
    // A new file: nothing to follow and no permissions to keep.
    if ((e as { code?: unknown }).code !== 'ENOENT') throw describeFileError('save', path, e);
  }
  const dir = nodePath.dirname(target);
  const suffix = options.tempSuffix ?? randomBytes(6).toString('hex');
  // A dot file so that file managers and "Open Recent" do not show it if a crash leaves it.
  const temp = nodePath.join(dir, `.${nodePath.basename(target)}.${suffix}.tmp`);
  let handle: FileHandleLike | undefined;
  try {
    // 'wx': never reuse (or follow a link at) an existing path for the temporary file.
    handle = await fs.open(temp, 'wx', mode ?? 0o666);
    await handle.writeFile(data);
    if (mode !== undefined && handle.chmod) await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await renameWithRetry(fs, temp, target, platform === 'win32' ? (options.renameAttempts ?? 5) : 1);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    await fs.unlink(temp).catch(() => {});
    throw describeFileError('save', path, e);
  }
  if (platform !== 'win32') await syncDirectory(fs, dir);
}

async function renameWithRetry(fs: FileSystem, from: string, to: string, attempts: number): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fs.rename(from, to);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (i >= attempts || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw e;
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
}

/** Make the rename itself durable; best effort, since some file systems refuse to open folders. */
async function syncDirectory(fs: FileSystem, dir: string): Promise<void> {
  try {
    const h = await fs.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* not supported here: the data itself is already flushed */
  }
}

/**
 * Read a file the user chose, refusing folders and files over the size limit before reading
 * them (a 4 GiB file would otherwise take the whole app down).
 */
export async function readUserFile(path: string, options: { fs?: FileSystem; maxBytes?: number } = {}): Promise<Uint8Array> {
  const fs = options.fs ?? nodeFileSystem;
  const max = options.maxBytes ?? MAX_FILE_BYTES;
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) throw new FileError(`Could not open ${path}: it is a folder, not a file`, 'EISDIR');
    if (!st.isFile()) throw new FileError(`Could not open ${path}: it is not a regular file`);
    if (st.size > max) {
      throw new FileError(`Could not open ${path}: it is ${mib(st.size)} MiB, and Gradflow opens files up to ${mib(max)} MiB`, 'EFBIG');
    }
    return plainBytes(await fs.readFile(path));
  } catch (e) {
    throw describeFileError('open', path, e);
  }
}

/**
 * A plain Uint8Array over the same memory when the bytes fill their buffer (no copy), else a
 * copy: IPC clones a view's whole underlying buffer, and a Node Buffer may be a slice of a
 * shared pool.
 */
function plainBytes(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer, 0, b.byteLength) : new Uint8Array(b);
}

const mib = (n: number) => (n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0);

/** Normalize a path for comparison: absolute, and case-folded where the file system usually ignores case. */
export function pathKey(path: string, platform: NodeJS.Platform = process.platform): string {
  const abs = platform === 'win32' ? nodePath.win32.resolve(path) : nodePath.posix.resolve(path);
  return platform === 'win32' || platform === 'darwin' ? abs.toLowerCase() : abs;
}

/**
 * The paths the renderer may read and write: only those the user chose through a dialog,
 * the recent list, the command line, a file association, a second launch or a drop. A
 * compromised renderer therefore cannot read ~/.ssh or overwrite a system file by naming it.
 */
export class FileAccess {
  readonly #granted = new Set<string>();
  readonly #platform: NodeJS.Platform;
  constructor(platform: NodeJS.Platform = process.platform) {
    this.#platform = platform;
  }
  grant(path: string): void {
    this.#granted.add(pathKey(path, this.#platform));
  }
  allows(path: string): boolean {
    return this.#granted.has(pathKey(path, this.#platform));
  }
}

/**
 * The path with `.nngraph` added when the user typed a name with no extension (Linux save
 * dialogs do not add it); a name with another extension is what the user asked for.
 */
export function withGraphExtension(path: string): string {
  return nodePath.extname(path) === '' ? `${path}.nngraph` : path;
}
