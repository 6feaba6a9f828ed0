import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { jsonFileStore, memoryStore } from '../../electron/json-store.ts';
import { MAX_RECENT, RecentFiles } from '../../electron/recent.ts';

describe('recent files', () => {
  it('puts the newest first, without duplicates, at most ten', async () => {
    const store = memoryStore();
    const r = new RecentFiles({ store, platform: 'linux' });
    await r.load();
    for (let i = 0; i < 12; i++) await r.add(`/g/${i}.nngraph`);
    await r.add('/g/5.nngraph');
    const paths = r.list().map((f) => f.path);
    expect(paths).toHaveLength(MAX_RECENT);
    expect(paths[0]).toBe('/g/5.nngraph');
    expect(paths.filter((p) => p === '/g/5.nngraph')).toHaveLength(1);
    expect(paths).not.toContain('/g/0.nngraph');
    expect(r.list()[0]).toEqual({ name: '5.nngraph', path: '/g/5.nngraph' });
  });

  it('persists across launches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradflow-recent-'));
    try {
      const file = join(dir, 'recent-files.json');
      const a = new RecentFiles({ store: jsonFileStore(file), platform: 'linux' });
      await a.load();
      await a.add('/home/ada/a.nngraph');
      await a.add('/home/ada/b.nngraph');
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, files: [{ path: '/home/ada/b.nngraph' }, { path: '/home/ada/a.nngraph' }] });
      const b = new RecentFiles({ store: jsonFileStore(file), platform: 'linux' });
      await b.load();
      expect(b.list().map((f) => f.name)).toEqual(['b.nngraph', 'a.nngraph']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('skips damaged entries in the saved list instead of failing', async () => {
    const store = memoryStore({
      files: [{ path: '/ok.nngraph' }, { path: 42 }, null, { path: 'relative.nngraph' }, { path: '/nul\0.nngraph' }, { path: '/ok.nngraph' }, 'x', { path: '/two.nngraph' }],
    });
    const r = new RecentFiles({ store, platform: 'linux' });
    await r.load();
    expect(r.list().map((f) => f.path)).toEqual(['/ok.nngraph', '/two.nngraph']);
  });

  it.each([null, 'garbage', { files: 'no' }, [], 17])('reads %j as an empty list', async (saved) => {
    const r = new RecentFiles({ store: memoryStore(saved), platform: 'linux' });
    await r.load();
    expect(r.list()).toEqual([]);
  });

  it('treats paths differing only in case as one on Windows and macOS', async () => {
    const w = new RecentFiles({ store: memoryStore(), platform: 'win32' });
    await w.add('C:\\Users\\Ada\\A.nngraph');
    await w.add('c:\\users\\ada\\a.nngraph');
    expect(w.list()).toHaveLength(1);
    expect(w.has('C:\\USERS\\ADA\\A.NNGRAPH')).toBe(true);
    expect(w.list()[0]!.name).toBe('a.nngraph');
    const l = new RecentFiles({ store: memoryStore(), platform: 'linux' });
    await l.add('/a/A.nngraph');
    await l.add('/a/a.nngraph');
    expect(l.list()).toHaveLength(2);
  });

  it('removes and clears, telling the OS list and the menu', async () => {
    const os = { add: vi.fn(), clear: vi.fn() };
    const onChange = vi.fn();
    const store = memoryStore();
    const r = new RecentFiles({ store, platform: 'darwin', os, onChange });
    await r.add('/a.nngraph');
    await r.add('/b.nngraph');
    expect(os.add).toHaveBeenCalledWith('/b.nngraph');
    await r.remove('/a.nngraph');
    expect(r.list().map((f) => f.path)).toEqual(['/b.nngraph']);
    await r.clear();
    expect(r.list()).toEqual([]);
    expect(os.clear).toHaveBeenCalled();
    expect(store.value).toEqual({ version: 1, files: [] });
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it('keeps working when the list cannot be saved', async () => {
    const logs: string[] = [];
    const r = new RecentFiles({
      store: { read: async () => null, write: async () => Promise.reject(new Error('read-only disk')) },
      platform: 'linux',
      log: (m) => logs.push(m),
    });
    await expect(r.add('/a.nngraph')).resolves.toBeUndefined();
    expect(r.list()).toHaveLength(1);
    expect(logs[0]).toContain('read-only disk');
  });

  it('writes in order even when the disk is slow', async () => {
    const written: unknown[] = [];
    let delay = 30;
    const store = {
      read: async () => null,
      write: (v: unknown) => new Promise<void>((res) => setTimeout(() => (written.push(v), res()), (delay -= 10))),
    };
    const r = new RecentFiles({ store, platform: 'linux' });
    void r.add('/a.nngraph');
    void r.add('/b.nngraph');
    await r.add('/c.nngraph');
    expect((written.at(-1) as { files: { path: string }[] }).files.map((f) => f.path)).toEqual(['/c.nngraph', '/b.nngraph', '/a.nngraph']);
  });
});
