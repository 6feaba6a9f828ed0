import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';

// This browser has no WebGPU (launched without --enable-unsafe-webgpu), so Auto must fall
// back and say why.
const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
test.use({
  launchOptions: {
    ...(systemChromium ? { executablePath: systemChromium } : {}),
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  },
});

test('without WebGPU, Auto falls back to the next backend and shows the reason', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Examples' }).click();
  await page.getByRole('button', { name: /Open example XOR/ }).click();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const backend = page.getByTestId('backend');
  await expect(backend).toHaveText(/^on (webgl|wasm|cpu) \(fell back: webgpu: /, { timeout: 60_000 });
  const state = (await page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): unknown } } }).__gradflow.run.getState())) as { backend: string; fallbacks: string[] };
  expect(state.backend).not.toBe('webgpu');
  expect(state.fallbacks[0]).toMatch(/^webgpu: (no WebGPU adapter|this browser has no WebGPU)/);
  await expect.poll(async () => ((await page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): { epochs: unknown[] } } } }).__gradflow.run.getState().epochs.length)) as number), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
});
