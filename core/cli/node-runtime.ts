/** Node-side setup shared by `gradflow train`, `experiment` and `bench`: the graph, tf, its backend, MNIST. */
import { rename, writeFile } from 'node:fs/promises';
import { analyzeGraph } from '../graph/analyze.ts';
import type { GraphDocument } from '../graph/document.ts';
import { loadDataResources } from '../data/sources.ts';
import { NoBackendError, selectBackend, type BackendChoice } from '../train/backend.ts';
import type { DataResources, TF } from '../graph/types.ts';
import { readGraphFile } from './check.ts';
import { UsageError, type Io } from './main.ts';

export const NODE_BACKENDS = ['wasm', 'cpu'] as const;
/** Backends a user may ask for by name in Node. */
export const NODE_BACKEND_CHOICES = ['wasm', 'cpu'] as const;

/**
 * Load TensorFlow.js for Node, quietly, on the chosen backend (wasm first, then cpu). Also
 * says how many threads the backend computes on (wasm: its thread pool; cpu: 1).
 */
export async function nodeTf(preference: readonly string[] = NODE_BACKENDS): Promise<{ tf: TF; choice: BackendChoice; threads: number | null }> {
  const tf = (await import('@tensorflow/tfjs')) as unknown as TF;
  // Production mode skips debug checks and the cpu backend's advert for tfjs-node (a native
  // build this project does not use: it needs a download at install time).
  tf.enableProdMode();
  const choice = await selectBackend(tf, preference, {
    wasm: async () => {
      await import('@tensorflow/tfjs-backend-wasm');
    },
  });
  let threads: number | null = null;
  if (choice.backend === 'wasm') threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  else if (choice.backend === 'cpu') threads = 1;
  return { tf, choice, threads };
}

/** What the document's data nodes need loaded (the MNIST digits), read from disk. */
export async function dataResourcesFor(doc: Pick<GraphDocument, 'nodes'>): Promise<DataResources> {
  return loadDataResources(doc, {
    mnist: async () => {
      const { loadMnistNode } = await import('../data/mnist-node.ts');
      return loadMnistNode();
    },
  });
}

/** Refuse a --backend that Node does not have (webgpu and webgl run in the app). */
export function checkNodeBackend(backend: string | undefined): void {
  if (backend !== undefined && !(NODE_BACKENDS as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend must be cpu or wasm in the command line (webgpu and webgl run in the app), got '${backend}'`);
  }
}

/** Read a graph file that compiles; otherwise print why (as `verb`: "cannot train") and give null. */
export async function readTrainableGraph(path: string, io: Io, verb: string): Promise<GraphDocument | null> {
  const loaded = await readGraphFile(path);
  if (!loaded.ok) {
    io.err(`error: ${loaded.message}\n`);
    return null;
  }
  const doc = loaded.document;
  // Load warnings (weights that do not fit the graph, placeholders) are said, never dropped.
  for (const w of loaded.warnings) io.err(`warning: ${w}\n`);
  const analysis = analyzeGraph(doc);
  if (!analysis.canTrain) {
    io.err(`error: ${path} ${verb}:\n`);
    for (const i of analysis.issues.filter((i) => i.severity === 'error')) io.err(`  - ${i.message}\n`);
    if (!analysis.errors) for (const b of analysis.blockers) io.err(`  - ${b}\n`);
    return null;
  }
  return doc;
}

/** tf on the requested backend (or the default order); null after printing why none could start. */
export async function nodeTfOrReport(backend: string | undefined, io: Io): Promise<{ tf: TF; choice: BackendChoice } | null> {
  try {
    return await nodeTf(backend ? [backend] : undefined);
  } catch (e) {
    if (e instanceof NoBackendError) {
      io.err(`error: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}

/** Write to a temporary file, then rename, so a crash never leaves a truncated file. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
