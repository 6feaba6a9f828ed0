/**
 * The theme: System follows the operating system's light or dark preference; Light and Dark
 * override it, native controls included (their color-scheme).
 */
import { expect, test, type Page } from '@playwright/test';

const rootColours = (page: Page) =>
  page.evaluate(() => {
    const s = getComputedStyle(document.documentElement);
    return { background: s.backgroundColor, text: s.color, scheme: s.colorScheme };
  });

const LIGHT = { background: 'rgb(246, 247, 249)', text: 'rgb(28, 34, 48)' };
const DARK = { background: 'rgb(21, 24, 30)', text: 'rgb(228, 232, 239)' };
const SYSTEM = { scheme: 'light dark' };

test.describe('theme', () => {
  for (const system of ['light', 'dark'] as const) {
    test(`on a ${system} system, System follows it and Light and Dark override it`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: system });
      await page.goto('/');
      const theme = page.getByRole('toolbar', { name: 'Main toolbar' }).getByLabel('Theme');
      await expect(theme).toHaveValue('system');
      await expect.poll(() => rootColours(page)).toEqual({ ...(system === 'dark' ? DARK : LIGHT), ...SYSTEM });
      await theme.selectOption('dark');
      await expect.poll(() => rootColours(page)).toEqual({ ...DARK, scheme: 'dark' });
      await theme.selectOption('light');
      await expect.poll(() => rootColours(page)).toEqual({ ...LIGHT, scheme: 'light' });
      await theme.selectOption('system');
      await expect.poll(() => rootColours(page)).toEqual({ ...(system === 'dark' ? DARK : LIGHT), ...SYSTEM });
    });
  }
});
