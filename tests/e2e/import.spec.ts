import { expect, test, type Page } from '@playwright/test';

const docOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __gradflow: { store: { getState(): { doc: unknown } } } }).__gradflow.store.getState().doc) as Promise<{ nodes: { id: string; kind: string; params: Record<string, unknown> }[] }>;
const runOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __gradflow: { run: { getState(): unknown } } }).__gradflow.run.getState()) as Promise<{ status: string; epochs: { valAccuracy: number | null }[] }>;

async function importFile(page: Page, name: string, text: string) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import data…' }).click();
  await (await chooser).setFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
}

async function wire(page: Page, from: string, fromPort: string, to: string, toPort: string) {
  const a = (await page.getByLabel(`output ${fromPort} of ${from}`, { exact: true }).boundingBox())!;
  const b = (await page.getByLabel(`input ${toPort} of ${to}`, { exact: true }).boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Two well separated classes in two features, with a text label column. */
function separable(rows: number): string {
  const lines = ['height,weight,kind'];
  for (let i = 0; i < rows; i++) {
    const a = i % 2 === 0;
    const jitter = ((i * 37) % 17) / 17 - 0.5;
    lines.push(`${(a ? 1 : 3) + jitter},${(a ? 2 : -1) - jitter},${a ? 'cat' : 'dog'}`);
  }
  return lines.join('\n');
}

test.describe('your own data', () => {
  test('a broken CSV gets a message naming the row, and nothing changes', async ({ page }) => {
    await page.goto('/');
    await importFile(page, 'broken.csv', 'a,b,label\n1,2,x\n3,4\n5,6,y\n');
    await expect(page.getByRole('alert')).toContainText('Could not import broken.csv');
    await expect(page.getByRole('alert')).toContainText(/row 2.*2 cells.*3 columns/);
    expect((await docOf(page)).nodes).toHaveLength(0);
  });

  test('non-numeric cells are pointed out before the dataset is made', async ({ page }) => {
    await page.goto('/');
    await importFile(page, 'cells.csv', 'a,b,label\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n');
    const dialog = page.getByRole('dialog', { name: 'Import data' });
    await dialog.getByLabel('Feature b').check();
    await expect(dialog.getByRole('list', { name: 'Import problems' })).toContainText(/row 2.*'b'.*oops/);
    await expect(dialog.getByRole('button', { name: 'Create dataset' })).toBeDisabled();
  });

  test('a CSV becomes a Table dataset that trains, and travels in the graph file', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example XOR/ }).click();
    await page.locator('[data-node-id="data"]').click();
    await page.keyboard.press('Delete');
    await importFile(page, 'pets.csv', separable(200));
    const dialog = page.getByRole('dialog', { name: 'Import data' });
    await expect(dialog).toContainText('200 rows × 3 columns');
    await expect(dialog.getByLabel('Label column')).toHaveValue('kind');
    await dialog.getByRole('button', { name: 'Create dataset' }).click();
    const table = (await docOf(page)).nodes.find((n) => n.kind === 'tableDataset')!;
    expect(table.params.features).toEqual(['height', 'weight']);
    expect(String(table.params.data)).toContain('height,weight,kind');
    await wire(page, table.id, 'x', 'hidden', 'in');
    await wire(page, table.id, 'y', 'loss', 'target');
    await expect(page.getByRole('region', { name: 'Problems' })).toContainText('0 errors');
    await expect(page.locator(`[data-edge-id="${table.id}.x->hidden.in"]`)).toHaveText('[2]');
    await page.getByLabel('Backend', { exact: true }).selectOption('cpu');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect.poll(async () => (await runOf(page)).epochs.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(15);
    const r = await runOf(page);
    expect(r.epochs[r.epochs.length - 1]!.valAccuracy).toBeGreaterThanOrEqual(0.95);
  });
});
