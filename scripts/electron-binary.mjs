// Where the Electron binary is, or why there is none. Shared by `npm start`, the install step
// (scripts/install-electron.mjs) and the Electron end-to-end test. The binary is downloaded
// by the `electron` package's install script, which our own install step runs and forgives:
// the download is skipped with ELECTRON_SKIP_BINARY_DOWNLOAD=1 and fails without access to
// Electron's download server.
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
    return { ok: false, reason: 'its download did not happen or failed (node_modules/electron/path.txt is missing)' };
  }
  if (typeof path !== 'string' || !existsSync(path)) {
    return { ok: false, reason: `the Electron binary is missing (expected at ${path})` };
  }
  return { ok: true, path };
}
