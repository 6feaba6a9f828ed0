/** `gradflow export FILE --to onnx|pytorch|tfjs`: the model out to other tools, written whole or not at all. */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportModel, EXPORT_TARGETS, type ExportTarget } from '../io/export/index.ts';
import { documentWeights } from '../io/weights.ts';
import { readGraphFile } from './check.ts';
import { dataResourcesFor } from './node-runtime.ts';
import { writeAtomic } from './files.ts';
import { printedHelp, soleArgument, UsageError, type Io } from './main.ts';

const HELP = `Usage: gradflow export FILE --to onnx|pytorch|tfjs [--out PATH]

Exports the model in FILE with its trained weights (or the initial ones if it has none).

  --to onnx      one .onnx file (opset 17): the inference graph, for ONNX Runtime, Netron...
  --to pytorch   a folder: model.py, train.py, weights.npz, data.npz and a README
  --to tfjs      a folder: model.json and weights.bin, a TensorFlow.js LayersModel
                 (tf.loadLayersModel; tensorflowjs_converter turns it into Keras)
  --out PATH     where to write (default: next to FILE, named after it)

Nothing is written when a node cannot be expressed in the target; the message names it.`;

/** Default output path: next to the graph, named after it. */
export function defaultOut(file: string, to: ExportTarget): string {
  const stem = basename(file).replace(/\.nngraph$/i, '');
  return join(dirname(file), to === 'onnx' ? `${stem}.onnx` : `${stem}-${to}`);
}

export async function runExport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { to: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (printedHelp(values, HELP, io)) return 0;
  const path = soleArgument(positionals, 'export');
  const to = values.to as ExportTarget | undefined;
  if (!to || !EXPORT_TARGETS.includes(to)) throw new UsageError(`export needs --to ${EXPORT_TARGETS.join('|')}${values.to ? `, got '${values.to}'` : ''}`);
  const loaded = await readGraphFile(path);
  if (!loaded.ok) {
    io.err(`error: ${loaded.message}\n`);
    return 1;
  }
  const doc = loaded.document;
  let weights;
  try {
    weights = documentWeights(doc);
  } catch (e) {
    io.err(`error: ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  const mnist = to === 'pytorch' ? (await dataResourcesFor(doc)).mnist : undefined;
  const result = await exportModel(doc, to, { weights: weights.weights, trained: weights.trained, mnist });
  if (!result.ok) {
    io.err(`error: ${path} cannot be exported to ${to}:\n`);
    for (const e of result.errors) io.err(`  - ${e}\n`);
    return 1;
  }
  const out = values.out ?? defaultOut(path, to);
  await writeExport(out, result.value, to === 'onnx');
  for (const n of result.notes) io.out(`note: ${n}\n`);
  io.out(`wrote ${out} (${weights.trained ? `trained weights, step ${doc.weights?.step}` : 'initial weights: the graph is untrained'})\n`);
  return 0;
}

/**
 * Write a file, or a folder of files, under a temporary name and rename it into place, so
 * an interrupted export never leaves half a model behind.
 */
async function writeExport(out: string, files: { path: string; bytes: Uint8Array }[], single: boolean): Promise<void> {
  if (single) return writeAtomic(out, files[0]!.bytes);
  const tmp = `${out}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  for (const f of files) {
    await mkdir(dirname(join(tmp, f.path)), { recursive: true });
    await writeFile(join(tmp, f.path), f.bytes);
  }
  const exists = await stat(out).then(() => true, () => false);
  if (exists) {
    const old = `${out}.${process.pid}.old`;
    await rename(out, old);
    await rename(tmp, out);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, out);
  }
}
