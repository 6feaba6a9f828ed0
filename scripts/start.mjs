#!/usr/bin/env node
// `npm start`: build Gradflow and launch the desktop app (Electron).
//
//   npm start                      build (renderer + main process), then open the app
//   npm start -- model.nngraph     ... and open a graph
//   GRADFLOW_SKIP_BUILD=1 npm start  launch what dist/ already holds
//
// Without the Electron binary this stops with what to do, rather than quietly serving the
// browser version instead: the two differ (native files, menus, recent files), and a
// developer should know which one is running. `npm run web` runs the browser version.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary, missingElectronHelp } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (lines) => {
  console.error(lines.join('\n'));
  process.exit(1);
};

const electron = findElectronBinary();
if (!electron.ok) fail(missingElectronHelp(electron.reason));

if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  fail([
    'Gradflow cannot open a window: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set).',
    'Start it from a desktop session, or inside a virtual display: xvfb-run -a npm start',
    'The same editor also runs in a browser: npm run web',
  ]);
}

if (process.env.GRADFLOW_SKIP_BUILD !== '1') {
  console.log('Building Gradflow (npm run build)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const built = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (built.status !== 0) fail(['The build failed (see above), so the app was not started.']);
} else if (!existsSync(join(root, 'dist', 'electron', 'main.cjs'))) {
  fail(['GRADFLOW_SKIP_BUILD=1, but dist/electron/main.cjs does not exist: run npm run build first.']);
}

// npm runs scripts in the project folder; files named on the command line are relative to
// where the user typed the command.
const userCwd = process.env.INIT_CWD ?? process.cwd();
const files = process.argv.slice(2).map((a) => (a.startsWith('-') ? a : resolve(userCwd, a)));
const args = [root, ...files];
// Chromium refuses to run as root with its sandbox on. Only this development launcher turns
// it off, and says so; installed builds are never run this way.
if (process.platform === 'linux' && process.getuid?.() === 0) {
  console.warn('Running as root: starting Electron with --no-sandbox (never do this with untrusted content).');
  args.unshift('--no-sandbox');
}

const env = { ...process.env };
// Set by some tools; it would make the binary run as plain Node instead of the app.
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(electron.path, args, { cwd: root, stdio: 'inherit', env });
child.on('error', (e) => fail([`Could not start Electron (${electron.path}): ${e.message}`]));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
