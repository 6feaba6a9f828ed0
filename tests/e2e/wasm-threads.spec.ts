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
  test('a cross-origin isolated page trains on WASM with a pool of more than one thread, and shows the count', async ({ page }) => {
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /is not defined|uncaught exception|pthread/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await openExample(page, /Open example XOR/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // At least two threads on any machine with two or more logical CPUs (core/train/wasm-threads.ts).
    const cpus = await page.evaluate(() => navigator.hardwareConcurrency);
    test.skip(cpus < 2, 'this machine has one logical CPU: one thread is right');
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('backend')).toHaveText(/^on wasm/, { timeout: 60_000 });
    await expect(page.getByTestId('backend-threads')).toHaveText(/^[2-8] threads$/);
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 90_000 });
    const s = await run(page);
    expect(s.backend).toBe('wasm');
    expect(s.threads).toBeGreaterThan(1);
    expect(Number((await page.getByTestId('backend-threads').textContent())!.split(' ')[0])).toBe(s.threads);
    expect(s.epochs.length).toBe(60);
    expect(s.epochs[59]!.trainLoss).toBeLessThan(s.epochs[0]!.trainLoss / 2);
    expect(problems).toEqual([]);
  });
});
