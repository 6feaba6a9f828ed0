/** Where the Electron binary is, or why there is none (see electron-binary.mjs). */
export function findElectronBinary(): { ok: true; path: string } | { ok: false; reason: string };
