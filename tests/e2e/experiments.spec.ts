import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openExample, openFile } from './helpers.ts';

/** How many distinct colours a canvas shows: a blank or one-colour canvas draws nothing. */
const colours = (page: Page, name: string) =>
  page.getByRole('img', { name }).evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 16) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    return seen.size;
  });

test.describe('experiments from the app', () => {
  test.describe.configure({ timeout: 240_000 });
  test('trains XOR, runs a 2-D loss landscape in the worker, sees the contour and the rotatable 3-D view, saves and reopens with the result', async ({ page }) => {
    await openExample(page, /Open example XOR/);
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });

    const panel = page.getByRole('region', { name: 'Experiments' });
    await expect(panel.getByLabel('Experiment', { exact: true })).toHaveValue('landscape');
    await expect(panel.getByText(/On the trained weights \(step \d+\)/)).toBeVisible();
    // Settings are checked like node parameters.
    await panel.getByLabel('Grid', { exact: true }).fill('99');
    await expect(panel.getByRole('alert')).toContainText('Grid: expected a whole number from 3 to 51, got 99');
    await panel.getByLabel('Grid', { exact: true }).fill('9');
    await panel.getByLabel('Samples', { exact: true }).fill('200');
    await panel.getByRole('button', { name: 'Run loss landscape' }).click();

    const result = panel.getByRole('article', { name: 'Loss landscape result' });
    await expect(result).toBeVisible({ timeout: 120_000 });
    await expect(result).toContainText('Grid 9');
    await expect(result).toContainText('Samples 200');
    await expect(result).toContainText(/wasm · seed 1 · weights of step \d+/);
    const contour = 'Loss landscape: contour map';
    const surface = 'Loss landscape: 3-D surface';
    await expect(result.getByRole('img', { name: contour })).toBeVisible();
    await expect(result.getByRole('img', { name: surface })).toBeVisible();
    expect(await colours(page, contour)).toBeGreaterThan(20);
    expect(await colours(page, surface)).toBeGreaterThan(20);

    // Expanded, the panel lies over the canvas with room for the plots; dragging rotates the 3-D view.
    await panel.getByRole('button', { name: 'Expand' }).click();
    const canvas = result.getByRole('img', { name: surface });
    await canvas.scrollIntoViewIfNeeded();
    const yaw = await canvas.getAttribute('data-yaw');
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect(canvas).not.toHaveAttribute('data-yaw', yaw!);
    // The accuracy layer and the log scale redraw the same grid.
    await result.getByLabel('Layer').selectOption('accuracy');
    await result.getByLabel('Log scale').check();
    expect(await colours(page, contour)).toBeGreaterThan(5);

    // Sharp vs flat: the same network with a small and a full batch, side by side.
    await panel.getByLabel('Experiment', { exact: true }).selectOption('sharpVsFlat');
    for (const [label, value] of [['Epochs', '3'], ['Points', '5'], ['Samples', '100'], ['λmax iterations', '5'], ['Weight decay', '0']]) await panel.getByLabel(label!, { exact: true }).fill(value!);
    await panel.getByRole('button', { name: 'Run sharp vs flat' }).click();
    const compared = panel.getByRole('article', { name: 'Sharp vs flat result' }).getByRole('table', { name: 'Minima compared' });
    await expect(compared).toBeVisible({ timeout: 120_000 });
    await expect(compared.getByRole('row')).toHaveCount(3);
    await expect(compared).toContainText('batch 16');
    await expect(compared).toContainText('batch full');
    expect(await colours(page, 'Sharp vs flat: 1-D curves')).toBeGreaterThan(3);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save with weights' }).click();
    const saved = readFileSync(await (await download).path(), 'utf8');
    const file = JSON.parse(saved) as { experiments?: { version: number; results: { experiment: string; backend: string; seed: number; settings: { grid: number }; data: { loss: number[] } }[] } };
    expect(file.experiments!.version).toBe(1);
    expect(file.experiments!.results.map((x) => x.experiment)).toEqual(['landscape', 'sharpVsFlat']);
    const r = file.experiments!.results[0]!;
    expect(r).toMatchObject({ experiment: 'landscape', backend: 'wasm', seed: 1, settings: { grid: 9 } });
    expect(r.data.loss).toHaveLength(81);

    await page.reload();
    await openFile(page, 'xor-landscape.nngraph', saved);
    const reopened = page.getByRole('region', { name: 'Experiments' }).getByRole('article', { name: 'Loss landscape result' });
    await expect(reopened).toBeVisible();
    await expect(reopened.getByRole('img', { name: contour })).toBeVisible();
    expect(await colours(page, contour)).toBeGreaterThan(20);
    // Run again repeats it with the same settings and seed: the same picture.
    await reopened.getByRole('button', { name: 'Run again' }).click();
    await expect(page.getByRole('region', { name: 'Experiments' }).getByRole('article', { name: 'Loss landscape result' })).toHaveCount(2, { timeout: 120_000 });
  });
});
