import { expect, test, type Page } from '@playwright/test';

type Doc = { nodes: { id: string; kind: string; position: { x: number; y: number } }[] };
const docOf = (page: Page) => page.evaluate(() => (window as unknown as { __gradflow: { store: { getState(): { doc: unknown } } } }).__gradflow.store.getState().doc) as Promise<Doc>;
const toolbar = (page: Page) => page.getByRole('toolbar', { name: 'Main toolbar' });

test.describe('undo and redo buttons', () => {
  test('are enabled exactly when there is something to undo or redo, also right after a drag', async ({ page }) => {
    await page.goto('/');
    const undo = toolbar(page).getByRole('button', { name: 'Undo', exact: true });
    const redo = toolbar(page).getByRole('button', { name: 'Redo', exact: true });
    await expect(undo).toBeDisabled();
    await expect(redo).toBeDisabled();

    await page.getByRole('button', { name: 'Dense', exact: true }).dragTo(page.locator('.canvas'), { targetPosition: { x: 200, y: 150 } });
    await expect(undo).toBeEnabled();
    await expect(redo).toBeDisabled();

    await undo.click();
    expect((await docOf(page)).nodes).toHaveLength(0);
    await expect(undo).toBeDisabled();
    await expect(redo).toBeEnabled();
    await redo.click();
    expect((await docOf(page)).nodes).toHaveLength(1);
    await expect(redo).toBeDisabled();

    // A drag is one undo step, and Undo knows about it as soon as the drag ends.
    await undo.click();
    await redo.click();
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+Shift+z');
    await expect(redo).toBeDisabled();
    const node = page.locator('.react-flow__node').first();
    const box = (await node.boundingBox())!;
    const before = (await docOf(page)).nodes[0]!.position;
    await page.mouse.move(box.x + 40, box.y + 12);
    await page.mouse.down();
    await page.mouse.move(box.x + 140, box.y + 92, { steps: 6 });
    await page.mouse.up();
    const after = (await docOf(page)).nodes[0]!.position;
    expect(after).not.toEqual(before);
    await undo.click();
    expect((await docOf(page)).nodes[0]!.position).toEqual(before);
    await expect(redo).toBeEnabled();
  });
});

test.describe('dashboard layout', () => {
  test('the split between canvas and plots can be dragged, is kept across reloads, and the plots can take the whole centre', async ({ page }) => {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.goto('/');
    const dashboard = page.getByRole('region', { name: 'Dashboard' });
    const start = (await dashboard.boundingBox())!;
    const handle = page.getByRole('separator', { name: 'Resize the canvas and the panels below it' });
    const h = (await handle.boundingBox())!;
    await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2);
    await page.mouse.down();
    await page.mouse.move(h.x + h.width / 2, h.y - 200, { steps: 8 });
    await page.mouse.up();
    const taller = (await dashboard.boundingBox())!;
    expect(taller.height).toBeGreaterThan(start.height + 150);

    await page.reload();
    const kept = (await page.getByRole('region', { name: 'Dashboard' }).boundingBox())!;
    expect(Math.abs(kept.height - taller.height)).toBeLessThan(4);

    const chart = page.getByRole('img', { name: 'Loss per step' });
    const chartBefore = (await chart.boundingBox())!;
    await page.getByRole('button', { name: 'Enlarge plots' }).click();
    const large = (await dashboard.boundingBox())!;
    expect(large.height).toBeGreaterThan(800);
    // The curves themselves grow, not only the room around them.
    await expect.poll(async () => (await chart.boundingBox())!.height).toBeGreaterThan(chartBefore.height + 120);
    await expect(page.locator('.react-flow')).toBeHidden();
    await page.getByRole('button', { name: 'Show canvas' }).click();
    await expect(page.locator('.react-flow')).toBeVisible();
    expect(Math.abs((await dashboard.boundingBox())!.height - taller.height)).toBeLessThan(4);
  });
});

/** A field of the inspector, by its label. */
const field = (page: Page, label: string) => page.getByRole('complementary', { name: 'Inspector' }).getByLabel(label, { exact: true });

test.describe('an empty canvas', () => {
  test('offers examples, the step-by-step MNIST MLP, your own data and a file, and is gone once there is a node', async ({ page }) => {
    await page.goto('/');
    const start = page.getByRole('region', { name: 'Start' });
    await expect(start).toBeVisible();
    for (const name of ['Load MNIST MLP', 'More sample graphs…', 'Build the MNIST MLP step by step', 'Use your own data (CSV or JSON)…', 'Open a graph file…']) {
      await expect(start.getByRole('button', { name, exact: true })).toBeVisible();
    }
    await start.getByRole('button', { name: 'Load MNIST MLP' }).click();
    await expect(start).toBeHidden();
    expect((await docOf(page)).nodes.length).toBeGreaterThan(5);
    await toolbar(page).getByRole('button', { name: 'New', exact: true }).click();
    await expect(start).toBeVisible();

    await start.getByRole('button', { name: 'More sample graphs…' }).click();
    await expect(page.getByRole('dialog', { name: 'Examples' })).toBeVisible();
  });

  test('the guide ticks each step when the graph shows it done', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Build the MNIST MLP step by step' }).click();
    const guide = page.getByRole('region', { name: 'Guide: the MNIST MLP step by step' });
    await expect(guide.locator('[aria-current="step"]')).toContainText('Add a Dataset');
    await page.getByRole('button', { name: 'Dataset', exact: true }).dragTo(page.locator('.canvas'), { targetPosition: { x: 120, y: 150 } });
    // The dataset alone is not the step: its source must be MNIST.
    await expect(guide.locator('[aria-current="step"]')).toContainText('Add a Dataset');
    await field(page, 'Source').selectOption('mnist');
    await expect(guide.locator('[aria-current="step"]')).toContainText('Add Flatten');
    await expect(guide.getByLabel('done')).toHaveCount(1);
    await guide.getByRole('button', { name: 'Close the guide' }).click();
    await expect(guide).toBeHidden();
  });
});

test.describe('a clean start', () => {
  test('loads and opens an example without console warnings, with React Flow’s attribution shown', async ({ page }) => {
    const messages: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') messages.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    await page.goto('/');
    await page.getByRole('button', { name: 'Load Spirals with a deep MLP' }).click();
    await expect(page.locator('.react-flow__node')).not.toHaveCount(0);
    await expect(page.locator('.react-flow__attribution a')).toHaveAttribute('href', /reactflow\.dev/);
    await expect(page.locator('.react-flow__attribution')).toBeVisible();
    expect(messages).toEqual([]);
  });
});
