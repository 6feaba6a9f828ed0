import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { havePython, python } from '../unit/helpers/python.ts';

const docOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __gradflow: { store: { getState(): { doc: unknown } } } }).__gradflow.store.getState().doc) as Promise<{
    nodes: { id: string; kind: string; label?: string }[];
    weights?: { backend: string };
  }>;

async function openXor(page: Page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Examples' }).click();
  await page.getByRole('button', { name: /Open example XOR/ }).click();
}

test.describe('the model in and out of the app', () => {
  test('exports the graph as ONNX and imports that file back as a new graph', async ({ page }) => {
    await openXor(page);
    await page.getByRole('button', { name: 'Model…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export or import a model' });
    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Export ONNX…' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.onnx$/);
    const bytes = await (await file.createReadStream()).toArray();
    const onnx = Buffer.concat(bytes);
    await expect(page.getByRole('status').or(page.getByRole('alert')).first()).toContainText(/Exported the ONNX model/);

    await page.getByRole('button', { name: 'Model…' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('dialog', { name: 'Export or import a model' }).getByRole('button', { name: 'Import ONNX model…' }).click();
    await (await chooser).setFiles({ name: 'xor.onnx', mimeType: 'application/octet-stream', buffer: onnx });
    await expect.poll(async () => (await docOf(page)).nodes.map((n) => n.kind)).toEqual(['input', 'dense', 'tanh', 'dense']);
    expect((await docOf(page)).weights?.backend).toBe('onnx');
  });

  test('exports a TensorFlow.js LayersModel (.zip) and imports it back as a new graph', async ({ page }) => {
    await openXor(page);
    await page.getByRole('button', { name: 'Model…' }).click();
    const download = page.waitForEvent('download');
    await page.getByRole('dialog', { name: 'Export or import a model' }).getByRole('button', { name: 'Export TensorFlow.js…' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/-tfjs\.zip$/);
    const zip = Buffer.concat(await (await file.createReadStream()).toArray());
    await expect(page.getByRole('status').or(page.getByRole('alert')).first()).toContainText(/Exported the TensorFlow\.js model/);

    await page.getByRole('button', { name: 'Model…' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('dialog', { name: 'Export or import a model' }).getByRole('button', { name: 'Import TensorFlow.js model…' }).click();
    await (await chooser).setFiles({ name: file.suggestedFilename(), mimeType: 'application/zip', buffer: zip });
    await expect.poll(async () => (await docOf(page)).nodes.map((n) => n.kind)).toEqual(['input', 'dense', 'tanh', 'dense']);
    expect((await docOf(page)).weights?.backend).toBe('tfjs');
  });

  test('exports the LeNet CNN as a PyTorch project with its digits, and the project runs', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example LeNet-5 CNN on MNIST/ }).click();
    await page.getByRole('button', { name: 'Model…' }).click();
    const download = page.waitForEvent('download');
    await page.getByRole('dialog', { name: 'Export or import a model' }).getByRole('button', { name: 'Export PyTorch project…' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/-pytorch\.zip$/);
    await expect(page.getByRole('status').or(page.getByRole('alert')).first()).toContainText(/Exported the PyTorch project/);
    const zip = Buffer.concat(await (await file.createReadStream()).toArray());
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-e2e-pt-'));
    writeFileSync(join(dir, 'project.zip'), zip);
    test.skip(!havePython(), 'no /usr/bin/python3 with torch here');
    python(['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', join(dir, 'project.zip'), dir]);
    const project = join(dir, file.suggestedFilename().replace(/\.zip$/, ''));
    const model = python(['-c', 'import model; print(model.GradflowModel())'], { cwd: project });
    expect(model).toMatch(/Conv2D\(1, 16, kernel_size=\(5, 5\)/);
    // The 2,000 held-out digits travel in data.npz: the untrained network scores about chance on them.
    expect(python(['train.py', '--evaluate'], { cwd: project })).toMatch(/validation accuracy \d+\.\d% \(initial weights\)/);
  });

  test('weights that do not fit the graph are refused with the reason, and nothing changes', async ({ page }) => {
    await openXor(page);
    await page.getByRole('button', { name: 'Model…' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Import weights (.npz)…' }).click();
    await (await chooser).setFiles({ name: 'w.npz', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
    await expect(page.getByRole('dialog', { name: 'Export or import a model' }).getByRole('alert')).toContainText('w.npz is not a .npz (zip) file');
    expect((await docOf(page)).weights).toBeUndefined();
  });
});
