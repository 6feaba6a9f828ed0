import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openExample, openFile } from './helpers.ts';

test.describe('the BatchNorm experiment in the app', () => {
  test('opens the BatchNorm example, runs a short comparison from the Experiments panel, sees the three kinds of plots, saves and reopens them', async ({ page }) => {
    test.setTimeout(300_000);
    await openExample(page, /Open example BatchNorm experiment/);
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    const panel = page.getByRole('region', { name: 'Experiments' });
    await panel.getByLabel('Experiment', { exact: true }).selectOption('batchnorm');
    await panel.getByLabel('+LayerNorm', { exact: true }).check();
    for (const [label, value] of [['Steps', '8'], ['Probe every', '4'], ['Probe batch', '64'], ['Step sizes', '2'], ['Sweep rates', '2'], ['Sweep steps', '4']]) await panel.getByLabel(label!, { exact: true }).fill(value!);
    await panel.getByRole('button', { name: 'Run batchnorm: ics vs smoothness' }).click();

    const result = panel.getByRole('article', { name: 'BatchNorm: ICS vs smoothness result' });
    await expect(result).toBeVisible({ timeout: 240_000 });
    await expect(result).toContainText('Steps 8');
    // The paper's three kinds of plots: distributions, ICS, smoothness (and curvature, training, the sweep).
    for (const arm of ['standard', 'batchNorm', 'noisy', 'layerNorm']) await expect(result.getByTestId(`bn-distribution-${arm}`)).toBeVisible();
    await expect(result.getByRole('img', { name: 'Loss landscape: L(W − η∇L)' })).toBeVisible();
    await expect(result.getByRole('img', { name: 'Gradient predictiveness' })).toBeVisible();
    const beta = result.getByRole('img', { name: 'Effective β-smoothness' });
    await expect(beta).toBeVisible();
    await expect(result.getByRole('img', { name: 'Curvature along the gradient gᵀHg / gᵀg' })).toBeVisible();
    await expect(result.getByRole('img', { name: 'Learning-rate sweep: final training loss' })).toBeVisible();
    // One line per arm with a point per probe (steps 0, 4, 8), and a min–max band behind it.
    for (const arm of ['standard', 'batchNorm', 'noisy', 'layerNorm']) {
      const points = await beta.locator(`[data-series="${arm}"] polyline`).getAttribute('points');
      expect(points!.trim().split(' ')).toHaveLength(3);
      await expect(beta.locator(`[data-series="${arm}"] polygon`)).toHaveCount(1);
    }
    // ICS of a layer chosen in the view: the first one has nothing below it, so ‖G − G′‖ is 0 there.
    await result.getByLabel('ICS layer').selectOption('fc3');
    await expect(result.getByRole('img', { name: 'cos(G, G′) of fc3' })).toBeVisible();
    await expect(result.getByRole('table', { name: 'Arms compared' }).getByRole('row')).toHaveCount(5);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const saved = readFileSync(await (await download).path(), 'utf8');
    const file = JSON.parse(saved) as { experiments: { results: { experiment: string; backend: string; data: { arms: { arm: string; beta: { max: number[] }; ics: { layers: string[] } }[] } }[] } };
    const r = file.experiments.results[0]!;
    expect(r).toMatchObject({ experiment: 'batchnorm', backend: 'wasm' });
    expect(r.data.arms.map((a) => a.arm)).toEqual(['standard', 'batchNorm', 'noisy', 'layerNorm']);
    expect(r.data.arms[0]!.ics.layers).toEqual(['fc1', 'fc2', 'fc3', 'fc4', 'fc5', 'out']);
    expect(r.data.arms[1]!.beta.max).toHaveLength(3);

    await page.reload();
    await openFile(page, 'bn-experiment.nngraph', saved);
    const reopened = page.getByRole('region', { name: 'Experiments' }).getByRole('article', { name: 'BatchNorm: ICS vs smoothness result' });
    await expect(reopened.getByRole('img', { name: 'Effective β-smoothness' })).toBeVisible();
    await expect(reopened.getByTestId('bn-distribution-noisy')).toBeVisible();
  });
});
