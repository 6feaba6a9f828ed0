#!/usr/bin/env node
// The `gradflow` command. The sources are TypeScript; tsx compiles them on the fly so the
// command works straight after `npm install`, without a build step.
import { register } from 'tsx/esm/api';

register();
// `gradflow train ... | head` closes the pipe early: stop quietly instead of crashing.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
const { main } = await import('../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
