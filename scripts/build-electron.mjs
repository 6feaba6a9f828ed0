#!/usr/bin/env node
// Build the Electron main process and preload (electron/*.ts) into dist/electron/:
//   main.cjs     the main process, one CommonJS bundle (so its listeners are registered
//                synchronously, before Electron's first events), Electron kept external;
//   preload.cjs  the preload, one CommonJS file: a sandboxed preload cannot load modules
//                other than 'electron', so everything it imports is bundled in;
//   icon.png     the window icon on Linux.
// The renderer is built separately by `vite build` (dist/renderer); `npm run build` runs both.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'electron');
await mkdir(out, { recursive: true });

const common = {
  bundle: true,
  format: 'cjs',
  external: ['electron'],
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
  absWorkingDir: root,
};

await Promise.all([
  // Electron 41 runs Node 24.
  build({ ...common, entryPoints: ['electron/main.ts'], outfile: join(out, 'main.cjs'), platform: 'node', target: 'node22' }),
  // The preload runs in Chromium (sandboxed): no Node built-ins.
  build({ ...common, entryPoints: ['electron/preload.ts'], outfile: join(out, 'preload.cjs'), platform: 'browser', target: 'chrome130' }),
  copyFile(join(root, 'electron', 'resources', 'icon.png'), join(out, 'icon.png')),
]);
console.log('Built dist/electron (main.cjs, preload.cjs)');
