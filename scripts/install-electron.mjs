#!/usr/bin/env node
// Fetch Electron's binary, tolerating a failed download.
//
//   npm install                   runs this as our postinstall: a missing binary is reported
//                                 in a few lines and the install still succeeds (npm start
//                                 then serves the web app and says why);
//   npm run install:electron      the same, but fails when the binary cannot be had.
//
// Electron's own install script is not allowed in package.json ("allowScripts"), because
// npm stops the whole install when that script fails, e.g. on a machine that reaches the
// npm registry but not Electron's download server. Its script is run here instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { findElectronBinary } from './electron-binary.mjs';

const required = process.argv.includes('--required');
const require = createRequire(import.meta.url);
const say = (lines) => console.log(lines.map((l) => `gradflow: ${l}`).join('\n'));
const giveUp = (why) => {
  say([
    `the desktop app's Electron binary is not installed: ${why}.`,
    'npm start will serve the same app in your browser instead. For the desktop app, later run (with network access):',
    '  npm run install:electron',
  ]);
  process.exit(required ? 1 : 0);
};

if (findElectronBinary().ok) process.exit(0);

let installScript;
try {
  installScript = require.resolve('electron/install.js');
} catch {
  giveUp('the electron package is not in node_modules');
}
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD !== '0') {
  giveUp('ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not downloaded');
}

// Ten minutes is plenty for a slow connection; a machine without access fails in seconds.
const r = spawnSync(process.execPath, [installScript], { cwd: dirname(installScript), encoding: 'utf8', timeout: 600_000 });
if (r.status === 0 && findElectronBinary().ok) {
  say(['Electron installed: npm start opens the desktop app.']);
  process.exit(0);
}
// The download error's first line says enough ("getaddrinfo ENOTFOUND github.com").
const detail = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).find((l) => /error|ENOTFOUND|ECONN|ETIMEDOUT|EAI_AGAIN|status/i.test(l));
giveUp(`its download failed${r.error ? ` (${r.error.message})` : detail ? ` (${detail.slice(0, 200)})` : ''}`);
