/** Steps several end-to-end specs share: open an example from the dialog, open a file through the file chooser. */
import type { Page } from '@playwright/test';

export async function openExample(page: Page, name: RegExp) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Examples' }).click();
  await page.getByRole('button', { name }).click();
}

export async function openFile(page: Page, name: string, text: string) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await (await chooser).setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}
