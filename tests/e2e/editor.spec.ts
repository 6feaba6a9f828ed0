import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

type Doc = { nodes: { id: string; kind: string; params: Record<string, unknown>; position: { x: number; y: number } }[]; edges: { source: string; sourcePort: string; target: string; targetPort: string }[] };

const docOf = (page: Page) => page.evaluate(() => (window as unknown as { __gradflow: { store: { getState(): { doc: unknown } } } }).__gradflow.store.getState().doc) as Promise<Doc>;

async function dropFromPalette(page: Page, title: string, x: number, y: number): Promise<string> {
  const before = (await docOf(page)).nodes.map((n) => n.id);
  await page.getByRole('button', { name: title, exact: true }).dragTo(page.locator('.canvas'), { targetPosition: { x, y } });
  const after = (await docOf(page)).nodes.map((n) => n.id);
  const added = after.filter((id) => !before.includes(id));
  expect(added, `dropping ${title} adds one node`).toHaveLength(1);
  return added[0]!;
}

async function wire(page: Page, from: string, fromPort: string, to: string, toPort: string) {
  const a = page.getByLabel(`output ${fromPort} of ${from}`, { exact: true });
  const b = page.getByLabel(`input ${toPort} of ${to}`, { exact: true });
  const ba = (await a.boundingBox())!;
  const bb = (await b.boundingBox())!;
  await page.mouse.move(ba.x + ba.width / 2, ba.y + ba.height / 2);
  await page.mouse.down();
  await page.mouse.move((ba.x + bb.x) / 2, (ba.y + bb.y) / 2, { steps: 5 });
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2, { steps: 5 });
  await page.mouse.up();
}

/** A field of the inspector, by its label. */
const field = (page: Page, label: string) => page.getByRole('complementary', { name: 'Inspector' }).getByLabel(label, { exact: true });

const edgeLabel = (page: Page, source: string, sourcePort: string, target: string, targetPort: string) =>
  page.locator(`[data-edge-id="${source}.${sourcePort}->${target}.${targetPort}"]`);

test.describe('building a network by drag and drop', () => {
  test('builds the MNIST MLP, points out a mistake, undoes, saves and reopens it unchanged', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByRole('region', { name: 'Problems' })).toContainText('Drag nodes from the palette');

    const data = await dropFromPalette(page, 'Dataset', 120, 150);
    await field(page, 'Source').selectOption('mnist');
    await field(page, 'Samples').fill('10000');
    await field(page, 'Samples').press('Enter');
    const flatten = await dropFromPalette(page, 'Flatten', 340, 150);
    const fc1 = await dropFromPalette(page, 'Dense', 540, 150);
    await field(page, 'Units').fill('256');
    await field(page, 'Units').press('Enter');
    const relu = await dropFromPalette(page, 'ReLU', 740, 150);
    const fc2 = await dropFromPalette(page, 'Dense', 120, 330);
    await field(page, 'Units').fill('128');
    await field(page, 'Units').press('Enter');
    const relu2 = await dropFromPalette(page, 'ReLU', 340, 330);
    const fc3 = await dropFromPalette(page, 'Dense', 120, 480);
    await field(page, 'Units').fill('10');
    await field(page, 'Units').press('Enter');
    const loss = await dropFromPalette(page, 'Softmax cross-entropy', 340, 480);
    const adam = await dropFromPalette(page, 'Adam', 560, 480);

    // A mistake first: the 28×28 images straight into a Dense layer.
    await wire(page, data, 'x', fc1, 'in');
    await expect(page.getByRole('region', { name: 'Problems' })).toContainText(`Dense '${fc1}' needs a flat input but gets [28, 28]: add a Flatten before it`);
    await expect(page.locator(`[data-node-id="${fc1}"] .badge-error`)).toBeVisible();
    // Fix it: undo the wire, go through Flatten.
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await docOf(page)).edges.length).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await docOf(page)).edges.length).toBe(1);
    await page.keyboard.press('Control+z');

    await wire(page, data, 'x', flatten, 'in');
    await wire(page, flatten, 'out', fc1, 'in');
    await wire(page, fc1, 'out', relu, 'in');
    await wire(page, relu, 'out', fc2, 'in');
    await wire(page, fc2, 'out', relu2, 'in');
    await wire(page, relu2, 'out', fc3, 'in');
    await wire(page, fc3, 'out', loss, 'pred');
    await wire(page, data, 'y', loss, 'target');
    await wire(page, loss, 'loss', adam, 'loss');

    // Shapes on the edges.
    await expect(edgeLabel(page, data, 'x', flatten, 'in')).toHaveText('[28, 28]');
    await expect(edgeLabel(page, flatten, 'out', fc1, 'in')).toHaveText('[784]');
    await expect(edgeLabel(page, fc1, 'out', relu, 'in')).toHaveText('[256]');
    await expect(edgeLabel(page, relu2, 'out', fc3, 'in')).toHaveText('[128]');
    await expect(edgeLabel(page, data, 'y', loss, 'target')).toHaveText('[10]');
    await expect(page.getByRole('region', { name: 'Problems' })).toContainText('0 errors, 0 warnings');
    await expect(page.getByLabel('Parameter count')).toHaveText('235,146 parameters');

    // A wrong wire is refused with the reason.
    await wire(page, loss, 'loss', fc2, 'in');
    await expect(page.getByRole('alert')).toContainText('Cannot connect');

    // Save, then reopen the downloaded file.
    const download = page.waitForEvent('download');
    await page.keyboard.press('Control+s');
    const file = await (await download).path();
    const saved = readFileSync(file, 'utf8');
    const savedDoc = JSON.parse(saved) as Doc;
    expect(savedDoc.nodes).toHaveLength(9);
    await expect(page.getByLabel('Document title')).not.toContainText('●');

    await page.getByRole('button', { name: 'New' }).click();
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(0);
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await (await chooser).setFiles({ name: 'mnist.nngraph', mimeType: 'application/json', buffer: Buffer.from(saved) });
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(9);
    const reopened = await docOf(page);
    expect(JSON.parse(JSON.stringify(reopened))).toEqual(savedDoc);
    await expect(page.getByLabel('Parameter count')).toHaveText('235,146 parameters');
  });

  test('quick-add places a node from the keyboard search, and a wire dropped on the canvas offers fitting kinds', async ({ page }) => {
    await page.goto('/');
    const pane = page.locator('.react-flow__pane');
    await pane.dblclick({ position: { x: 300, y: 300 } });
    await page.getByLabel('Search node kinds').fill('relu');
    await page.getByLabel('Search node kinds').press('Enter');
    await expect.poll(async () => (await docOf(page)).nodes.map((n) => n.kind)).toEqual(['relu']);
    // Drag from the ReLU's output to empty canvas.
    const out = page.getByLabel('output out of relu1', { exact: true });
    const box = (await out.boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + 5);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + 150, { steps: 8 });
    await page.mouse.up();
    await expect(page.getByRole('listbox', { name: 'Node kinds' })).toBeVisible();
    await expect(page.getByRole('option', { name: /Adam/ })).toHaveCount(0); // optimizers take a loss, not a tensor
    await page.getByLabel('Search node kinds').fill('dense');
    await page.getByLabel('Search node kinds').press('Enter');
    await expect.poll(async () => (await docOf(page)).edges.map((e) => `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`)).toEqual(['relu1.out->dense1.in']);
  });

  test('copy, paste, duplicate, select all and delete with the keyboard', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example XOR/ }).click();
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(6);
    await page.locator('[data-node-id="hidden"]').click();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(7);
    await page.keyboard.press('Control+d');
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(8);
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(7);
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(7);
  });

  test('editing a parameter in the inspector validates it and updates shapes at once', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example MNIST MLP$/ }).click();
    await page.locator('[data-node-id="fc1"]').click();
    await field(page, 'Units').fill('-3');
    await expect(page.getByRole('alert').filter({ hasText: 'Units: expected a whole number' })).toBeVisible();
    await field(page, 'Units').fill('100');
    await field(page, 'Units').press('Enter');
    await expect(edgeLabel(page, 'fc1', 'out', 'relu1', 'in')).toHaveText('[100]');
    await expect(page.getByLabel('Parameter count')).toHaveText(`${(784 * 100 + 100 + 100 * 128 + 128 + 1290).toLocaleString('en-US')} parameters`);
  });

  test('asks before discarding unsaved changes', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Dataset', exact: true }).click();
    await page.getByRole('button', { name: 'New' }).click();
    const dialog = page.getByRole('dialog', { name: 'Unsaved changes' });
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await docOf(page)).nodes).toHaveLength(1);
    await page.getByRole('button', { name: 'New' }).click();
    await dialog.getByRole('button', { name: 'Don’t save' }).click();
    await expect.poll(async () => (await docOf(page)).nodes.length).toBe(0);
  });

  test('offers unsaved work back after a crash', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Dense', exact: true }).click();
    await expect.poll(() => page.evaluate(() => localStorage.getItem('gradflow.autosave.v1') !== null)).toBe(true);
    await page.reload(); // as after a crash: the page comes back with nothing open
    await page.getByRole('alert', { name: 'Recover unsaved work' }).getByRole('button', { name: 'Restore' }).click();
    await expect.poll(async () => (await docOf(page)).nodes.map((n) => n.kind)).toEqual(['dense']);
  });
});

const damaged: [string, string | Buffer, RegExp][] = [
  ['not JSON', 'hello, I am not a graph', /not valid JSON/],
  ['truncated JSON', '{"format": "gradflow-graph", "version": 1, "nodes": [', /truncated|ends in the middle/],
  ['an empty file', '', /empty/],
  ['binary data', Buffer.from([0, 1, 2, 3, 255, 254, 0, 0]), /binary/],
  ['a newer version', JSON.stringify({ format: 'gradflow-graph', version: 9, metadata: { appVersion: '9.0.0' } }), /format version 9.*Update Gradflow/],
  ['a NaN', '{"format":"gradflow-graph","version":1,"x":NaN}', /NaN is not a valid number/],
];

test.describe('opening damaged files', () => {
  for (const [what, content, message] of damaged) {
    test(`shows a clear message for ${what} and keeps the open graph`, async ({ page }) => {
      await page.goto('/');
      await page.getByRole('button', { name: 'Examples' }).click();
      await page.getByRole('button', { name: /Open example XOR/ }).click();
      await expect.poll(async () => (await docOf(page)).nodes.length).toBe(6);
      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      await (await chooser).setFiles({ name: 'broken.nngraph', mimeType: 'application/json', buffer: typeof content === 'string' ? Buffer.from(content) : content });
      await expect(page.getByRole('alert')).toContainText('Could not open broken.nngraph');
      await expect(page.getByRole('alert')).toContainText(message);
      expect((await docOf(page)).nodes).toHaveLength(6);
      await expect(page.getByLabel('Document title')).toContainText('xor.nngraph');
    });
  }
});
