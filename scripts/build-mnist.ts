/**
 * Writes the compact MNIST binary (see core/data/mnist.ts) for the web build to serve.
 *
 *   npx tsx scripts/build-mnist.ts [outPath]     (default: .cache/mnist-10k.bin)
 */
import { resolve } from 'node:path';
import { decodeMnistBinary } from '../core/data/mnist.ts';
import {
  buildMnistBinaryFromPackage,
  DEFAULT_MNIST_CACHE,
  writeFileAtomic,
} from '../core/data/mnist-node.ts';

const outPath = resolve(process.argv[2] ?? DEFAULT_MNIST_CACHE);
const started = performance.now();
const bytes = await buildMnistBinaryFromPackage();
// Decode what is about to be written, so a broken encoder fails here rather than in a browser.
const { n } = decodeMnistBinary(bytes);
await writeFileAtomic(outPath, bytes);
const ms = Math.round(performance.now() - started);
console.log(`wrote ${n} digits (${bytes.length} bytes) to ${outPath} in ${ms} ms`);
