#!/usr/bin/env node
// `npm start`: build Gradflow and open it.
//
//   npm start                        build, then open the desktop app (Electron), or, where
//                                    Electron or a display is missing, serve the same app on
//                                    http://127.0.0.1 and open it in the system browser
//   npm start -- model.nngraph       ... and open a graph (desktop app)
//   GRADFLOW_SKIP_BUILD=1 npm start  start what dist/ already holds
//   GRADFLOW_WEB=1 npm start         the web app even where Electron is installed
//   PORT=8080 npm start              the web app's port (default 4173, the next free one if taken)
//   BROWSER=none npm start           do not open a browser
//
// Which one runs is always said in one line, with how to get the desktop app where it is not.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (lines) => {
  console.error(lines.join('\n'));
  process.exit(1);
};

const electron = findElectronBinary();
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const whyWeb = process.env.GRADFLOW_WEB === '1'
  ? 'GRADFLOW_WEB=1 asks for the web app'
  : !electron.ok
    ? `the desktop app's Electron binary is not installed (${electron.reason}); to get it, run npm run install:electron with network access`
    : noDisplay
      ? 'there is no display for a desktop window (neither DISPLAY nor WAYLAND_DISPLAY is set); in a desktop session, or under xvfb-run -a npm start, you get the desktop app'
      : null;

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const build = (script, output) => {
  if (process.env.GRADFLOW_SKIP_BUILD === '1') {
    if (!existsSync(join(root, output))) fail([`GRADFLOW_SKIP_BUILD=1, but ${output} does not exist: run npm run ${script} first.`]);
    return;
  }
  console.log(`Building Gradflow (npm run ${script})…`);
  const built = spawnSync(npm, ['run', script, '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (built.status !== 0) fail(['The build failed (see above), so the app was not started.']);
};

if (whyWeb) await startWeb(whyWeb);
else startDesktop(electron.path);

async function startWeb(why) {
  build('build:web', join('dist', 'renderer', 'index.html'));
  const { preview } = await import('vite');
  const port = Number(process.env.PORT ?? 4173);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail([`PORT=${process.env.PORT} is not a port number.`]);
  // The project's vite.config.ts serves dist/renderer with the cross-origin isolation headers;
  // its paths are relative to the project folder.
  process.chdir(root);
  const server = await preview({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: false, open: false } });
  const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
  console.log(`Gradflow is running at ${url}`);
  console.log(`This is the web app, not the desktop app, because ${why}.`);
  console.log('Press Ctrl+C to stop.');
  if (process.argv.length > 2) console.log('(Files named on the command line open in the desktop app only: use Open in the web app.)');
  openBrowser(url);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      // Open keep-alive connections would hold close() up; do not wait on them for long.
      setTimeout(() => process.exit(0), 1000).unref();
      void server.close().then(() => process.exit(0));
    });
  }
}

/** Open the system browser where there is one; never fails the start. */
function openBrowser(url) {
  if (process.env.BROWSER === 'none' || noDisplay) return;
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => console.log(`(No browser could be opened: open ${url} yourself.)`));
    child.unref();
  } catch {
    console.log(`(No browser could be opened: open ${url} yourself.)`);
  }
}

function startDesktop(electronPath) {
  build('build', join('dist', 'electron', 'main.cjs'));
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
  console.log('Starting the Gradflow desktop app (Electron).');
  const child = spawn(electronPath, args, { cwd: root, stdio: 'inherit', env });
  child.on('error', (e) => fail([`Could not start Electron (${electronPath}): ${e.message}`]));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}
