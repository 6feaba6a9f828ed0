import { expect, test } from '@playwright/test';

interface RunState {
  backend: string | null;
  fallbacks: string[];
  epochs: unknown[];
}
const runState = (page: import('@playwright/test').Page) => page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): unknown } } }).__gradflow.run.getState()) as Promise<RunState>;

// This Chromium runs with --enable-unsafe-webgpu (playwright.config.ts) on a machine without a
// GPU, so its only WebGPU adapter is SwiftShader, a software renderer: it starts, but trains
// the MNIST MLP at ~150 samples/s where WASM runs ~2,400. Auto must pass over it and say why.
test.describe('Auto backend', () => {
  test('passes over the SwiftShader WebGPU adapter, trains on WASM and shows the reason; WebGPU by name still uses it', async ({ page }) => {
    await page.goto('/');
    const adapter = await page.evaluate(async () => {
      const a = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
      const info = (a as (GPUAdapter & { info?: GPUAdapterInfo }) | null)?.info;
      return a ? { vendor: info?.vendor, architecture: info?.architecture, device: info?.device, description: info?.description } : null;
    });
    // The precondition: a WebGPU adapter exists here, and it is SwiftShader.
    expect(adapter).not.toBeNull();
    expect(JSON.stringify(adapter)).toMatch(/swiftshader/i);

    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example XOR/ }).click();
    await expect(page.getByLabel('Backend', { exact: true })).toHaveValue('auto');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const backend = page.getByTestId('backend');
    await expect(backend).toHaveText(/^on wasm \(fell back: webgpu: skipped, its adapter is a software renderer \(.*swiftshader.*\), slower than WASM on this CPU/i, { timeout: 60_000 });
    const state = await runState(page);
    expect(state.backend).toBe('wasm');
    expect(state.fallbacks[0]).toMatch(/^webgpu: skipped, its adapter is a software renderer \(.*swiftshader/i);
    // WebGL here is SwiftShader too (or absent): never chosen over WASM by Auto.
    expect(state.fallbacks.slice(1).every((f) => f.startsWith('webgl: '))).toBe(true);
    await expect.poll(async () => (await runState(page)).epochs.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    const stop = page.getByRole('toolbar', { name: 'Training' }).getByRole('button', { name: 'Stop', exact: true });
    if (await stop.isEnabled()) await stop.click();
    await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeVisible({ timeout: 60_000 });

    // The user's choice overrides Auto: WebGPU by name runs on the software adapter.
    await page.getByLabel('Backend', { exact: true }).selectOption('webgpu');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(backend).toHaveText(/^on webgpu/, { timeout: 60_000 });
    expect((await runState(page)).backend).toBe('webgpu');
  });
});
