/**
 * Auto passes over software GPUs: the adapter descriptions real drivers give (Chromium's
 * SwiftShader, Mesa's lavapipe and llvmpipe, Windows' WARP, a fallback adapter) are named as
 * software, hardware ones are not; and selectBackend skips a backend whose check gives a
 * reason, says so, and runs the next one, while a choice made without checks uses it.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import type { TF } from '../../core/graph/types.ts';
import { selectBackend, softwareRenderer, type AdapterDescription } from '../../core/train/backend.ts';

tf.enableProdMode();

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('software renderers', () => {
  it.each<[string, AdapterDescription]>([
    ['Chromium SwiftShader (WebGPU)', { vendor: 'google', architecture: 'swiftshader', device: '', description: '' }],
    ['SwiftShader (WebGL renderer string)', { description: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)' }],
    ['Mesa lavapipe', { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits) lavapipe' }],
    ['Mesa llvmpipe (WebGL)', { description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }],
    ['Windows WARP', { description: 'Microsoft Basic Render Driver' }],
    ['a fallback adapter without a name', { isFallbackAdapter: true }],
  ])('%s is a software renderer', (_name, a) => {
    expect(softwareRenderer(a)).toMatch(/software|fallback/);
  });

  it.each<[string, AdapterDescription]>([
    ['NVIDIA', { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' }],
    ['Apple', { vendor: 'apple', architecture: 'metal-3', description: '' }],
    ['Intel (WebGL)', { description: 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)' }],
    ['an adapter that says nothing', {}],
  ])('%s is not', (_name, a) => {
    expect(softwareRenderer(a)).toBeNull();
  });

  it('names the adapter in the reason', () => {
    expect(softwareRenderer({ vendor: 'google', architecture: 'swiftshader' })).toBe('its adapter is a software renderer (google swiftshader), slower than WASM on this CPU');
  });
});

describe('selectBackend with checks', () => {
  const TFNS = tf as unknown as TF;
  const wasmLoader = { wasm: async () => void (await import('@tensorflow/tfjs-backend-wasm')) };

  it('skips a backend whose check gives a reason, says so, and runs the next', async () => {
    const choice = await selectBackend(TFNS, ['cpu', 'wasm'], wasmLoader, { cpu: async () => 'its adapter is a software renderer (test)' });
    expect(choice).toEqual({ backend: 'wasm', fallbacks: ['cpu: skipped, its adapter is a software renderer (test)'] });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('a check that finds nothing wrong, or no check at all, keeps the backend', async () => {
    expect(await selectBackend(TFNS, ['cpu', 'wasm'], wasmLoader, { cpu: async () => null })).toEqual({ backend: 'cpu', fallbacks: [] });
    expect(await selectBackend(TFNS, ['wasm'], wasmLoader)).toEqual({ backend: 'wasm', fallbacks: [] });
  });
});
