import { expect, test } from '@playwright/test';

test.describe('convolutional networks on the canvas', () => {
  test.describe.configure({ timeout: 240_000 });
  test('the LeNet example shows its shapes, trains on WASM, and its Conv2D nodes show filters and the feature maps of a chosen example', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example LeNet-5 CNN on MNIST/ }).click();
    // Shapes on the canvas: the Reshape gives the digits their channel axis.
    await expect(page.locator('[data-node-id="conv1"]')).toBeVisible();
    await expect(page.getByText('[28, 28, 16]').first()).toBeVisible();

    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('backend')).toHaveText(/^on wasm/, { timeout: 60_000 });

    const conv1 = page.getByTestId('conv-maps-conv1');
    await expect(conv1).toBeVisible({ timeout: 120_000 });
    await expect(conv1.getByRole('img', { name: 'Filters of conv1' })).toBeVisible();
    await expect(conv1).toContainText('16 filters 5×5');
    await expect(page.getByTestId('conv-maps-conv2')).toContainText('32 filters 5×5 (input channel 1 of 16)');

    await conv1.getByRole('button', { name: 'Feature maps' }).click();
    await expect(conv1.getByRole('img', { name: 'Feature maps of conv1 for validation example 0' })).toBeVisible();
    await conv1.getByLabel('Validation example shown').fill('3');
    await expect(conv1.getByRole('img', { name: 'Feature maps of conv1 for validation example 3' })).toBeVisible({ timeout: 30_000 });
    // The maps are drawn: the canvas has the size of 6 maps in one row.
    const width = await conv1.getByRole('img', { name: /Feature maps of conv1/ }).evaluate((c) => (c as HTMLCanvasElement).width);
    expect(width).toBeGreaterThan(100);

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByTestId('run-status')).not.toHaveText(/running|starting/, { timeout: 60_000 });
  });
});
