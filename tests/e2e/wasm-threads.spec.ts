import { expect, test, type Page } from '@playwright/test';
import { openExample } from './helpers.ts';

interface RunState {
  status: string;
  backend: string | null;
  threads: number | null;
  epochs: { epoch: number; trainLoss: number }[];
}
const run = (page: Page) => page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): unknown } } }).__gradflow.run.getState()) as Promise<RunState>;

// The pages are served with COOP/COEP, so tfjs loads its threaded SIMD build. Before
// scripts/vite-wasm-threads.ts its pthreads died on start in the bundled app ("e is not
// defined": the minifier renamed a closure variable the pthread's copy of the factory reads),
// so the backend never became ready on the threaded build.
test.describe('multi-threaded WASM', () => {
  test('a cross-origin isolated page trains on WASM with the pool of two threads the user chose, and shows the count', async ({ page }) => {
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /is not defined|uncaught exception|pthread/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await openExample(page, /Open example XOR/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // Auto is one thread per physical core as tfjs counts them (core/train/wasm-threads.ts);
    // two are asked for here, so the pool must really start more than one pthread.
    const cpus = await page.evaluate(() => navigator.hardwareConcurrency);
    const threadsSelect = page.getByLabel('WASM threads', { exact: true });
    await expect(threadsSelect.locator('option').first()).toHaveText(`Auto (${Math.min(8, Math.max(1, Math.floor(cpus / 2)))})`);
    await threadsSelect.selectOption('2');
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('backend')).toHaveText(/^on wasm/, { timeout: 60_000 });
    await expect(page.getByTestId('backend-threads')).toHaveText('2 threads');
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 90_000 });
    const s = await run(page);
    expect(s.backend).toBe('wasm');
    expect(s.threads).toBeGreaterThan(1);
    expect(Number((await page.getByTestId('backend-threads').textContent())!.split(' ')[0])).toBe(s.threads);
    expect(s.epochs.length).toBe(60);
    expect(s.epochs[59]!.trainLoss).toBeLessThan(s.epochs[0]!.trainLoss / 2);

    // Back to Auto: a started pool cannot change size, so the next run gets a fresh worker
    // with the default pool.
    await threadsSelect.selectOption('auto');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const auto = Math.min(8, Math.max(1, Math.floor(cpus / 2)));
    await expect(page.getByTestId('backend-threads')).toHaveText(`${auto} thread${auto === 1 ? '' : 's'}`, { timeout: 60_000 });
    expect((await run(page)).threads).toBe(auto);
    expect(problems).toEqual([]);
  });
});
