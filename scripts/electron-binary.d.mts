/** Where the Electron binary is, or why there is none (see electron-binary.mjs). */
export function findElectronBinary(): { ok: true; path: string } | { ok: false; reason: string };
/** What to do about a missing binary, as lines for a terminal. */
export function missingElectronHelp(reason: string): string[];
