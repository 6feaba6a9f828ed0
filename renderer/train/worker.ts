/// <reference lib="webworker" />
/**
 * The training worker: owns TensorFlow.js and every tensor, runs the core Trainer, and
 * streams progress, metrics, instrumentation and dashboard views to the UI. The UI thread
 * never computes a tensor, so it stays smooth while training runs.
 */
import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../core/data/mnist.ts';
import { fetchMnist } from './mnist.ts';
import { masksFromBlock } from '../../core/io/masks.ts';
import { loadDataResources } from '../../core/data/sources.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { DataResources, TF } from '../../core/graph/types.ts';
import { selectBackend, softwareRenderer, type BackendCheck } from '../../core/train/backend.ts';
import { wasmLogicalCoresFor, wasmThreadCount } from '../../core/train/wasm-threads.ts';
import { NotTrainableError, Trainer } from '../../core/train/trainer.ts';
import { ExperimentCancelled, ExperimentControl, ExperimentError, runExperiment } from '../../core/experiments/framework.ts';
import { experimentDef } from '../../core/experiments/registry.ts';
import { boundaryView, confusionView, convView, curveView, digitsView } from '../../core/train/views.ts';
import type { BackendPreference, DataPoints, FromWorker, ToWorker, Views } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: FromWorker) => self.postMessage(m);
let trainer: Trainer | null = null;
let mnist: MnistData | null = null;
let lastViews = 0;
let viewsBusy = false;
/**
 * The current run, with its last checkpoint and views. Messages arrive while it runs (pause,
 * step, stop must act at once), but anything that replaces or disposes the trainer waits for
 * it to settle first.
 */
let current: Promise<void> = Promise.resolve();
/** Stop and λ changes that arrive while a run is still starting (backend, data) apply when it starts. */
let pendingStop = false;
let pendingLearningRate: number | null = null;
let watchingDevice = false;

const ORDER: Record<BackendPreference, string[]> = {
  auto: ['webgpu', 'webgl', 'wasm', 'cpu'],
  webgpu: ['webgpu'],
  webgl: ['webgl'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

/**
 * Auto passes over GPUs that are software renderers (SwiftShader, lavapipe, llvmpipe, WARP):
 * they start, but train far slower than WASM on the same CPU. Choosing WebGPU or WebGL in the
 * backend menu still uses them.
 */
const AUTO_CHECKS: Partial<Record<string, BackendCheck>> = {
  webgpu: async () => {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    if (!adapter) return null; // the loader says why WebGPU cannot start
    // GPUAdapterInfo's fields are getters on its prototype: read them one by one.
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
    return softwareRenderer({
      vendor: info?.vendor,
      architecture: info?.architecture,
      device: info?.device,
      description: info?.description,
      isFallbackAdapter: info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    });
  },
  webgl: async () => {
    if (typeof OffscreenCanvas === 'undefined') return null;
    const gl = (new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return softwareRenderer({ description: renderer });
  },
};

/**
 * The WASM backend's thread count once it has started (1 where the page is not cross-origin
 * isolated: tfjs then loads its single-threaded SIMD build), null before.
 */
let wasmThreads: number | null = null;

async function useBackend(pref: BackendPreference, wasmUrls: Record<string, string>, requestedThreads?: number) {
  // tfjs sizes its pool from the logical core count it reads during initialization (halved,
  // see core/train/wasm-threads.ts); present the count that yields our pool size meanwhile.
  const restoreCores = wasmThreads === null ? presentLogicalCores(wasmLogicalCoresFor(wasmThreadCount(navigator.hardwareConcurrency, requestedThreads))) : () => {};
  try {
    const choice = await selectBackend(
      tf as unknown as TF,
      ORDER[pref],
      {
        webgpu: async () => {
          if (!('gpu' in navigator) || !navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
          const adapter = await navigator.gpu.requestAdapter();
          if (!adapter) throw new Error('no WebGPU adapter is available on this machine');
          await import('@tensorflow/tfjs-backend-webgpu');
        },
        wasm: async () => {
          // The threaded build (used where the page is cross-origin isolated) starts its
          // pthreads from the factory's source text; scripts/vite-wasm-threads.ts keeps that
          // text self-contained through Vite's minifier.
          const wasm = await import('@tensorflow/tfjs-backend-wasm');
          wasm.setWasmPaths(wasmUrls);
          wasm.setThreadsCount(wasmThreadCount(navigator.hardwareConcurrency, requestedThreads));
        },
      },
      pref === 'auto' ? AUTO_CHECKS : {},
    );
    if (choice.backend === 'wasm' && wasmThreads === null) wasmThreads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
    return { ...choice, threads: choice.backend === 'wasm' ? wasmThreads : choice.backend === 'cpu' ? 1 : null };
  } finally {
    restoreCores();
  }
}

/** Make navigator.hardwareConcurrency read `cores` in this worker until the returned function runs. */
function presentLogicalCores(cores: number): () => void {
  const nav = navigator as Navigator & { hardwareConcurrency: number };
  Object.defineProperty(nav, 'hardwareConcurrency', { value: cores, configurable: true });
  return () => {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}

/** Watch the WebGPU device: a lost device ends the run with a clear error, keeping the last good weights in the UI. */
function watchDevice(): void {
  if (tf.getBackend() !== 'webgpu' || watchingDevice) return;
  watchingDevice = true;
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string; reason: string }> } }).device;
  device?.lost?.then((info) => {
    trainer?.stop();
    post({ type: 'error', message: `the GPU device was lost (${info.reason || 'unknown reason'}: ${info.message}). Train again to continue from the last good weights, on this or another backend`, fatal: true });
  });
}

async function loadMnist(url: string): Promise<MnistData> {
  mnist ??= await fetchMnist(url);
  return mnist;
}

/** What the document's data nodes need loaded, fetched from the page's assets. */
function dataResources(m: { doc: Pick<GraphDocument, 'nodes'>; mnistUrl: string }): Promise<DataResources> {
  return loadDataResources(m.doc, { mnist: () => loadMnist(m.mnistUrl) });
}

function dataPoints(t: Trainer): DataPoints | null {
  const info = t.dataset.info;
  const dims = info.xShape.length === 1 ? info.xShape[0]! : 0;
  if (dims !== 1 && dims !== 2) return null;
  const split = t.dataset.train;
  const n = Math.min(split.n, 2000);
  const x = split.x.slice(0, n * dims);
  const y = new Float32Array(n);
  const yw = info.yShape[0]!;
  for (let i = 0; i < n; i++) {
    if (info.task === 'regression' || yw === 1) y[i] = split.y[i * yw]!;
    else {
      let best = 0;
      for (let j = 1; j < yw; j++) if (split.y[i * yw + j]! > split.y[i * yw + best]!) best = j;
      y[i] = best;
    }
  }
  return { x, y, dims };
}

let lastFull: Pick<Views, 'confusion' | 'digits'> = { confusion: null, digits: null };
/** The validation example whose feature maps the Conv2D nodes show. */
let viewExample = 0;

/**
 * Dashboard views. The cheap ones (decision boundary, fitted curve: one small forward pass)
 * follow training about once a second; the confusion matrix and the test digits need the
 * validation set, so they are computed at epoch ends, on pause and at the end of a run, and
 * the training loop keeps its throughput in between.
 */
async function sendViews(full = false): Promise<void> {
  try {
    await computeViews(full);
  } catch (e) {
    // Views are a display aid: failing to draw one must not end the run.
    viewsBusy = false;
    post({ type: 'error', message: `could not update the dashboard: ${e instanceof Error ? e.message : String(e)}`, fatal: false });
  }
}

async function computeViews(full: boolean): Promise<void> {
  if (!trainer || viewsBusy) return;
  const now = performance.now();
  if (!full && now - lastViews < 1000) return;
  viewsBusy = true;
  lastViews = now;
  try {
    const t = trainer;
    const [boundary, curve, conv] = [await boundaryView(t), await curveView(t), await convView(t, viewExample)];
    if (full) lastFull = { confusion: await confusionView(t), digits: await digitsView(t) };
    post({ type: 'views', step: t.step, views: { boundary, curve, conv, ...lastFull } });
  } finally {
    viewsBusy = false;
  }
}

async function checkpoint(): Promise<void> {
  if (trainer) post({ type: 'checkpoint', weights: await trainer.exportWeights() });
}

async function start(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  trainer?.dispose();
  trainer = null;
  lastFull = { confusion: null, digits: null };
  const choice = await useBackend(m.backend, m.wasmUrls, m.wasmThreads);
  tf.enableProdMode();
  watchDevice();
  const t = Trainer.create(tf as unknown as TF, m.doc, {
    backend: choice.backend,
    ...(m.doc.masks ? { masks: masksFromBlock(m.doc.masks) } : {}),
    intervalMs: m.intervalMs,
    ...(await dataResources(m)),
    onEvent: (e) => {
      if (e.type === 'instrumentation') {
        post({ type: 'instrumentation', data: e.data });
        void sendViews();
        return;
      }
      post({ type: 'event', event: e });
      if (e.type === 'epoch') void checkpoint().then(() => sendViews(true));
      if (e.type === 'paused') void checkpoint().then(() => sendViews(true));
    },
  });
  if (m.weights) t.importWeights(m.weights);
  if (m.learningRate) t.setLearningRate(m.learningRate);
  if (pendingLearningRate) t.setLearningRate(pendingLearningRate);
  trainer = t;
  post({ type: 'started', mode: 'train', backend: choice.backend, threads: choice.threads, fallbacks: choice.fallbacks, totalSteps: t.totalSteps, epochs: t.epochs, points: dataPoints(t), task: t.dataset.info.task, classes: t.dataset.info.classes });
  if (pendingStop) t.stop();
  try {
    await sendViews(true);
    await t.run();
  } catch (e) {
    // Anything that ends the run unexpectedly (out of memory, a lost context…) is terminal:
    // say so, and hand the UI the weights the trainer has restored or last held.
    await checkpoint().catch(() => {});
    post({ type: 'error', message: `training stopped: ${e instanceof Error ? e.message : String(e)}`, fatal: true });
    return;
  }
  if (trainer !== t) return;
  await checkpoint();
  await sendViews(true);
}

let experimentControl: ExperimentControl | null = null;

/** An experiment runs like a training run: after the current one settles, and the next waits for it. */
async function experiment(m: Extract<ToWorker, { type: 'experiment' }>): Promise<void> {
  const def = experimentDef(m.name);
  const done = (result: Extract<FromWorker, { type: 'experimentDone' }>['result'], error: string | null) => post({ type: 'experimentDone', requestId: m.requestId, result, error });
  if (!def) return done(null, `this Gradflow has no experiment '${m.name}'`);
  const control = new ExperimentControl();
  experimentControl = control;
  try {
    const choice = await useBackend(m.backend, m.wasmUrls, m.wasmThreads);
    tf.enableProdMode();
    const result = await runExperiment(def, {
      tf: tf as unknown as TF,
      doc: m.doc,
      settings: m.settings,
      seed: m.seed,
      backend: choice.backend,
      weights: m.weights,
      control,
      ...(await dataResources(m)),
      onProgress: (p) => post({ type: 'experimentProgress', requestId: m.requestId, done: p.done, total: p.total, partial: p.partial, backend: choice.backend }),
    });
    done(result, null);
  } catch (e) {
    if (e instanceof ExperimentCancelled) done(null, null);
    else done(null, e instanceof ExperimentError || e instanceof NotTrainableError ? e.message : `the experiment stopped: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (experimentControl === control) experimentControl = null;
  }
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    switch (m.type) {
      case 'start': {
        await current.catch(() => {});
        pendingStop = false;
        pendingLearningRate = null;
        const run = start(m);
        current = run;
        await run;
        break;
      }
      case 'experiment': {
        await current.catch(() => {});
        const run = experiment(m);
        current = run;
        await run;
        break;
      }
      case 'experimentControl':
        if (m.action === 'pause') experimentControl?.pause();
        else if (m.action === 'resume') experimentControl?.resume();
        else experimentControl?.cancel();
        break;
      case 'pause':
        trainer?.pause(); // the trainer's 'paused' event sends the checkpoint and views
        break;
      case 'resume':
        trainer?.resume();
        break;
      case 'step':
        trainer?.stepOnce();
        break;
      case 'stop':
        if (trainer) trainer.stop();
        else pendingStop = true;
        break;
      case 'setLearningRate':
        if (trainer) trainer.setLearningRate(m.value);
        else pendingLearningRate = m.value;
        break;
      case 'setViewExample':
        viewExample = m.index;
        // Redraw now, also when paused or after a run (the 1 s throttle would skip it).
        lastViews = -Infinity;
        await sendViews();
        break;
      case 'reset':
        await current.catch(() => {});
        trainer?.dispose();
        trainer = null;
        break;
      case 'exportWeights':
        post({ type: 'weights', requestId: m.requestId, weights: trainer ? await trainer.exportWeights() : null });
        break;
      case 'evaluate': {
        await current.catch(() => {});
        // Outside a run, build a trainer for these weights (no training) to measure them.
        if (!trainer || m.weights) {
          trainer?.dispose();
          trainer = null;
          const choice = await useBackend(m.backend, m.wasmUrls, m.wasmThreads);
          tf.enableProdMode();
          const t = Trainer.create(tf as unknown as TF, m.doc, { backend: choice.backend, ...(m.doc.masks ? { masks: masksFromBlock(m.doc.masks) } : {}), ...(await dataResources(m)) });
          if (m.weights) t.importWeights(m.weights);
          trainer = t;
          post({ type: 'started', mode: 'evaluate', backend: choice.backend, threads: choice.threads, fallbacks: choice.fallbacks, totalSteps: t.totalSteps, epochs: t.epochs, points: dataPoints(t), task: t.dataset.info.task, classes: t.dataset.info.classes });
        }
        const v = await trainer.validate();
        await sendViews(true);
        post({ type: 'evaluated', requestId: m.requestId, backend: trainer.backend, loss: v.loss, accuracy: v.accuracy, step: m.weights?.step ?? trainer.step });
        break;
      }
    }
  } catch (err) {
    const message = err instanceof NotTrainableError ? err.message : `${err instanceof Error ? err.message : String(err)}`;
    post({ type: 'error', message, fatal: false });
  }
};
