/**
 * Which files a launch asks to open: from the command line (`gradflow model.nngraph`), a
 * double-click in the file manager (the file association passes the path as an argument on
 * Linux and Windows), or a second launch handing its arguments to the running instance.
 */
import { fileURLToPath } from 'node:url';
import * as nodePath from 'node:path';

export interface ArgvContext {
  /**
   * True when running from source (`electron .` or `electron dist/electron/main.cjs`),
   * where the first argument after the executable is the app, not a file
   * (Electron's `process.defaultApp`).
   */
  defaultApp: boolean;
  /** The folder the launch happened in: relative paths are resolved against it. */
  cwd: string;
  platform?: NodeJS.Platform;
}

/**
 * The files named in `argv`, as absolute paths, in order and without duplicates.
 *
 * Skipped: the executable; the app path when running from source; switches (anything
 * starting with "-", including those Chromium adds to a second instance's argv and macOS's
 * old "-psn_…" process number), unless they come after "--". `file://` URLs (some Linux
 * desktops pass those) become paths.
 */
export function filesFromArgv(argv: readonly string[], ctx: ArgvContext): string[] {
  const platform = ctx.platform ?? process.platform;
  const path = platform === 'win32' ? nodePath.win32 : nodePath.posix;
  const out: string[] = [];
  const seen = new Set<string>();
  let skipApp = ctx.defaultApp;
  let switchesDone = false;
  for (const arg of argv.slice(1)) {
    if (!switchesDone && arg === '--') {
      switchesDone = true;
      continue;
    }
    if (!switchesDone && arg.startsWith('-')) continue;
    if (skipApp) {
      skipApp = false;
      continue;
    }
    if (arg === '' || arg.includes('\0')) continue;
    let p = arg;
    if (/^file:\/\//i.test(arg)) {
      try {
        p = fileURLToPath(arg, { windows: platform === 'win32' });
      } catch {
        continue;
      }
    } else if (/^[a-z][a-z0-9+.-]+:/i.test(arg) && !(platform === 'win32' && /^[a-z]:[\\/]/i.test(arg))) {
      // Another URL scheme (http:, gradflow:, …): not a file; Windows drive letters are.
      continue;
    }
    const abs = path.resolve(ctx.cwd, p);
    const key = platform === 'win32' || platform === 'darwin' ? abs.toLowerCase() : abs;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(abs);
  }
  return out;
}
