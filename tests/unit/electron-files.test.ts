import { chmod, lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES as LOADER_MAX } from '../../core/io/load.ts';
import { MAX_FILE_BYTES } from '../../electron/channels.ts';
import { FileAccess, FileError, describeFileError, nodeFileSystem, readUserFile, withGraphExtension, writeFileAtomic, type FileSystem } from '../../electron/files.ts';
import { jsonFileStore } from '../../electron/json-store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradflow-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OLD = '{"format":"gradflow-graph","version":1,"old":true}\n';
const NEW = '{"format":"gradflow-graph","version":1,"new":true}\n'.repeat(1000);

/** A file system that fails at one step, to see what a crash half-way leaves behind. */
function failingFs(step: 'open' | 'write' | 'sync' | 'close' | 'rename', code = 'ENOSPC'): FileSystem {
  const err = () => Object.assign(new Error(`${step} failed`), { code });
  return {
    ...nodeFileSystem,
    async open(p, flags, mode) {
      if (step === 'open' && flags === 'wx') throw err();
      const h = await nodeFileSystem.open(p, flags, mode);
      return {
        async writeFile(data) {
          if (step === 'write') {
            // Half the data reaches the disk, then the disk is full.
            await h.writeFile(typeof data === 'string' ? data.slice(0, data.length / 2) : data.subarray(0, data.length / 2));
            throw err();
          }
          return h.writeFile(data);
        },
        sync: async () => {
          if (step === 'sync' && flags === 'wx') throw err();
          return h.sync();
        },
        chmod: (m) => h.chmod!(m),
        close: async () => {
          await h.close();
          if (step === 'close' && flags === 'wx') throw err();
        },
      };
    },
    async rename(a, b) {
      if (step === 'rename') throw err();
      return nodeFileSystem.rename(a, b);
    },
  };
}

describe('atomic writes', () => {
  it('creates a new file', async () => {
    const p = join(dir, 'new.nngraph');
    await writeFileAtomic(p, NEW);
    expect(await readFile(p, 'utf8')).toBe(NEW);
    expect(await readdir(dir)).toEqual(['new.nngraph']);
  });

  it('replaces an existing file completely and leaves no temporary file', async () => {
    const p = join(dir, 'model.nngraph');
    await writeFile(p, OLD);
    await writeFileAtomic(p, NEW);
    expect(await readFile(p, 'utf8')).toBe(NEW);
    expect(await readdir(dir)).toEqual(['model.nngraph']);
  });

  it('writes bytes as they are', async () => {
    const p = join(dir, 'b.bin');
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    await writeFileAtomic(p, bytes);
    expect(new Uint8Array(await readFile(p))).toEqual(bytes);
  });

  it.each(['open', 'write', 'sync', 'close', 'rename'] as const)('a failure at %s leaves the old file untouched and no temporary file', async (step) => {
    const p = join(dir, 'model.nngraph');
    await writeFile(p, OLD);
    const e = await writeFileAtomic(p, NEW, { fs: failingFs(step) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FileError);
    expect((e as Error).message).toContain(p);
    expect((e as Error).message).toContain('the disk is full');
    expect(await readFile(p, 'utf8')).toBe(OLD);
    expect(await readdir(dir)).toEqual(['model.nngraph']);
  });

  it('a failure half-way through a new file leaves nothing behind', async () => {
    const p = join(dir, 'fresh.nngraph');
    await expect(writeFileAtomic(p, NEW, { fs: failingFs('write') })).rejects.toThrow(/Could not save .*fresh\.nngraph: the disk is full/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the permissions of the file it replaces', async () => {
    if (process.platform === 'win32') return;
    const p = join(dir, 'shared.nngraph');
    await writeFile(p, OLD);
    await chmod(p, 0o640);
    await writeFileAtomic(p, NEW);
    expect((await stat(p)).mode & 0o777).toBe(0o640);
  });

  it('follows a symbolic link instead of replacing it', async () => {
    if (process.platform === 'win32') return;
    const real = join(dir, 'real.nngraph');
    const link = join(dir, 'link.nngraph');
    await writeFile(real, OLD);
    await symlink(real, link);
    await writeFileAtomic(link, NEW);
    expect(await readFile(real, 'utf8')).toBe(NEW);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('refuses to write over a folder', async () => {
    await expect(writeFileAtomic(dir, NEW)).rejects.toThrow(/it is a folder/);
  });

  it('says plainly when the folder does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'x.nngraph'), NEW)).rejects.toThrow(/Could not save .*x\.nngraph: the file or its folder does not exist/);
  });

  it('retries the rename on Windows while another program holds the file', async () => {
    const p = join(dir, 'busy.nngraph');
    await writeFile(p, OLD);
    let tries = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      async rename(a, b) {
        if (++tries < 3) throw Object.assign(new Error('busy'), { code: 'EBUSY' });
        return nodeFileSystem.rename(a, b);
      },
    };
    await writeFileAtomic(p, NEW, { fs, platform: 'win32' });
    expect(tries).toBe(3);
    expect(await readFile(p, 'utf8')).toBe(NEW);
  });

  it('does not retry elsewhere', async () => {
    const p = join(dir, 'busy.nngraph');
    await writeFile(p, OLD);
    let tries = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      async rename() {
        tries++;
        throw Object.assign(new Error('busy'), { code: 'EBUSY' });
      },
    };
    await expect(writeFileAtomic(p, NEW, { fs, platform: 'linux' })).rejects.toThrow(/in use by another program/);
    expect(tries).toBe(1);
    expect(await readFile(p, 'utf8')).toBe(OLD);
  });
});

describe('reading files the user chose', () => {
  it('reads a file', async () => {
    const p = join(dir, 'a.nngraph');
    await writeFile(p, OLD);
    expect(new TextDecoder().decode(await readUserFile(p))).toBe(OLD);
  });

  it.each([
    ['a missing file', (d: string) => join(d, 'nope.nngraph'), /Could not open .*nope\.nngraph: the file or its folder does not exist/],
    ['a folder', (d: string) => d, /it is a folder, not a file/],
  ])('refuses %s with a readable message', async (_what, path, message) => {
    await expect(readUserFile(path(dir))).rejects.toThrow(message);
  });

  it('refuses a file over the size limit before reading it', async () => {
    const p = join(dir, 'big.nngraph');
    await writeFile(p, 'x'.repeat(2048));
    let read = false;
    const fs: FileSystem = { ...nodeFileSystem, readFile: async (f) => ((read = true), nodeFileSystem.readFile(f)) };
    await expect(readUserFile(p, { fs, maxBytes: 1024 })).rejects.toThrow(/Gradflow opens files up to/);
    expect(read).toBe(false);
  });

  it('uses the same size limit as the file loader', () => {
    expect(MAX_FILE_BYTES).toBe(LOADER_MAX);
  });

  it('describes errors without errno jargon', () => {
    expect(describeFileError('save', '/x/y.nngraph', Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' })).message).toBe(
      'Could not save /x/y.nngraph: permission denied',
    );
    expect(describeFileError('open', '/x', new Error('odd')).message).toBe('Could not open /x: odd');
  });
});

describe('which files the renderer may use', () => {
  it('allows only granted paths, compared as absolute paths', () => {
    const a = new FileAccess('linux');
    a.grant('/home/ada/model.nngraph');
    expect(a.allows('/home/ada/model.nngraph')).toBe(true);
    expect(a.allows('/home/ada/./other/../model.nngraph')).toBe(true);
    expect(a.allows('/home/ada/Model.nngraph')).toBe(false);
    expect(a.allows('/etc/passwd')).toBe(false);
  });

  it('ignores case where the file system does (Windows, macOS)', () => {
    const w = new FileAccess('win32');
    w.grant('C:\\Users\\Ada\\model.nngraph');
    expect(w.allows('c:\\users\\ada\\MODEL.nngraph')).toBe(true);
    const m = new FileAccess('darwin');
    m.grant('/Users/ada/model.nngraph');
    expect(m.allows('/users/ada/model.NNGRAPH')).toBe(true);
  });

  it('adds .nngraph only when the name has no extension', () => {
    expect(withGraphExtension('/a/model')).toBe('/a/model.nngraph');
    expect(withGraphExtension('/a/model.nngraph')).toBe('/a/model.nngraph');
    expect(withGraphExtension('/a/model.NNGRAPH')).toBe('/a/model.NNGRAPH');
    expect(withGraphExtension('/a/model.json')).toBe('/a/model.json');
    expect(withGraphExtension('/a.b/model')).toBe('/a.b/model.nngraph');
  });
});

describe('settings files', () => {
  it('round-trips JSON and reads a missing or damaged file as nothing', async () => {
    const logs: string[] = [];
    const s = jsonFileStore(join(dir, 'settings.json'), { log: (m) => logs.push(m) });
    expect(await s.read()).toBeNull();
    await s.write({ a: 1 });
    expect(await s.read()).toEqual({ a: 1 });
    await writeFile(join(dir, 'settings.json'), '{"a":');
    expect(await s.read()).toBeNull();
    expect(logs.join()).toContain('not valid JSON');
  });
});
