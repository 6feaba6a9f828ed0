import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

async function openFile(page: Page, name: string, text: string) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await (await chooser).setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

/** The LeNet-300-100 example with a mask on fc1 that keeps, for every unit, the central 14 × 14 pixels. */
function lenetWithMask(): string {
  const doc = JSON.parse(readFileSync('examples/mnist-lenet-300-100.nngraph', 'utf8')) as Record<string, unknown>;
  const units = 300;
  const bits = new Uint8Array(784 * units);
  for (let i = 0; i < 784; i++) {
    const [row, col] = [Math.floor(i / 28), i % 28];
    if (row >= 7 && row < 21 && col >= 7 && col < 21) bits.fill(1, i * units, (i + 1) * units);
  }
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => b && (bytes[i >> 3]! |= 1 << (i & 7)));
  doc.masks = { fc1: { kernel: { shape: [784, units], kept: 196 * units, data: Buffer.from(bytes).toString('base64') } } };
  return JSON.stringify(doc);
}

test.describe('lottery tickets in the app', () => {
  test('a pruned layer shows its sparsity on the node and its edge, what pruning saves, and its 28 × 28 masks', async ({ page }) => {
    await page.goto('/');
    await openFile(page, 'lenet-pruned.nngraph', lenetWithMask());
    const fc1 = page.locator('[data-node-id="fc1"]');
    await expect(fc1.locator('.gf-node-sparsity')).toHaveText('25.0 % of weights remain');
    await expect(page.locator('[data-edge-id="flatten.out->fc1.in"] .remaining')).toHaveText('25.0 %');
    // Unpruned layers show nothing.
    await expect(page.locator('[data-node-id="fc2"] .gf-node-sparsity')).toHaveCount(0);
    // The graph's savings, then the layer's, with its masks drawn unit by unit.
    const inspector = page.getByRole('complementary', { name: 'Inspector' });
    await expect(inspector.getByRole('table', { name: 'What pruning saves in the graph' })).toContainText('266,610');
    await fc1.click();
    const saves = inspector.getByRole('table', { name: 'What pruning saves in fc1' });
    await expect(saves).toContainText('25.0 % of the prunable weights remain');
    await expect(saves.getByTestId('savings-parameters')).toHaveText((196 * 300 + 300).toLocaleString('en-US'));
    const masks = 'pruning masks of 100 units of fc1, 28 × 28 each';
    await expect(inspector.getByRole('img', { name: masks })).toBeVisible();
    // White where a connection is kept: the central 14 × 14 pixels of each of the 100 units drawn.
    const white = await inspector.getByRole('img', { name: masks }).evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 3] === 255) n++;
      return n;
    });
    expect(white).toBe(196 * 100);
  });


  test('runs two rounds with both controls from the Experiments panel, draws the plots, and applies the ticket to the canvas', async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example XOR/ }).click();
    const panel = page.getByRole('region', { name: 'Experiments' });
    await panel.getByLabel('Experiment', { exact: true }).selectOption('lottery');
    await panel.getByLabel('Rounds', { exact: true }).fill('2');
    await panel.getByLabel('Controls', { exact: true }).check();
    await panel.getByLabel('Epochs per round', { exact: true }).fill('3');
    await panel.getByRole('button', { name: 'Run lottery tickets' }).click();
    const result = panel.getByRole('article', { name: 'Lottery tickets result' });
    await expect(result).toBeVisible({ timeout: 240_000 });
    const accuracy = result.getByRole('img', { name: 'Test accuracy at early stopping vs weights remaining' });
    await expect(accuracy).toBeVisible();
    await expect(result.getByRole('img', { name: 'Early-stopping iteration vs weights remaining' })).toBeVisible();
    await expect(result.getByRole('img', { name: 'Test accuracy of the winning tickets as training proceeds' })).toBeVisible();
    // The dense network and two rounds for the ticket; two rounds (after the shared dense start) for each control.
    for (const arm of ['ticket', 'randomReinit', 'randomPruning']) await expect(accuracy.locator(`[data-arm="${arm}"] circle`)).toHaveCount(3);
    // Overall P_m after two rounds: the hidden kernel (2×8) keeps 16 → 12 → 9 (⌈20 %⌉ pruned a
    // round), the output kernel (8×2, half the rate) 16 → 14 → 12; (9 + 12) / 32 = 65.6 %.
    await expect(result.getByRole('table', { name: 'Lottery-ticket rounds' })).toContainText('65.6 %');
    await result.getByRole('button', { name: 'Apply to the graph' }).click();
    await expect(page.locator('[data-node-id="hidden"] .gf-node-sparsity')).toHaveText('56.3 % of weights remain');
  });
});
