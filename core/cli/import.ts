/** `gradflow import MODEL.onnx|model.json [--out FILE.nngraph]`: another tool's model as an editable graph. */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { importOnnx } from '../io/import/onnx.ts';
import { importTfjs } from '../io/import/tfjs.ts';
import { saveGraph } from '../io/save.ts';
import { readUserFile, writeAtomic } from './files.ts';
import { printedHelp, soleArgument, UsageError, type Io } from './main.ts';

const HELP = `Usage: gradflow import MODEL.onnx|model.json [--out FILE.nngraph]

Turns an ONNX model (e.g. from torch.onnx.export, or Gradflow's own export) or a
TensorFlow.js LayersModel (model.json with its weight files next to it, e.g. from
gradflow export --to tfjs or tfjs's model.save) into a graph with its weights, laid out left to right, starting from an Input of the model's input
shape: attach a Dataset, a loss and an optimizer to train it. An op Gradflow cannot
represent is named with its node (a layer with its class), and nothing is written.`;

export async function runImport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (printedHelp(values, HELP, io)) return 0;
  const path = soleArgument(positionals, 'import', 'MODEL', 'a MODEL.onnx or model.json');
  const tfjs = /\.json$/i.test(path);
  if (!tfjs && !/\.onnx$/i.test(path)) throw new UsageError(`import reads ONNX models (.onnx) and TensorFlow.js LayersModels (model.json), got '${basename(path)}'`);
  const read = await readUserFile(path);
  if (!read.ok) {
    io.err(`error: ${read.message}\n`);
    return 1;
  }
  const { bytes } = read;
  // A LayersModel is usually model.json in a folder named after the model.
  const stem = tfjs ? (basename(path, '.json') === 'model' ? basename(dirname(path)).replace(/-tfjs$/, '') || 'model' : basename(path, '.json')) : basename(path).replace(/\.onnx$/i, '');
  const r = tfjs
    ? await importTfjs(new TextDecoder().decode(bytes), (p) => readFile(join(dirname(path), p)).catch(() => null), stem)
    : await importOnnx(bytes, stem);
  if (!r.ok) {
    io.err(`error: ${path} cannot be imported:\n`);
    for (const e of r.errors) io.err(`  - ${e}\n`);
    return 1;
  }
  const out = values.out ?? join(dirname(path), `${stem}.nngraph`);
  await writeAtomic(out, saveGraph(r.document));
  for (const n of r.notes) io.out(`note: ${n}\n`);
  io.out(`wrote ${out}: ${r.document.nodes.length} nodes from ${path}\n`);
  return 0;
}
