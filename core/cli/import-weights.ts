/** `gradflow import-weights FILE WEIGHTS.npz`: weights trained elsewhere back into the graph. */
import { parseArgs } from 'node:util';
import { APP_VERSION } from '../graph/document.ts';
import { importWeightsNpz } from '../io/import/weights.ts';
import { saveGraph } from '../io/save.ts';
import { readGraphFile } from './check.ts';
import { readUserFile, writeAtomic } from './files.ts';
import { printedHelp, UsageError, type Io } from './main.ts';

const HELP = `Usage: gradflow import-weights FILE WEIGHTS.npz [--out OUT.nngraph]

Loads weights trained by the exported PyTorch project (python train.py --save W.npz) into
the graph in FILE, checked by name and shape. Writes FILE in place, or OUT.`;

export async function runImportWeights(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (printedHelp(values, HELP, io)) return 0;
  if (positionals.length !== 2) throw new UsageError('import-weights needs a graph FILE and a WEIGHTS.npz');
  const [path, weightsPath] = positionals as [string, string];
  const loaded = await readGraphFile(path);
  if (!loaded.ok) {
    io.err(`error: ${loaded.message}\n`);
    return 1;
  }
  const read = await readUserFile(weightsPath);
  if (!read.ok) {
    io.err(`error: ${read.message}\n`);
    return 1;
  }
  const r = await importWeightsNpz(loaded.document, read.bytes, weightsPath);
  if (!r.ok) {
    io.err(`error: the weights in ${weightsPath} do not fit ${path}:\n`);
    for (const e of r.errors) io.err(`  - ${e}\n`);
    return 1;
  }
  const doc = loaded.document;
  const out = values.out ?? path;
  const text = saveGraph({ ...doc, metadata: { ...doc.metadata, modified: new Date().toISOString(), appVersion: APP_VERSION }, weights: r.weights });
  await writeAtomic(out, text);
  io.out(`wrote ${out} with the ${r.source} from ${weightsPath}\n`);
  return 0;
}
