#!/usr/bin/env node
// `npm start`: run Gradflow. The desktop shell (Electron) is not part of this version yet,
// so this serves the app itself, the same renderer the desktop app will load, on
// http://127.0.0.1 and opens it in the default browser when one is available.
import { spawn } from 'node:child_process';

const vite = spawn(process.execPath, ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--open'], { stdio: 'inherit' });
vite.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => vite.kill(sig));
