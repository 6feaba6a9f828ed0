import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openExample, openFile } from './helpers.ts';

interface RunState {
  status: string;
  backend: string | null;
  epochs: { epoch: number; trainLoss: number; valLoss: number | null }[];
  stepLoss: { step: number; loss: number }[];
  progress: { step: number } | null;
  pausedAt: number | null;
  evaluation: { loss: number | null; accuracy: number | null; backend: string } | null;
  fault: { message: string; nodeId: string | null } | null;
  instrumentation: { step: number; edges: Record<string, { meanAbs: number; rms: number }>; layers: Record<string, { weights: { counts: number[] } }> } | null;
}
const run = (page: Page) => page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): unknown } } }).__gradflow.run.getState()) as Promise<RunState>;

const edgeRms = (page: Page) =>
  page.locator('[data-grad-rms]').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-edge-id'), Number(e.getAttribute('data-grad-rms'))])));

test.describe('training from the canvas', () => {
  // WebGPU here is Chromium's software adapter: real, but slow.
  test.describe.configure({ timeout: 240_000 });
  test('trains the spirals on WebGPU: the loss falls, edges and histograms change, pause/resume, save with weights, reopen, same predictions', async ({ page }) => {
    await openExample(page, /Open example Spirals/);
    // Chosen by name: Auto passes over this software adapter (auto-backend.spec.ts).
    await page.getByLabel('Backend', { exact: true }).selectOption('webgpu');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('backend')).toHaveText(/^on webgpu/, { timeout: 60_000 });
    expect((await run(page)).backend).toBe('webgpu');

    // Instrumentation arrives on the edges: a colour per edge from the gradient through it.
    await expect.poll(async () => Object.keys(await edgeRms(page)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(8);
    const first = await edgeRms(page);
    for (const v of Object.values(first)) expect(v).toBeGreaterThan(0);
    // The edges are drawn in the colour of their gradient (log scale), not the idle grey.
    const strokes = await page.locator('path.gf-edge').evaluateAll((els) => els.filter((e) => !e.classList.contains('loss')).map((e) => getComputedStyle(e).stroke));
    const idle = await page.evaluate(() => {
      const probe = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      probe.setAttribute('class', 'gf-edge');
      document.querySelector('.react-flow svg')!.appendChild(probe);
      const c = getComputedStyle(probe).stroke;
      probe.remove();
      return c;
    });
    expect(strokes.length).toBeGreaterThanOrEqual(8);
    expect(strokes.filter((c) => c !== idle).length).toBeGreaterThanOrEqual(8);
    // Histograms on edges into a Dense layer hold all its weights (fc2 is 32×32).
    const counts = await page.getByRole('img', { name: 'weights histogram of fc2' }).getAttribute('data-counts');
    expect(counts!.split(',').map(Number).reduce((a, b) => a + b, 0)).toBe(32 * 32);

    await expect.poll(async () => (await run(page)).epochs.length, { timeout: 90_000 }).toBeGreaterThanOrEqual(3);
    const s = await run(page);
    expect(s.epochs[s.epochs.length - 1]!.trainLoss).toBeLessThan(s.epochs[0]!.trainLoss);
    expect(s.stepLoss[s.stepLoss.length - 1]!.loss).toBeLessThan(s.stepLoss[0]!.loss);
    const later = await edgeRms(page);
    expect(Object.keys(later).some((k) => later[k] !== first[k])).toBe(true);

    // Structural edits are locked while the run is live.
    await page.locator('[data-node-id="fc1"]').click();
    await page.keyboard.press('Delete');
    await expect(page.getByRole('status').or(page.getByRole('alert'))).toContainText('locked while training');

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByTestId('run-status')).toHaveText('paused');
    // The worker confirms where its loop stopped; Step then takes exactly one batch.
    await expect.poll(async () => (await run(page)).pausedAt).not.toBeNull();
    const pausedAt = (await run(page)).pausedAt!;
    expect((await run(page)).progress!.step).toBe(pausedAt);
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(async () => (await run(page)).pausedAt).toBe(pausedAt + 1);
    expect((await run(page)).progress!.step).toBe(pausedAt + 1);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => (await run(page)).progress!.step, { timeout: 30_000 }).toBeGreaterThan(pausedAt + 1);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByTestId('run-status')).toHaveText(/finished|idle/);

    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect.poll(async () => (await run(page)).evaluation?.loss ?? null, { timeout: 60_000 }).not.toBeNull();
    const before = (await run(page)).evaluation!;

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save with weights' }).click();
    const saved = readFileSync(await (await download).path(), 'utf8');
    const file = JSON.parse(saved) as { weights?: { tensors: Record<string, unknown> }; runs?: unknown[] };
    expect(Object.keys(file.weights!.tensors)).toEqual(expect.arrayContaining(['fc1', 'fc2', 'fc3', 'out']));
    expect(file.runs!.length).toBeGreaterThanOrEqual(1);

    await page.reload();
    await expect(page.getByRole('toolbar', { name: 'Main toolbar' })).toBeVisible();
    // Everything was saved, so there is no unsaved work to recover.
    await expect(page.getByRole('alert', { name: 'Recover unsaved work' })).toHaveCount(0);
    await openFile(page, 'spirals-trained.nngraph', saved);
    await expect(page.getByTestId('progress-text')).toContainText('trained weights loaded');
    await page.getByLabel('Backend', { exact: true }).selectOption('webgpu');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect.poll(async () => (await run(page)).evaluation?.loss ?? null, { timeout: 60_000 }).not.toBeNull();
    const after = (await run(page)).evaluation!;
    expect(after.backend).toBe('webgpu');
    expect(after.loss).toBe(before.loss);
    expect(after.accuracy).toBe(before.accuracy);
    await page.getByRole('tab', { name: 'Decision boundary' }).click();
    await expect(page.getByRole('img', { name: 'Decision boundary' })).toBeVisible();
  });

  test('trains on the WASM fallback when chosen, and says so', async ({ page }) => {
    await openExample(page, /Open example XOR/);
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('backend')).toHaveText(/^on wasm/, { timeout: 60_000 });
    await expect.poll(async () => (await run(page)).epochs.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(10);
    const s = await run(page);
    expect(s.backend).toBe('wasm');
    expect(s.epochs[s.epochs.length - 1]!.trainLoss).toBeLessThan(s.epochs[0]!.trainLoss);
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 60_000 });
    const done = await run(page);
    expect(done.epochs).toHaveLength(60);
    expect(done.epochs[59]!.valLoss!).toBeLessThan(0.2);
  });

  test('a diverging graph stops with the NaN message and highlights the node', async ({ page }) => {
    await page.goto('/');
    const doc = JSON.parse(readFileSync('examples/regression-sin.nngraph', 'utf8')) as { nodes: { id: string; kind: string; params: Record<string, unknown> }[] };
    const opt = doc.nodes.find((n) => n.id === 'optimizer')!;
    opt.kind = 'sgd';
    opt.params = { learningRate: 100, epochs: 50, schedule: 'constant', decayRate: 0.5, decaySteps: 1000, minLearningRate: 0, clip: 'none', clipValue: 1 };
    await openFile(page, 'diverge.nngraph', JSON.stringify(doc));
    await page.getByLabel('Backend', { exact: true }).selectOption('cpu');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Training stopped' })).toContainText(/became (NaN|Infinity|-Infinity)|NaN or Infinity/, { timeout: 60_000 });
    const s = await run(page);
    expect(s.status).toBe('failed');
    expect(s.fault!.message).toMatch(/step \d+/);
    if (s.fault!.nodeId) await expect(page.locator(`[data-node-id="${s.fault!.nodeId}"]`)).toHaveClass(/fault/);
    // The document is untouched and training can start again (e.g. after lowering λ).
    await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeEnabled();
  });
});
