// Where the Electron binary is, or why there is none. Shared by `npm start` and the
// Electron end-to-end test. The `electron` package downloads its binary in an install
// script; that download is skipped with ELECTRON_SKIP_BINARY_DOWNLOAD=1 (as on CI), blocked
// when npm does not allow the package's install script, or fails without network access.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** @returns {{ ok: true, path: string } | { ok: false, reason: string }} */
export function findElectronBinary() {
  try {
    require.resolve('electron/package.json');
  } catch {
    return { ok: false, reason: 'the electron package is not installed (run npm install)' };
  }
  let path;
  try {
    // The package's main module is the path of the binary; it throws when the install
    // script never wrote one.
    path = require('electron');
  } catch {
    return { ok: false, reason: "electron's install script did not download the binary (node_modules/electron/path.txt is missing)" };
  }
  if (typeof path !== 'string' || !existsSync(path)) {
    return { ok: false, reason: `the Electron binary is missing (expected at ${path})` };
  }
  return { ok: true, path };
}

/** What to do about a missing binary, as lines for a terminal. */
export function missingElectronHelp(reason) {
  const skip = process.env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  return [
    'Gradflow cannot start the desktop app: its Electron binary is not installed.',
    `  (${reason})`,
    '',
    'To install it (this downloads Electron, so it needs network access):',
    ...(skip ? ['  unset ELECTRON_SKIP_BINARY_DOWNLOAD      (it is set here, and tells npm to skip the download)'] : []),
    '  npm rebuild electron',
    '',
    "If npm said it skipped electron's install script, approve the script, then rebuild:",
    '  npm install-scripts approve electron && npm rebuild electron',
    '',
    'To use an Electron you already have: ELECTRON_OVERRIDE_DIST_PATH=/folder/with/electron npm start',
    'The same editor also runs in a browser, without Electron: npm run web',
  ];
}
