/**
 * Convolutions and pooling: shape rules and their messages, every geometry that shape
 * inference allows computes with the inferred shape, and Conv2D's own gradients (forward
 * convolutions with explicit transposes, see core/graph/kinds/conv.ts) equal TensorFlow.js's
 * native ones on the cpu backend, and on WASM, where the native filter gradient is missing.
 * Finite-difference checks of every kind are in gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { analyzeGraph, type Analysis } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { kindDef } from '../../core/graph/catalogue.ts';
import { defaultParams, type ParamSpecs, type ParamValue } from '../../core/graph/params.ts';
import { avgPool, conv2d, dilateKernel, maxPool, type Padding } from '../../core/graph/kinds/conv.ts';
import type { Shape, TF, Tensor } from '../../core/graph/types.ts';

const T = tf as unknown as TF;

tf.enableProdMode();
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

function randomTensor(shape: number[], seed: number): Tensor {
  const r = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape);
}

/** Conv2D's output and the gradients of Σ y·R w.r.t. x and the kernel, by `conv`. */
function convAndGrads(conv: (x: Tensor, k: Tensor) => Tensor, x: Tensor, k: Tensor, seed: number): { y: Float32Array; shape: number[]; dx: Float32Array; dk: Float32Array } {
  return tf.tidy(() => {
    const y = conv(x, k);
    const r = randomTensor(y.shape, seed);
    const [dx, dk] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(conv(a, b), r)))([x, k]);
    return { y: y.dataSync() as Float32Array, shape: y.shape, dx: dx!.dataSync() as Float32Array, dk: dk!.dataSync() as Float32Array };
  });
}

function expectClose(a: Float32Array, b: Float32Array, what: string, rtol = 1e-4): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst / scale, `${what}: largest difference relative to the largest value`).toBeLessThan(rtol);
}

// ---------------------------------------------------------------------------------------------

function afterInput(kind: string, inShape: Shape, params: Record<string, ParamValue> = {}): Analysis {
  const g = new GraphBuilder('t');
  g.add('input', 'src', { shape: inShape });
  g.add(kind, 'n', params).wire('src.x', 'n.in');
  return analyzeGraph(g.build());
}
const issuesOf = (a: Analysis) => a.issues.filter((i) => i.nodeId === 'n');

describe('shape rules', () => {
  it.each([
    ['conv2d', [28, 28, 1], { filters: 6, kernelSize: [5, 5], padding: 'same' }, [28, 28, 6]],
    ['conv2d', [14, 14, 6], { filters: 16, kernelSize: [5, 5] }, [10, 10, 16]],
    ['conv2d', [7, 9, 3], { filters: 4, kernelSize: [3, 2], stride: 2 }, [3, 4, 4]],
    ['conv2d', [7, 7, 2], { filters: 4, kernelSize: [3, 3], stride: 2, padding: 'same' }, [4, 4, 4]],
    ['conv2d', [9, 9, 1], { filters: 2, kernelSize: [3, 3], dilation: 3 }, [3, 3, 2]],
    ['maxPool2d', [28, 28, 6], {}, [14, 14, 6]],
    ['maxPool2d', [5, 5, 2], { poolSize: [3, 3], padding: 'same' }, [3, 3, 2]],
    ['avgPool2d', [10, 10, 16], {}, [5, 5, 16]],
    ['avgPool2d', [5, 7, 1], { poolSize: [2, 3], stride: 1 }, [4, 5, 1]],
    ['globalAvgPool2d', [7, 7, 32], {}, [32]],
  ] as const)('%s on %j with %j gives %j', (kind, inShape, params, out) => {
    const a = afterInput(kind, [...inShape], params as Record<string, ParamValue>);
    expect(issuesOf(a).filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.nodes.n!.outputs.out).toEqual(out);
  });

  it('Conv2D counts kh·kw·c_in·filters weights and one bias per filter, and initializes with fan-in kh·kw·c_in', () => {
    const a = afterInput('conv2d', [14, 14, 6], { filters: 16, kernelSize: [5, 5], initializer: 'heNormal' });
    expect(a.nodes.n!.params).toEqual({ trainable: 5 * 5 * 6 * 16 + 16, nonTrainable: 0 });
    const kernel = a.nodes.n!.weights.find((w) => w.name === 'kernel')!;
    expect(kernel.shape).toEqual([5, 5, 6, 16]);
    expect(kernel.init).toMatchObject({ name: 'heNormal', fanIn: 5 * 5 * 6, fanOut: 5 * 5 * 16 });
    expect(afterInput('conv2d', [8, 8, 3], { filters: 4, kernelSize: [3, 3], bias: false }).nodes.n!.params.trainable).toBe(3 * 3 * 3 * 4);
  });

  it('Conv2D counts one multiply-add per kept kernel weight per output pixel, and its kernel can be pruned', () => {
    const def = kindDef('conv2d')!;
    const params = { ...defaultParams(def.params as ParamSpecs), filters: 16, kernelSize: [5, 5] };
    const weights = def.weights!(params, { in: [[14, 14, 6]] });
    expect(weights.find((w) => w.name === 'kernel')!.prunable).toBe(true);
    expect(weights.find((w) => w.name === 'bias')!.prunable).toBeFalsy();
    // LeNet's second convolution: 10×10 outputs, 5·5·6·16 weights, 16 biases.
    expect(def.flops!(params, { in: [[14, 14, 6]] }, { out: [10, 10, 16] }, { kernel: 2400, bias: 16 })).toBe(100 * (2 * 2400 + 16));
    expect(def.flops!(params, { in: [[14, 14, 6]] }, { out: [10, 10, 16] }, { kernel: 600, bias: 16 })).toBe(100 * (2 * 600 + 16));
  });

  it('BatchNorm on an image keeps one γ, β and running statistic per channel', () => {
    expect(afterInput('batchNorm', [28, 28, 6]).nodes.n!.params).toEqual({ trainable: 12, nonTrainable: 12 });
  });

  it('a Conv2D fed a flat vector says which Reshape to add', () => {
    const [e] = issuesOf(afterInput('conv2d', [784]));
    expect(e).toMatchObject({ severity: 'error', code: 'shape/needs-image', port: 'in' });
    expect(e!.message).toBe("Conv2D 'n' needs an image [h, w, c] but gets [784]: add a Reshape to [h, w, c] before it, e.g. [28, 28, 1]");
    expect(issuesOf(afterInput('conv2d', [10]))[0]!.message).toMatch(/gets \[10\]: add a Reshape to \[h, w, c\] before it$/);
  });

  it('a pooling layer fed a [28, 28] digit asks for the channel axis', () => {
    const [e] = issuesOf(afterInput('maxPool2d', [28, 28]));
    expect(e!.message).toBe("MaxPool2D 'n' needs an image [h, w, c] but gets [28, 28]: add a Reshape to [28, 28, 1] before it (one channel)");
  });

  it('a kernel larger than its input with valid padding is an error on the kernel size', () => {
    const [e] = issuesOf(afterInput('conv2d', [4, 4, 1], { kernelSize: [5, 5] }));
    expect(e).toMatchObject({ severity: 'error', code: 'shape/window-too-large', param: 'kernelSize' });
    expect(e!.message).toContain('the 5×5 kernel is larger than its 4×4 input');
    expect(e!.message).toContain("padding 'same'");
    const dilatedE = issuesOf(afterInput('conv2d', [6, 6, 1], { kernelSize: [3, 3], dilation: 3 }))[0]!;
    expect(dilatedE.message).toContain('the 7×7 kernel (3×3 with dilation 3) is larger than its 6×6 input');
    // Same padding pads the image, so the same kernel fits.
    expect(issuesOf(afterInput('conv2d', [4, 4, 1], { kernelSize: [5, 5], padding: 'same' })).filter((i) => i.severity === 'error')).toEqual([]);
    expect(issuesOf(afterInput('avgPool2d', [1, 5, 2]))[0]).toMatchObject({ code: 'shape/window-too-large', param: 'poolSize' });
  });

  it('a stride larger than the window is a warning: pixels are skipped', () => {
    const [w] = issuesOf(afterInput('maxPool2d', [9, 9, 1], { poolSize: [2, 2], stride: 3 }));
    expect(w).toMatchObject({ severity: 'warning', code: 'shape/stride-skips', param: 'stride' });
  });

  it('a kernel or pool size that is not [h, w] is an error on that parameter', () => {
    expect(issuesOf(afterInput('conv2d', [8, 8, 1], { kernelSize: [3, 3, 3] }))[0]).toMatchObject({ code: 'param/kernel-size', param: 'kernelSize' });
    expect(issuesOf(afterInput('avgPool2d', [8, 8, 1], { poolSize: [2] }))[0]).toMatchObject({ code: 'param/pool-size', param: 'poolSize' });
  });

  it('a Dense after a convolution asks for a Flatten', () => {
    const g = new GraphBuilder('t');
    g.add('input', 'src', { shape: [8, 8, 1] });
    g.chain('src.x', [
      ['conv2d', 'c', { filters: 2 }],
      ['dense', 'n', { units: 3 }],
    ]);
    expect(analyzeGraph(g.build()).issues.find((i) => i.nodeId === 'n')?.message).toContain('needs a flat input but gets [6, 6, 2]: add a Flatten before it');
  });

  it('DropConnect may feed a Conv2D', () => {
    const g = new GraphBuilder('t');
    g.add('input', 'src', { shape: [8, 8, 1] });
    g.chain('src.x', [
      ['dropConnect', 'dc'],
      ['conv2d', 'c', { filters: 2 }],
    ]);
    expect(analyzeGraph(g.build()).issues.find((i) => i.code === 'wiring/dropconnect')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

interface Geometry {
  h: number;
  w: number;
  k: [number, number];
  stride: number;
  padding: Padding;
  dilation: number;
}

/** Every small geometry: image sizes 1–6, kernels 1–4 (not square too), strides 1–3, both paddings, dilations 1–2. */
function geometries(): Geometry[] {
  const out: Geometry[] = [];
  for (const [h, w] of [
    [1, 1],
    [2, 3],
    [4, 4],
    [5, 6],
  ] as const)
    for (const k of [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 4],
    ] as [number, number][])
      for (const stride of [1, 2, 3])
        for (const padding of ['valid', 'same'] as const) for (const dilation of [1, 2]) out.push({ h, w, k, stride, padding, dilation });
  return out;
}

/** Output shape by shape inference, or null when it refuses the geometry. */
function inferred(kind: string, g: Geometry, c: number, extra: Record<string, ParamValue>): Shape | null {
  const def = kindDef(kind)!;
  const params = { ...defaultParams(def.params as ParamSpecs), stride: g.stride, padding: g.padding, ...extra };
  const r = def.infer({ params, inputs: { in: { shapes: [[g.h, g.w, c]] } }, name: "'n'" });
  return (r.issues ?? []).some((i) => i.severity === 'error') ? null : r.outputs.out!;
}

describe('every geometry that shape inference allows computes, with the inferred shape', () => {
  const all = geometries();

  it('Conv2D: output shape as inferred, gradients equal to TensorFlow.js (cpu)', () => {
    let checked = 0;
    let refused = 0;
    const before = tf.memory().numTensors;
    for (const [i, g] of all.entries()) {
      const shape = inferred('conv2d', g, 2, { filters: 3, kernelSize: g.k, dilation: g.dilation });
      if (!shape) {
        refused++;
        // Refused only when the dilated kernel does not fit with valid padding.
        expect(g.padding).toBe('valid');
        expect((g.k[0] - 1) * g.dilation + 1 > g.h || (g.k[1] - 1) * g.dilation + 1 > g.w).toBe(true);
        continue;
      }
      const x = randomTensor([2, g.h, g.w, 2], i);
      const k = randomTensor([...g.k, 2, 3], 1000 + i);
      const ours = convAndGrads((a, b) => conv2d(T, a, dilateKernel(T, b, g.dilation), g.stride, g.padding), x, k, 2000 + i);
      expect(ours.shape, JSON.stringify(g)).toEqual([2, ...shape]);
      if (g.dilation === 1) {
        // TensorFlow.js has gradients only for undilated convolutions.
        const native = convAndGrads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, g.stride, g.padding), x, k, 2000 + i);
        expectClose(ours.y, native.y, `y ${JSON.stringify(g)}`);
        expectClose(ours.dx, native.dx, `dx ${JSON.stringify(g)}`);
        expectClose(ours.dk, native.dk, `dk ${JSON.stringify(g)}`);
      } else if (g.stride === 1) {
        const y = tf.tidy(() => tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, g.padding, 'NHWC', g.dilation).dataSync() as Float32Array);
        expectClose(ours.y, y, `dilated y ${JSON.stringify(g)}`);
      }
      tf.dispose([x, k]);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['maxPool2d', 'avgPool2d'])('%s: output shape as inferred, finite gradients', (kind) => {
    const before = tf.memory().numTensors;
    let checked = 0;
    for (const [i, g] of all.entries()) {
      if (g.dilation !== 1) continue;
      const shape = inferred(kind, g, 2, { poolSize: g.k });
      if (!shape) continue;
      const x = randomTensor([2, g.h, g.w, 2], i);
      const forward = (a: Tensor) =>
        kindDef(kind)!.forward!({ tf: T, params: { poolSize: g.k, stride: g.stride, padding: g.padding }, training: true, weights: {}, seed: () => 0, setState: () => {}, dropConnectRate: 0, outputShapes: { out: shape }, inputShapes: { in: [[g.h, g.w, 2]] } }, { in: [a] }).out!;
      const { ys, dx } = tf.tidy(() => {
        const y = forward(x);
        const grad = tf.grad((a: Tensor) => tf.sum(forward(a)))(x);
        return { ys: y.shape, dx: grad.dataSync() as Float32Array };
      });
      expect(ys, JSON.stringify(g)).toEqual([2, ...shape]);
      expect(Array.from(dx).every(Number.isFinite)).toBe(true);
      // Every output is the max or the mean of its window: the gradient of Σ y sums to the number of outputs.
      expect(dx.reduce((a, b) => a + b, 0)).toBeCloseTo(2 * shape[0]! * shape[1]! * shape[2]!, 3);
      tf.dispose(x);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('on WASM, Conv2D and pooling give the numbers the cpu backend gives', () => {
  // LeNet's two convolutions, a strided one and a same-padded 3×3 of a residual block.
  const cases: { x: number[]; k: number[]; stride: number; padding: Padding }[] = [
    { x: [8, 28, 28, 1], k: [5, 5, 1, 6], stride: 1, padding: 'same' },
    { x: [8, 14, 14, 6], k: [5, 5, 6, 16], stride: 1, padding: 'valid' },
    { x: [4, 15, 15, 8], k: [3, 3, 8, 8], stride: 2, padding: 'valid' },
    { x: [4, 16, 16, 8], k: [3, 3, 8, 16], stride: 2, padding: 'same' },
  ];

  it.each(cases)('conv2d $x * $k, stride $stride, $padding', async (c) => {
    await tf.setBackend('cpu');
    const xc = randomTensor(c.x, 1);
    const kc = randomTensor(c.k, 2);
    const native = convAndGrads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.padding), xc, kc, 3);
    tf.dispose([xc, kc]);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = randomTensor(c.x, 1);
    const k = randomTensor(c.k, 2);
    const ours = convAndGrads((a, b) => conv2d(T, a, b, c.stride, c.padding), x, k, 3);
    tf.dispose([x, k]);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    expectClose(ours.y, native.y, 'y');
    expectClose(ours.dx, native.dx, 'dx');
    expectClose(ours.dk, native.dk, 'dk');
  });

  // LeNet's 2×2 pooling of [28, 28, 6] maps is the case where TensorFlow.js's own WASM
  // MaxPoolGrad drops the gradient of windows with a negative maximum. Tied maxima (a
  // digit's blank background after a Conv2D) hand dy to the first one only, as TensorFlow does.
  it.each([
    { x: [4, 9, 9, 3], window: [3, 3], stride: 2, padding: 'valid' },
    { x: [4, 9, 9, 3], window: [3, 3], stride: 2, padding: 'same' },
    { x: [2, 28, 28, 6], window: [2, 2], stride: 2, padding: 'valid' },
    { x: [2, 5, 7, 2], window: [2, 3], stride: 2, padding: 'same' },
    { x: [2, 12, 12, 3], window: [2, 2], stride: 2, padding: 'valid', ties: true },
    { x: [2, 9, 9, 3], window: [3, 3], stride: 2, padding: 'same', ties: true },
  ] as { x: number[]; window: [number, number]; stride: number; padding: Padding; ties?: boolean }[])('max and average pooling of $x, $window, stride $stride, $padding (ties: $ties), and their gradients', async (c) => {
    // Values in {−1, −0.5, 0, 0.5, 1}: most windows hold their maximum more than once.
    const sample = (shape: number[], seed: number) => (c.ties ? tf.tidy(() => tf.div(tf.round(tf.mul(randomTensor(shape, seed), 2)), 2)) : randomTensor(shape, seed));
    const run = () =>
      tf.tidy(() => {
        const x = sample(c.x, 5);
        const f = (a: Tensor) => {
          const m = maxPool(T, a as tf.Tensor4D, c.window, c.stride, c.padding);
          const r = randomTensor(m.shape, 6);
          return tf.add(tf.sum(tf.mul(m, r)), tf.sum(tf.mul(avgPool(T, a as tf.Tensor4D, c.window, c.stride, c.padding), r)));
        };
        return [f(x).dataSync()[0]!, tf.grad(f)(x).dataSync() as Float32Array] as const;
      });
    await tf.setBackend('cpu');
    const [vc, gc] = run();
    const native = tf.tidy(() => {
      const x = sample(c.x, 5);
      const r = randomTensor(tf.maxPool(x as tf.Tensor4D, c.window, c.stride, c.padding).shape, 6);
      return tf.grad((a: Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.window, c.stride, c.padding), r)))(x).dataSync() as Float32Array;
    });
    const ours = tf.tidy(() => {
      const x = sample(c.x, 5);
      const r = randomTensor(tf.maxPool(x as tf.Tensor4D, c.window, c.stride, c.padding).shape, 6);
      return tf.grad((a: Tensor) => tf.sum(tf.mul(maxPool(T, a as tf.Tensor4D, c.window, c.stride, c.padding), r)))(x).dataSync() as Float32Array;
    });
    expectClose(ours, native, 'max pooling gradient vs TensorFlow.js on cpu');
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const [vw, gw] = run();
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    expect(vw).toBeCloseTo(vc, 3);
    expectClose(gw, gc, 'gradient');
  });
});

describe('filters and feature maps for the canvas', () => {
  it('shows channel 0 of every filter and the maps of the chosen example, from one forward pass', async () => {
    await tf.setBackend('cpu');
    const { loadMnistNode } = await import('../../core/data/mnist-node.ts');
    const { Trainer } = await import('../../core/train/trainer.ts');
    const { convView } = await import('../../core/train/views.ts');
    const g = new GraphBuilder('cnn');
    g.add('dataset', 'data', { source: 'mnist', samples: 60, validationFraction: 0.5, batchSize: 10 });
    const out = g.chain('data.x', [
      ['reshape', 'image', { shape: [28, 28, 1] }],
      ['conv2d', 'c1', { filters: 3, kernelSize: [3, 3] }],
      ['relu', 'r1'],
      ['conv2d', 'c2', { filters: 20, kernelSize: [5, 5], stride: 2 }],
      ['globalAvgPool2d', 'gap'],
      ['dense', 'head', { units: 10 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const trainer = Trainer.create(T, g.build(), { mnist: await loadMnistNode(), instrument: false, maxSteps: 2 });
    await trainer.run();
    const before = tf.memory().numTensors;
    const view = (await convView(trainer, 7))!;
    expect(tf.memory().numTensors).toBe(before);
    expect(view.example).toBe(7);
    expect(view.input).toHaveLength(784);
    const c1 = view.layers.c1!;
    expect(c1).toMatchObject({ filters: 3, kh: 3, kw: 3, channels: 1, oh: 26, ow: 26 });
    const kernel = trainer.program.weight('c1', 'kernel')!.variable.dataSync();
    // Filter f, row i, column j of channel 0 is kernel[i, j, 0, f].
    expect(c1.kernel[1 * 9 + 2 * 3 + 0]).toBeCloseTo(kernel[(2 * 3 + 0) * 3 + 1]!, 6);
    expect(c1.kernelSpan).toBeCloseTo(Math.max(...Array.from(kernel, Math.abs)), 6);
    // The maps are the layer's output for example 7 of the validation set, filter-major.
    const val = trainer.dataset.val;
    const expected = tf.tidy(() => {
      const r = trainer.program.forward({ x: tf.tensor(val.x.slice(7 * 784, 8 * 784), [1, 28, 28]), y: tf.zeros([1, 10]), training: false, seed: () => 0 });
      return r.outputs.get('c1')!.out!.dataSync() as Float32Array;
    });
    expect(c1.maps[2 * 26 * 26 + 5 * 26 + 9]).toBeCloseTo(expected[(5 * 26 + 9) * 3 + 2]!, 5);
    // At most 16 maps of the 20 filters of c2 are sent.
    expect(view.layers.c2).toMatchObject({ filters: 20, channels: 3, oh: 11, ow: 11 });
    expect(view.layers.c2!.maps).toHaveLength(16 * 11 * 11);
    expect(view.layers.c2!.kernel).toHaveLength(20 * 25);
    trainer.dispose();
  });
});

describe('Conv2D’s training path', () => {
  // conv1 of the residual CNN: stride 2 with uneven same padding.
  it.each(['cpu', 'wasm'])('on %s, bias and ReLU fused into the convolution, and the first layer without dL/dx, give the plain ops’ values and gradients', async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const x = randomTensor([3, 9, 9, 2], 31);
    const k = randomTensor([5, 5, 2, 4], 32);
    const b = randomTensor([4], 33);
    const r = randomTensor([3, 5, 5, 4], 34);
    const plain = (a: Tensor, kk: Tensor, bb: Tensor) => tf.relu(tf.add(conv2d(T, a, kk, 2, 'same'), bb));
    const fused = (gradX: boolean) => (a: Tensor, kk: Tensor, bb: Tensor) => conv2d(T, a, kk, 2, 'same', { bias: bb, activation: 'relu', gradX });
    const loss = (f: (a: Tensor, kk: Tensor, bb: Tensor) => Tensor) => (a: Tensor, kk: Tensor, bb: Tensor) => tf.sum(tf.mul(f(a, kk, bb), r));
    const read = (ts: Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);
    const [want, got, gotNoDx] = tf.tidy(() => [
      read([plain(x, k, b), ...tf.grads(loss(plain))([x, k, b])]),
      read([fused(true)(x, k, b), ...tf.grads(loss(fused(true)))([x, k, b])]),
      read(tf.grads((kk: Tensor, bb: Tensor) => loss(fused(false))(x, kk, bb))([k, b])),
    ]);
    ['y', 'dx', 'dk', 'db'].forEach((what, i) => expectClose(got![i]!, want![i]!, what));
    expectClose(gotNoDx![0]!, want![2]!, 'dk without dx');
    expectClose(gotNoDx![1]!, want![3]!, 'db without dx');
    tf.dispose([x, k, b, r]);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
  });

  it('LeNet’s Conv2D → ReLU pairs are fused on plain training steps', async () => {
    const { compilePlan } = await import('../../core/compile/plan.ts');
    const { loadGraph } = await import('../../core/io/load.ts');
    const { readFileSync } = await import('node:fs');
    const loaded = loadGraph(readFileSync(new URL('../../examples/mnist-lenet.nngraph', import.meta.url), 'utf8'));
    if (!loaded.ok) throw new Error(loaded.error.message);
    const compiled = compilePlan(loaded.document);
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    expect(compiled.plan.fusions.map((f) => `${f.layer}→${f.activation}`)).toEqual(expect.arrayContaining(['conv1→relu1', 'conv2→relu2']));
  });
});

describe('experiments on convolutions', () => {
  it('a landscape direction has, filter by filter, the norm of the Conv2D kernel’s filter (net_plotter.py’s per-output-channel normalization)', async () => {
    await tf.setBackend('cpu');
    const { filterNormalizedDirection } = await import('../../core/experiments/directions.ts');
    // [kh 3, kw 3, in 2, out 4]: a filter is one output channel, PyTorch's weight[j] of [out, in, kh, kw].
    const kernel = randomTensor([3, 3, 2, 4], 21);
    const scaled = tf.tidy(() => tf.mul(kernel, tf.tensor1d([0.1, 1, 3, 10]))); // filters of very different norms
    const [d] = filterNormalizedDirection(T, [scaled], createRng(4));
    const norms = (t: Tensor) => {
      const v = t.dataSync();
      const out = [0, 0, 0, 0];
      for (let i = 0; i < v.length; i++) out[i % 4]! += v[i]! ** 2;
      return out.map(Math.sqrt);
    };
    const want = norms(scaled);
    norms(d!).forEach((n, j) => expect(n).toBeCloseTo(want[j]!, 4));
    tf.dispose([kernel, scaled, d!]);
  });

  it('lottery-ticket masks cover Conv2D kernels: pruned to the rule’s count, and exactly zero after training', async () => {
    await tf.setBackend('cpu');
    const { compilePlan } = await import('../../core/compile/plan.ts');
    const { denseMasks, magnitudePrune, prunableWeights } = await import('../../core/train/pruning.ts');
    const { keptCount } = await import('../../core/io/masks.ts');
    const { Trainer } = await import('../../core/train/trainer.ts');
    const g = new GraphBuilder('masked cnn');
    g.add('dataset', 'data', { source: 'blobs', samples: 64, classes: 2, batchSize: 16, seed: 3 });
    const out = g.chain('data.x', [
      ['reshape', 'image', { shape: [1, 2, 1] }],
      ['conv2d', 'conv', { filters: 4, kernelSize: [1, 2], padding: 'same' }],
      ['relu', 'relu'],
      ['flatten', 'flat'],
      ['dense', 'fc', { units: 2 }],
    ]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('momentum', 'opt', { learningRate: 0.1, epochs: 3 }).wire('loss.loss', 'opt.loss');
    const doc = g.build();
    const compiled = compilePlan(doc);
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    const weights = prunableWeights(compiled.plan);
    expect(weights.map((w) => `${w.nodeId}.${w.name}:${w.size}`)).toEqual(['conv.kernel:8', 'fc.kernel:16']);
    const values = Object.fromEntries(weights.map((w) => [w.nodeId, { [w.name]: Float32Array.from({ length: w.size }, (_, i) => (i % 2 ? 1 : -1) * (i + 1)) }]));
    const masks = magnitudePrune(weights, values, denseMasks(weights), 0.5, 'layer');
    expect(masks.conv!.kernel!.shape).toEqual([1, 2, 1, 4]);
    expect(keptCount(masks.conv!.kernel!.bits)).toBe(4);
    const before = tf.memory().numTensors;
    const trainer = Trainer.create(T, doc, { masks });
    await trainer.run();
    const trained = (await trainer.exportWeights()).tensors.conv!.kernel!;
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const { decodeFloat32 } = await import('../../core/io/base64.ts');
    const k = decodeFloat32(trained.data)!;
    masks.conv!.kernel!.bits.forEach((b, i) => (b ? expect(k[i]).not.toBe(0) : expect(k[i]).toBe(0)));
  });
});
