/** Node-side setup shared by `gradflow train`, `experiment` and `bench`: the graph, tf, its backend, MNIST. */
import { availableParallelism } from 'node:os';
import { analyzeGraph } from '../graph/analyze.ts';
import type { GraphDocument } from '../graph/document.ts';
import { loadDataResources } from '../data/sources.ts';
import { NoBackendError, selectBackend, softwareRenderer, type AdapterDescription, type BackendChoice } from '../train/backend.ts';
import type { DataResources, TF } from '../graph/types.ts';
import { tfjsThreadCount, WASM_MAX_THREADS } from '../train/wasm-threads.ts';
import { readGraphFile } from './check.ts';
import { prepareNodeWasmThreads } from './wasm-threads-node.ts';
import { UsageError, type Io } from './main.ts';

export const NODE_BACKENDS = ['wasm', 'cpu'] as const;
/** Backends a user may ask for by name in Node. */
export const NODE_BACKEND_CHOICES = ['wasm', 'cpu', 'webgpu'] as const;

/**
 * Give Node a `navigator.gpu` from the npm `webgpu` package (Dawn's Node bindings, prebuilt in
 * the package) and say what adapter it finds. Only for an explicit --backend webgpu: Auto stays
 * on wasm/cpu, since a server without a GPU driver has at best a software adapter, slower than
 * WASM (see softwareRenderer).
 */
async function installNodeWebGpu(): Promise<string> {
  const { create, globals } = (await import('webgpu')) as unknown as {
    create: (options: string[]) => { requestAdapter(): Promise<unknown> };
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = (await gpu.requestAdapter()) as { info?: AdapterDescription; isFallbackAdapter?: boolean } | null;
  if (!adapter) {
    throw new Error('no WebGPU adapter: Dawn found no GPU driver (on Linux: libvulkan.so.1 and a Vulkan driver; VK_ICD_FILENAMES can name one, e.g. SwiftShader)');
  }
  // Node 21+ has a read-only navigator on globalThis; tfjs-backend-webgpu looks for navigator.gpu.
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(nav), { gpu }), configurable: true, writable: true });
  // GPUAdapterInfo's fields are getters on its prototype: copy them by name, not by spreading.
  const i: AdapterDescription = adapter.info ?? {};
  const info: AdapterDescription = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: adapter.isFallbackAdapter ?? i.isFallbackAdapter };
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.trim()).join(' ') || 'unnamed';
  const software = softwareRenderer(info);
  webGpuAdapter = `${name} (${software ? 'software/fallback adapter: GPU kernels run on the CPU, slower than wasm' : 'hardware'})`;
  await import('@tensorflow/tfjs-backend-webgpu');
  return webGpuAdapter;
}
let webGpuAdapter: string | null = null;

/** How the command line runs tfjs: `wasmThreads` is the WASM pool size, 1..8 (default: what tfjs picks, logical CPUs / 2). */
export interface NodeTfOptions {
  wasmThreads?: number;
}

/**
 * Load TensorFlow.js for Node, quietly, on the chosen backend (wasm first, then cpu). Also
 * says how many threads the backend computes on (wasm: its thread pool; cpu: 1).
 */
export async function nodeTf(preference: readonly string[] = NODE_BACKENDS, options: NodeTfOptions = {}): Promise<{ tf: TF; choice: BackendChoice; threads: number | null; adapter: string | null }> {
  const tf = (await import('@tensorflow/tfjs')) as unknown as TF;
  // Production mode skips debug checks and the cpu backend's advert for tfjs-node (a native
  // build this project does not use: it needs a download at install time).
  tf.enableProdMode();
  let threadsStarted = () => {};
  const choice = await selectBackend(tf, preference, {
    wasm: async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      threadsStarted = prepareNodeWasmThreads(tf, wasm, options.wasmThreads ?? tfjsThreadCount(availableParallelism()));
    },
    webgpu: async () => {
      await installNodeWebGpu();
    },
  }).finally(() => threadsStarted());
  let threads: number | null = null;
  if (choice.backend === 'wasm') threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  else if (choice.backend === 'cpu') threads = 1;
  return { tf, choice, threads, adapter: choice.backend === 'webgpu' ? webGpuAdapter : null };
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

/** The --threads option: the WASM backend's pool size, 1 to WASM_MAX_THREADS (undefined: the machine's default). */
export function threadsOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > WASM_MAX_THREADS) throw new UsageError(`--threads must be a whole number from 1 to ${WASM_MAX_THREADS}, got '${v.slice(0, 60)}'`);
  return n;
}

/** Refuse a --backend that Node does not have (webgl runs in the app; webgpu only where `allowed` says). */
export function checkNodeBackend(backend: string | undefined, allowed: readonly string[] = ['cpu', 'wasm']): void {
  if (backend !== undefined && !allowed.includes(backend)) {
    const names = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed.join('');
    throw new UsageError(`--backend must be ${names} in the command line (${allowed.includes('webgpu') ? 'webgl runs' : 'webgpu and webgl run'} in the app), got '${backend}'`);
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
export async function nodeTfOrReport(backend: string | undefined, io: Io, options: NodeTfOptions = {}): Promise<Awaited<ReturnType<typeof nodeTf>> | null> {
  try {
    return await nodeTf(backend ? [backend] : undefined, options);
  } catch (e) {
    if (e instanceof NoBackendError) {
      // An explicit --backend that cannot start is said in one line: the reason, no list.
      io.err(backend && e.reasons.length === 1 ? `error: --backend ${e.reasons[0]}\n` : `error: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}
