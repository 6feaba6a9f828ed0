/**
 * `npm start` where the desktop app cannot run (no Electron binary, as on this project's
 * machines): it serves the same app on 127.0.0.1, prints the URL and says why it is not the
 * desktop app. Starts scripts/start.mjs on what `npm run build` left in dist/.
 */
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
// Next to the port the other end-to-end tests use, so checkouts side by side do not collide.
const port = Number(process.env.GRADFLOW_E2E_PORT ?? 4173) + 1000;

let child: ChildProcess | null = null;
test.afterEach(() => {
  child?.kill('SIGTERM');
  child = null;
});

test('npm start without Electron serves the web app on 127.0.0.1 and says why', async ({ page }) => {
  child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    // No binary at this path: Electron counts as not installed, whatever this machine has.
    env: { ...process.env, GRADFLOW_SKIP_BUILD: '1', ELECTRON_OVERRIDE_DIST_PATH: resolve(root, 'no-electron-here'), PORT: String(port), BROWSER: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  await expect.poll(() => out, { timeout: 60_000 }).toMatch(/Gradflow is running at (http:\/\/127\.0\.0\.1:\d+\/)/);
  expect(out).toMatch(/This is the web app, not the desktop app, because the desktop app's Electron binary is not installed .*npm run install:electron/);
  const url = /Gradflow is running at (\S+)/.exec(out)![1]!;
  await page.goto(url);
  await expect(page.getByRole('toolbar', { name: 'Main toolbar' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Start' })).toBeVisible();
});
