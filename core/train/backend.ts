/**
 * Choosing the TensorFlow.js backend: by preference with fallback, always saying which one
 * runs and why a preferred one was not used. Never silently swapped.
 */
import type { TF } from '../graph/types.ts';

export interface BackendChoice {
  backend: string;
  /** One line per preferred backend that was skipped, saying why. */
  fallbacks: string[];
}

/** Registers a backend with tf (dynamic import of its package); throws if it cannot load. */
export type BackendLoader = () => Promise<void>;

/**
 * Says why a backend should be passed over even though it would start (a software GPU, slower
 * than WASM on the same CPU), or null to use it.
 */
export type BackendCheck = () => Promise<string | null>;

export class NoBackendError extends Error {
  /** One line per backend tried, saying why it did not start. */
  constructor(message: string, readonly reasons: readonly string[] = []) {
    super(message);
  }
}

/** What a GPU adapter (WebGPU's GPUAdapterInfo) or WebGL renderer says about itself. */
export interface AdapterDescription {
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

// Software rasterizers that emulate a GPU on the CPU: Chromium's SwiftShader, Mesa's
// lavapipe / llvmpipe / softpipe, Windows' WARP ("Microsoft Basic Render Driver").
const SOFTWARE_RENDERER = /swiftshader|lavapipe|llvmpipe|softpipe|microsoft basic render|\bsoftware\b/i;

/**
 * Why an adapter is a software renderer, or null when it looks like real hardware. A software
 * adapter runs GPU kernels on the CPU, far slower than the WASM backend on the same CPU (the
 * MNIST MLP: ~150 against ~2,400 samples/s on SwiftShader), so Auto passes over it.
 */
export function softwareRenderer(a: AdapterDescription): string | null {
  const name = [a.vendor, a.architecture, a.device, a.description].filter((s) => s && s.trim()).join(' ').trim();
  if (SOFTWARE_RENDERER.test(name)) return `its adapter is a software renderer (${name}), slower than WASM on this CPU`;
  if (a.isFallbackAdapter) return `its adapter is a fallback (software) adapter${name ? ` (${name})` : ''}, slower than WASM on this CPU`;
  return null;
}

/**
 * Try `preference` in order; `loaders` register backends that tf does not include itself
 * (webgpu, wasm). `checks` may pass over a backend that would start but is a poor choice (Auto
 * skips software GPUs); an explicit choice runs without them. Returns the first that
 * initializes, with the reasons for those skipped.
 */
export async function selectBackend(
  tf: TF,
  preference: readonly string[],
  loaders: Partial<Record<string, BackendLoader>> = {},
  checks: Partial<Record<string, BackendCheck>> = {},
): Promise<BackendChoice> {
  const fallbacks: string[] = [];
  for (const name of preference) {
    try {
      const passOver = await checks[name]?.();
      if (passOver) {
        fallbacks.push(`${name}: skipped, ${passOver}`);
        continue;
      }
      if (!tf.findBackendFactory(name)) {
        const load = loaders[name];
        if (!load) {
          fallbacks.push(`${name}: not available on this platform`);
          continue;
        }
        await load();
        if (!tf.findBackendFactory(name)) {
          fallbacks.push(`${name}: its package loaded but did not register the backend`);
          continue;
        }
      }
      const ok = await tf.setBackend(name);
      if (!ok) {
        fallbacks.push(`${name}: could not initialize (${name === 'webgpu' ? 'no WebGPU adapter on this machine' : name === 'webgl' ? 'no WebGL context' : 'initialization failed'})`);
        continue;
      }
      await tf.ready();
      if (name === 'webgpu') {
        // tfjs-backend-webgpu 4.22 batches up to 15 dispatches per queue submission; with
        // batching, step losses read back as 0 (seen on Chromium's SwiftShader adapter, and
        // checked by the WebGPU end-to-end test). Submitting each dispatch gives correct values.
        tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1);
      }
      return { backend: tf.getBackend(), fallbacks };
    } catch (e) {
      fallbacks.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new NoBackendError(`no TensorFlow.js backend could start:\n${fallbacks.map((f) => `  - ${f}`).join('\n')}`, fallbacks);
}
