/**
 * Convolutional layers on images: Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D.
 *
 * Images are [h, w, c] per example (channels last, NHWC, as TensorFlow.js stores them), so
 * an MNIST digit enters as [28, 28, 1] after a Reshape. Kernels are [kh, kw, c_in, c_out].
 *
 * Conv2D's gradients are written out here (tf.customGrad) instead of left to TensorFlow.js:
 * its WASM backend has no Conv2DBackpropFilter kernel at all (training would stop with
 * "kernel not registered"), and its Conv2DBackpropInput is a plain loop, 3–10× slower than
 * the forward (XNNPACK). Both gradients are themselves forward convolutions, with explicit
 * transposes, a flipped kernel and zero-dilated output gradients, so they run on the fast
 * kernel of every backend and give the same numbers (see tests/unit/conv.test.ts). Owning the
 * gradient also lets the forward be one fused kernel (convolution, bias and ReLU), and lets a
 * first layer fed by the data skip dL/dx, as Dense does (core/graph/kinds/matmul.ts).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { bool, int, oneOf, shape } from '../params.ts';
import { defineKind, type ForwardContext, type FusableActivation, type InferContext, type KerasLayerView, type LocalIssue, type OnnxContext, type OnnxNodeView, type ParamValues, type TF, type Tensor, type TorchContext, type WeightSpec } from '../types.ts';
import { dropConnectKernel, initializerParam, initSpec, onnxDropConnect, sigmaParam, TORCH_DROP_CONNECT } from './layers.ts';
import { error, fmt, kerasNumber, kerasPair, kerasUnary, py, single, transposeConstant, warning } from './util.ts';

export const PADDINGS = ['valid', 'same'] as const;
export type Padding = (typeof PADDINGS)[number];

const paddingParam = oneOf({
  label: 'Padding',
  help: "Valid: the window stays inside the image, so the output shrinks by (kernel − 1). Same: zeros are added around the image so that the output is ⌈input / stride⌉ (with stride 1, the input's size).",
  options: PADDINGS,
  default: 'valid',
  optionLabels: { valid: 'Valid (no padding)', same: 'Same (zero padding)' },
});

const strideParam = (what: string, def: number) =>
  int({ label: 'Stride', help: `Step between two ${what} positions, in pixels, in both directions. A stride of 2 halves the image.`, default: def, min: 1, max: 64 });

// ---------------------------------------------------------------------------------------------
// Shapes

/** Output length along one axis: ⌈in / stride⌉ with same padding, ⌊(in − k) / stride⌋ + 1 with valid. */
export function convOutputSize(input: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(input / stride) : Math.floor((input - kernel) / stride) + 1;
}

/**
 * Zeros added before and after one axis for `same` padding, as TensorFlow does it (the odd
 * one goes after); [0, 0] for valid.
 */
export function samePadding(input: number, kernel: number, stride: number, padding: Padding): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((convOutputSize(input, kernel, stride, 'same') - 1) * stride + kernel - input, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The [h, w, c] image wired into `port`, or null with a message saying how to make one: a
 * flat vector of n = r² values is most likely a square one-channel image, so the fix names
 * the Reshape to [r, r, 1].
 */
export function needsImage(ctx: InferContext<unknown>, title: string, port = 'in'): { image: [number, number, number] | null; issues: LocalIssue[] } {
  const s = single(ctx, port);
  if (!s) return { image: null, issues: [] };
  if (s.length === 3) return { image: s as [number, number, number], issues: [] };
  let fix: string;
  if (s.length === 2) fix = `add a Reshape to ${fmt([...s, 1])} before it (one channel)`;
  else if (s.length === 1) {
    const r = Math.round(Math.sqrt(s[0]!));
    fix = r * r === s[0] ? `add a Reshape to [h, w, c] before it, e.g. ${fmt([r, r, 1])}` : 'add a Reshape to [h, w, c] before it';
  } else fix = `it takes [h, w, c], not ${s.length} dimensions: add a Reshape to [h, w, c] before it`;
  return {
    image: null,
    issues: [error('shape/needs-image', `${title} ${ctx.name} needs an image [h, w, c] but gets ${fmt(s)}: ${fix}`, { port })],
  };
}

/**
 * The output image of a sliding window (convolution or pooling) over `image`, or null with
 * the reason: a window larger than the image with valid padding leaves nothing to compute.
 */
function windowOutput(
  ctx: InferContext<unknown>,
  title: string,
  image: [number, number, number],
  window: [number, number],
  stride: number,
  padding: Padding,
  what: string,
  param: string,
): { hw: [number, number] | null; issues: LocalIssue[] } {
  const [h, w] = image;
  const [kh, kw] = window;
  if (padding === 'valid' && (kh > h || kw > w)) {
    return {
      hw: null,
      issues: [
        error(
          'shape/window-too-large',
          `${title} ${ctx.name}: the ${kh}×${kw} ${what} is larger than its ${h}×${w} input, so valid padding leaves nothing: use a smaller ${what}, padding 'same', or less downsampling before it`,
          { param },
        ),
      ],
    };
  }
  const issues: LocalIssue[] = [];
  if (stride > Math.max(kh, kw)) {
    issues.push(
      warning(
        'shape/stride-skips',
        `${title} ${ctx.name}: stride ${stride} is larger than the ${kh}×${kw} ${what}, so some pixels are never looked at`,
        { param: 'stride' },
      ),
    );
  }
  return { hw: [convOutputSize(h, kh, stride, padding), convOutputSize(w, kw, stride, padding)], issues };
}

/** The effective extent of a dilated kernel: (k − 1)·d + 1. */
const dilated = (k: number, d: number) => (k - 1) * d + 1;

// ---------------------------------------------------------------------------------------------
// The computation

type T4 = tfTypes.Tensor4D;

/**
 * A kernel with dilation d as an ordinary kernel of extent (k − 1)·d + 1, zeros between the
 * taps. TensorFlow.js has no gradient for dilated convolutions; this one is made of pad and
 * reshape, whose gradients it has, and costs d² more multiply-adds only on zeros.
 */
export function dilateKernel(tf: TF, kernel: Tensor, d: number): Tensor {
  if (d === 1) return kernel;
  const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
  const spread = tf.reshape(tf.pad(tf.reshape(kernel, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]), [kh * d, kw * d, ci, co]);
  return tf.slice(spread, [0, 0, 0, 0], [dilated(kh, d), dilated(kw, d), ci, co]);
}

/** dL/dx of y = conv(x, k): the output gradient, zero-dilated by the stride and padded, convolved with the flipped kernel. */
function convInputGrad(tf: TF, dy: T4, kernel: T4, xShape: number[], stride: number, padding: Padding): T4 {
  const [n, h, w] = xShape as [number, number, number, number];
  const [kh, kw, , co] = kernel.shape;
  const [, oh, ow] = dy.shape;
  const [pt, pb] = samePadding(h, kh, stride, padding);
  const [pl, pr] = samePadding(w, kw, stride, padding);
  let d: T4 = dy;
  if (stride > 1) {
    const s = stride;
    const spread = tf.reshape(tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, co]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]), [n, oh * s, ow * s, co]);
    d = tf.slice(spread as T4, [0, 0, 0, 0], [n, (oh - 1) * s + 1, (ow - 1) * s + 1, co]);
  }
  // Rows and columns of the padded input that no window reached get no gradient.
  const restH = h + pt + pb - ((oh - 1) * stride + kh);
  const restW = w + pl + pr - ((ow - 1) * stride + kw);
  d = tf.pad(d, [[0, 0], [kh - 1 - pt, kh - 1 + restH - pb], [kw - 1 - pl, kw - 1 + restW - pr], [0, 0]]);
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as T4;
  return tf.conv2d(d, flipped, 1, 'valid');
}

/**
 * dL/dk of y = conv(x, k): the batch becomes the channel axis, so Σ_n x ⋆ dy is one forward
 * convolution of xᵀ [c_in, H, W, N] with dyᵀ [oh, ow, N, c_out], dilated by the stride.
 */
function convFilterGrad(tf: TF, x: T4, dy: T4, kernelShape: number[], stride: number, padding: Padding): Tensor {
  const [, h, w] = x.shape;
  const [kh, kw] = kernelShape as [number, number];
  const [pt, pb] = samePadding(h, kh, stride, padding);
  const [pl, pr] = samePadding(w, kw, stride, padding);
  const xp = pt + pb + pl + pr > 0 ? (tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) as T4) : x;
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as T4;
  const dyt = tf.transpose(dy, [1, 2, 0, 3]) as T4;
  let g = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', stride) as T4;
  // With valid padding and a stride that does not divide (H − kh), the last rows are never read.
  if (g.shape[1] !== kh || g.shape[2] !== kw) g = tf.slice(g, [0, 0, 0, 0], [g.shape[0], kh, kw, g.shape[3]]);
  return tf.transpose(g, [1, 2, 0, 3]);
}

export interface ConvOptions {
  /** Added to every output pixel (length C_out), inside the convolution's kernel. */
  bias?: Tensor;
  /** Applied after the bias, in the same kernel. */
  activation?: 'relu';
  /**
   * Whether a gradient must flow back into x. False when x comes from the data alone (the
   * first layer): the backward pass then skips dL/dx, a convolution as large as the forward.
   */
  gradX?: boolean;
}

/**
 * y = conv2d(x, kernel) (+ bias) (then ReLU) with gradients computed by forward convolutions
 * (see the file's comment). x: [N, H, W, C_in], kernel: [kh, kw, C_in, C_out], no dilation.
 */
export function conv2d(tf: TF, x: Tensor, kernel: Tensor, stride: number, padding: Padding, o: ConvOptions = {}): Tensor {
  const { bias, activation } = o;
  const gradX = o.gradX ?? true;
  const forward = (xi: T4, ki: T4, bi: Tensor | undefined): Tensor => {
    if (!bi && !activation) return tf.conv2d(xi, ki, stride, padding);
    // tf.fused.conv2d splits into conv2d, add and relu whenever a gradient is being recorded
    // (TensorFlow.js cannot differentiate its fused ReLU); this op brings its own gradient, so
    // it calls the fused kernel itself: one pass over the output instead of three.
    const attrs = { strides: [stride, stride], pad: padding, dataFormat: 'NHWC', dilations: [1, 1], activation: activation ?? 'linear', leakyreluAlpha: 0 };
    return tf.engine().runKernel('FusedConv2D', { x: xi, filter: ki, ...(bi ? { bias: bi } : {}) }, attrs as unknown as tfTypes.NamedAttrMap) as Tensor;
  };
  // customGrad differentiates only its arguments, so x is one only when it needs a gradient;
  // otherwise it is captured (and saved for dL/dW, which reads it).
  const inputs = [...(gradX ? [x] : []), kernel, ...(bias ? [bias] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tfTypes.GradSaveFunc;
    const ts = args.slice(0, -1) as Tensor[];
    const xi = (gradX ? ts[0]! : x) as T4;
    const ki = ts[gradX ? 1 : 0]! as T4;
    const y = forward(xi, ki, bias ? ts[ts.length - 1]! : undefined);
    save([xi, ki, y]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, ks, ys] = saved as [T4, T4, T4];
        // relu(z) > 0 exactly where z > 0, so the output tells where the gradient passes.
        const dz = (activation === 'relu' ? tf.mul(dy, tf.step(ys)) : dy) as T4;
        const grads: Tensor[] = [];
        if (gradX) grads.push(convInputGrad(tf, dz, ks, xs.shape, stride, padding));
        grads.push(convFilterGrad(tf, xs, dz, ks.shape, stride, padding));
        if (bias) grads.push(tf.sum(dz, [0, 1, 2]));
        return grads;
      },
    };
  });
  return (op as (...ts: Tensor[]) => Tensor)(...inputs);
}

/** The same-padding zeros (or other value) around an image, explicit; null when there are none. */
function padSame(tf: TF, x: T4, window: [number, number], stride: number, value = 0): T4 | null {
  const [, h, w] = x.shape;
  const [pt, pb] = samePadding(h, window[0], stride, 'same');
  const [pl, pr] = samePadding(w, window[1], stride, 'same');
  return pt + pb + pl + pr === 0 ? null : tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]], value);
}

/**
 * Max pooling, with same padding as explicit −∞ borders. The forward is TensorFlow.js's
 * kernel; the gradient is written here: TensorFlow.js 4.22's WASM MaxPoolGrad loses the
 * gradient of windows whose maximum is negative, and takes 30–90× the forward's time.
 * Each window's dy goes to the first pixel (in raster order) equal to its maximum, as in
 * TensorFlow and PyTorch. Ties are common: a digit's blank background gives every pixel of
 * a window the same value (a Conv2D's bias, or ReLU of it), and handing dy to each of them
 * would multiply that window's gradient by its size.
 */
export function maxPool(tf: TF, x: T4, window: [number, number], stride: number, padding: Padding): Tensor {
  const src = (padding === 'same' ? padSame(tf, x, window, stride, -Infinity) : null) ?? x;
  const f = tf.customGrad((...args: (Tensor | tfTypes.GradSaveFunc)[]) => {
    const [xi, save] = args as [T4, tfTypes.GradSaveFunc];
    const y = tf.maxPool(xi, window, stride, 'valid');
    save([xi, y]);
    return { value: y, gradFunc: (dy: Tensor, saved: Tensor[]) => maxPoolGrad(tf, saved[0] as T4, saved[1] as T4, dy as T4, window, stride) };
  });
  return f(src);
}

/**
 * dL/dx of a valid max pooling, with 4-D ops at the input's resolution (strided slices are
 * slow on WASM): y and dy upsampled by the stride (nearest neighbour) sit over the top-left
 * pixel of each window; the input shifted by (u, v) sits there the pixel at offset (u, v).
 * Offsets are visited in raster order, and a window that found its maximum takes no other.
 */
function maxPoolGrad(tf: TF, x: T4, y: T4, dy: T4, window: [number, number], s: number): T4 {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  if (window[0] === s && window[1] === s) return tiledMaxPoolGrad(tf, x, dy, s, oh, ow);
  const [uh, uw] = [oh * s, ow * s];
  const yUp = tf.image.resizeNearestNeighbor(y, [uh, uw]);
  const dyUp = tf.image.resizeNearestNeighbor(dy, [uh, uw]);
  const corner = new Float32Array(uh * uw);
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) corner[i * s * uw + j * s] = 1;
  // 1 where a window (at its top-left pixel) has not yet handed its dy to a pixel.
  let open: Tensor = tf.tensor3d(corner, [uh, uw, 1]);
  // Room to shift by up to the window's size without running off the end.
  const xp = tf.pad(x, [[0, 0], [0, Math.max(uh + window[0] - h, 0)], [0, Math.max(uw + window[1] - w, 0)], [0, 0]], -Infinity);
  const [bh, bw] = [Math.max(h, uh + window[0]), Math.max(w, uw + window[1])];
  const parts: Tensor[] = [];
  for (let u = 0; u < window[0]; u++) {
    for (let v = 0; v < window[1]; v++) {
      const shifted = tf.slice(xp, [0, u, v, 0], [n, uh, uw, c]);
      const first = tf.mul(tf.cast(tf.equal(shifted, yUp), 'float32'), open);
      open = tf.sub(open, first);
      parts.push(tf.pad(tf.mul(first, dyUp), [[0, 0], [u, bh - u - uh], [v, bw - v - uw], [0, 0]]));
    }
  }
  return fitTo(tf, tf.addN(parts), h, w);
}

/**
 * dL/dx when the windows tile the image (window = stride, LeNet's 2×2 pooling): each window's
 * s·s pixels are laid out along one axis, whose first maximum (argMax) takes the window's dy.
 * Two transposes and a one-hot, instead of s² passes over the whole image.
 */
function tiledMaxPoolGrad(tf: TF, x: T4, dy: T4, s: number, oh: number, ow: number): T4 {
  const [n, h, w, c] = x.shape;
  if (s === 1) return dy; // 1×1 windows: every pixel is its window's maximum
  const covered = oh * s === h && ow * s === w ? x : tf.slice(x, [0, 0, 0, 0], [n, oh * s, ow * s, c]);
  const windows = tf.reshape(tf.transpose(tf.reshape(covered, [n, oh, s, ow, s, c]), [0, 1, 3, 5, 2, 4]), [n, oh, ow, c, s * s]);
  const first = tf.oneHot(tf.argMax(windows, -1), s * s);
  const spread = tf.mul(first, tf.expandDims(dy, -1));
  const back = tf.reshape(tf.transpose(tf.reshape(spread, [n, oh, ow, c, s, s]), [0, 1, 4, 2, 5, 3]), [n, oh * s, ow * s, c]);
  return fitTo(tf, back, h, w);
}

/** Zero-pad or crop an image batch to h × w. */
function fitTo(tf: TF, t: Tensor, h: number, w: number): T4 {
  const [n, th, tw, c] = t.shape as [number, number, number, number];
  const grown = th < h || tw < w ? tf.pad(t, [[0, 0], [0, Math.max(h - th, 0)], [0, Math.max(w - tw, 0)], [0, 0]]) : t;
  return (grown.shape[1] === h && grown.shape[2] === w ? grown : tf.slice(grown, [0, 0, 0, 0], [n, h, w, c])) as T4;
}

/**
 * Average pooling over the pixels of each window that lie inside the image. With same padding
 * TensorFlow.js 4.22 divides by those pixels in the forward but by the whole window in its
 * AvgPoolGrad, so its gradient is wrong at the borders. Here the zeros are explicit (a valid
 * pooling of the padded image, whose gradient is right) and a constant per-position factor
 * window / pixels-inside turns the mean over the window into the mean over the image.
 */
export function avgPool(tf: TF, x: T4, window: [number, number], stride: number, padding: Padding): Tensor {
  const padded = padding === 'same' ? padSame(tf, x, window, stride) : null;
  if (!padded) return tf.avgPool(x, window, stride, 'valid');
  const [, h, w] = x.shape;
  const [ph, pw] = window;
  const pt = samePadding(h, ph, stride, 'same')[0];
  const pl = samePadding(w, pw, stride, 'same')[0];
  const pooled = tf.avgPool(padded, window, stride, 'valid');
  const inside = (i: number, n: number, k: number, before: number) => Math.min(i * stride - before + k, n) - Math.max(i * stride - before, 0);
  const [oh, ow] = [convOutputSize(h, ph, stride, 'same'), convOutputSize(w, pw, stride, 'same')];
  const factor = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) factor[i * ow + j] = (ph * pw) / (inside(i, h, ph, pt) * inside(j, w, pw, pl));
  return tf.mul(pooled, tf.tensor3d(factor, [oh, ow, 1]));
}

// ---------------------------------------------------------------------------------------------
// ONNX: its Conv and pooling ops are NCHW; Gradflow's tensors stay NHWC everywhere else in the
// exported graph (Flatten then reads them in Gradflow's order), so each op is wrapped in a
// Transpose pair and the kernel [kh, kw, in, out] is transposed to [out, in, kh, kw].

const NHWC_TO_NCHW = { perm: { ints: [0, 3, 1, 2] } };
const NCHW_TO_NHWC = { perm: { ints: [0, 2, 3, 1] } };

/** ONNX `pads` [top, left, bottom, right] for a window of `extent` over the node's input image. */
function onnxPads(ctx: OnnxContext<unknown>, extent: [number, number], stride: number, padding: Padding): { ints: number[] } {
  const [h, w] = ctx.inputShapes.in![0]! as [number, number, number];
  const [pt, pb] = samePadding(h, extent[0], stride, padding);
  const [pl, pr] = samePadding(w, extent[1], stride, padding);
  return { ints: [pt, pl, pb, pr] };
}

/** An NCHW ONNX op on the node's NHWC input, returning NHWC. */
function onnxNchw(ctx: OnnxContext<unknown>, op: (nchw: string) => string): string {
  return ctx.op('Transpose', [op(ctx.op('Transpose', [ctx.inputs.in![0]!], NHWC_TO_NCHW, 'to_nchw'))], NCHW_TO_NHWC, 'to_nhwc');
}

// Reading ONNX back (core/io/import/onnx.ts follows which tensors are channels first): the
// same ops on an NCHW image, which Gradflow holds channels last.

/**
 * The label of a node read from an NCHW op: Gradflow's export names the op inside its
 * Transpose pair '<label>/Conv' (the pair's last Transpose, which vanishes on import, carries
 * the label), so the node comes back as '<label>'.
 */
const nchwLabel = (n: OnnxNodeView): string => n.name.replace(/^([^/].*)\/(Conv|MaxPool|AveragePool|GlobalAveragePool)$/, '$1');

/** Refuse a node whose input is not a channels-first image [N, C, H, W] that the importer follows. */
function onnxImage(n: OnnxNodeView): void {
  if (n.layout(0)?.kind !== 'nchw') n.fail(`${n.where} reads '${n.inputs[0]}', which is not a channels-first image [N, C, H, W] that Gradflow can follow`);
}

/** One number for both axes (Gradflow's strides and dilations), or the reason there is none. */
function onnxSquare(n: OnnxNodeView, name: string, def: number): number {
  const v = n.ints(name) ?? [def, def];
  if (v.length !== 2 || v[0] !== v[1]) n.fail(`${n.where} has ${name} [${v.join(', ')}]; Gradflow uses one ${name.replace(/s$/, '')} for height and width of 2-D images`);
  return v[0]!;
}

/** Gradflow's padding for ONNX's pads (or auto_pad) of a window of `extent` over the node's input image. */
function onnxPadding(n: OnnxNodeView, extent: [number, number], stride: number): Padding {
  const [h, w] = n.shape(0);
  const mode = n.string('auto_pad') ?? 'NOTSET';
  if (mode === 'VALID') return 'valid';
  if (mode === 'SAME_UPPER') return 'same';
  if (mode !== 'NOTSET') n.fail(`${n.where} pads with auto_pad = ${mode}; Gradflow pads like SAME_UPPER ('same') or not at all ('valid')`);
  const pads = n.ints('pads') ?? [0, 0, 0, 0];
  if (pads.every((p) => p === 0)) return 'valid';
  const [pt, pb] = samePadding(h!, extent[0], stride, 'same');
  const [pl, pr] = samePadding(w!, extent[1], stride, 'same');
  if (pads.join(',') === [pt, pl, pb, pr].join(',')) return 'same';
  return n.fail(`${n.where} pads [${pads.join(', ')}] (top, left, bottom, right); Gradflow pads nothing ('valid') or [${[pt, pl, pb, pr].join(', ')}] here ('same', as TensorFlow does)`);
}


// ---------------------------------------------------------------------------------------------
// PyTorch: model.py holds every image NCHW (the model permutes its NHWC input once, a Reshape
// to [h, w, c] permutes after reshaping, Flatten permutes back before flattening), so these
// are PyTorch's own NCHW modules. Same padding is TensorFlow's, whose odd zero goes after
// (bottom, right): PyTorch's padding argument is symmetric, so uneven pads are an explicit
// nn.functional.pad before an unpadded window.

/**
 * The same-padding zeros of the node's window over its input image as nn.functional.pad's
 * (left, right, top, bottom), or null when there are none.
 */
function torchPads(ctx: TorchContext<unknown>, extent: [number, number], stride: number, padding: Padding): number[] | null {
  const [h, w] = ctx.inputShapes.in![0]! as [number, number, number];
  const [pt, pb] = samePadding(h, extent[0], stride, padding);
  const [pl, pr] = samePadding(w, extent[1], stride, padding);
  return pt + pb + pl + pr === 0 ? null : [pl, pr, pt, pb];
}

const TORCH_CONV2D = `class Conv2D(nn.Conv2d):
    """nn.Conv2d on NCHW images. Its weight is kept in Gradflow's layout, kernel
    [kh, kw, c_in, c_out] (so weights.npz, the pruning masks and \`gradflow import-weights\`
    name and shape it as Gradflow does), and transposed to PyTorch's [c_out, c_in, kh, kw]
    for the convolution. \`pads\` (left, right, top, bottom) are TensorFlow's same padding,
    added explicitly: they may be uneven."""

    def __init__(self, c_in, filters, kernel_size, stride, dilation, pads, bias=True, drop_connect=0.0):
        super().__init__(c_in, filters, kernel_size, stride=stride, dilation=dilation, bias=bias)
        del self.weight
        self.kernel = nn.Parameter(torch.zeros(kernel_size[0], kernel_size[1], c_in, filters))
        self.pads = pads
        self.drop_connect = drop_connect

    def forward(self, x):
        if self.pads is not None:
            x = nn.functional.pad(x, self.pads)
        weight = drop_connect(self.kernel, self.drop_connect, self.training).permute(3, 2, 0, 1)
        return nn.functional.conv2d(x, weight, self.bias, self.stride, 0, self.dilation)`;

const TORCH_POOLS = {
  maxPool2d: `class MaxPool2D(nn.MaxPool2d):
    """nn.MaxPool2d on NCHW images; same padding adds −∞ borders (left, right, top, bottom),
    which no window takes as its maximum."""

    def __init__(self, pool_size, stride, pads):
        super().__init__(pool_size, stride)
        self.pads = pads

    def forward(self, x):
        if self.pads is not None:
            x = nn.functional.pad(x, self.pads, value=float("-inf"))
        return super().forward(x)`,
  avgPool2d: `class AvgPool2D(nn.AvgPool2d):
    """nn.AvgPool2d on NCHW images; with same padding each window averages its pixels inside
    the image: the mean over the zero-padded window divided by the share of it inside."""

    def __init__(self, pool_size, stride, pads):
        super().__init__(pool_size, stride)
        self.pads = pads

    def forward(self, x):
        if self.pads is None:
            return super().forward(x)
        inside = super().forward(nn.functional.pad(torch.ones_like(x[:1, :1]), self.pads))
        return super().forward(nn.functional.pad(x, self.pads)) / inside`,
};

// ---------------------------------------------------------------------------------------------
// Keras (TensorFlow.js LayersModel import): Keras allows a different stride or dilation per
// axis and channels-first images; Gradflow has one number for both axes and channels last.

function channelsLast(l: KerasLayerView): void {
  const f = l.config.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') throw new Error(`its data_format is ${JSON.stringify(f)}; Gradflow's images are channels last`);
}

/** A Keras pair that Gradflow keeps as one number for both axes. */
function square(l: KerasLayerView, key: string, def: number): number {
  const [a, b] = kerasPair(l, key, def);
  if (a !== b) throw new Error(`its ${key} is [${a}, ${b}]; Gradflow uses the same ${key} for height and width`);
  return a;
}

/** Stride (the pool size when absent and `def` is null, as Keras does) and padding of a sliding window. */
function kerasWindow(l: KerasLayerView, key: string, def: number | null): { stride: number; padding: Padding } {
  channelsLast(l);
  const padding = l.config.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new Error(`its padding is ${JSON.stringify(padding)}; Gradflow pads 'valid' or 'same'`);
  const stride = l.config[key] == null && def === null ? square(l, 'pool_size', 2) : square(l, key, def ?? 1);
  return { stride, padding };
}

// ---------------------------------------------------------------------------------------------
// Kinds

const conv2dParams = {
  filters: int({ label: 'Filters', help: 'Number of filters, i.e. of output channels (feature maps).', default: 8, min: 1, max: 4096 }),
  kernelSize: shape({ label: 'Kernel size', help: 'Height and width of each filter, [kh, kw], e.g. [3, 3] or [5, 5].', default: [3, 3] }),
  stride: strideParam('filter', 1),
  padding: paddingParam,
  dilation: int({
    label: 'Dilation',
    help: 'Spacing between the kernel taps: dilation d covers (k − 1)·d + 1 pixels with k weights, a wider view at the same cost in parameters.',
    default: 1,
    min: 1,
    max: 16,
  }),
  bias: bool({ label: 'Bias', help: 'Add a learned bias to every feature map.', default: true }),
  initializer: initializerParam('heNormal'),
  sigma: sigmaParam,
};

/** Conv2D's forward: the bias (and a following ReLU) inside the convolution's kernel. */
function convForward(ctx: ForwardContext<ParamValues<typeof conv2dParams>>, x: Tensor, activation?: FusableActivation): Tensor {
  const { tf, params: p } = ctx;
  const kernel = dilateKernel(tf, dropConnectKernel(tf, ctx.weights.kernel!, ctx.dropConnectRate, ctx.training, ctx.seed), p.dilation);
  return conv2d(tf, x, kernel, p.stride, p.padding, { ...(p.bias ? { bias: ctx.weights.bias! } : {}), ...(activation ? { activation } : {}), gradX: ctx.needsGradient?.(x) ?? true });
}

export const conv2dKind = defineKind({
  kind: 'conv2d',
  title: 'Conv2D',
  category: 'Layers',
  role: 'op',
  acceptsDropConnect: true,
  linearInWeights: true,
  widthParam: 'filters',
  description:
    'Convolution: each filter slides a small kh×kw window over the image and computes a weighted sum of the pixels of all channels under it, plus a bias, giving one feature map per filter. The same weights are used at every position.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor', help: 'An image [h, w, c]' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: conv2dParams,
  infer(ctx) {
    const p = ctx.params;
    if (p.kernelSize.length !== 2) {
      return { outputs: { out: null }, issues: [error('param/kernel-size', `Conv2D ${ctx.name}: Kernel size must be [kh, kw], got ${fmt(p.kernelSize)}`, { param: 'kernelSize' })] };
    }
    const { image, issues } = needsImage(ctx, 'Conv2D');
    if (!image) return { outputs: { out: null }, issues };
    const [kh, kw] = p.kernelSize as [number, number];
    const extent: [number, number] = [dilated(kh, p.dilation), dilated(kw, p.dilation)];
    const what = p.dilation > 1 ? `kernel (${kh}×${kw} with dilation ${p.dilation})` : 'kernel';
    const out = windowOutput(ctx, 'Conv2D', image, extent, p.stride, p.padding, what, 'kernelSize');
    return { outputs: { out: out.hw ? [...out.hw, p.filters] : null }, issues: out.issues };
  },
  weights(p, inputs) {
    const [kh, kw] = p.kernelSize as [number, number];
    const cin = inputs.in?.[0]?.[2] ?? 0;
    // Every output pixel sees kh·kw·c_in inputs; every input pixel feeds kh·kw·c_out outputs.
    const init = initSpec(p.initializer, p.sigma, kh * kw * cin, kh * kw * p.filters);
    const w: WeightSpec[] = [{ name: 'kernel', shape: [kh, kw, cin, p.filters], init, trainable: true, penalized: true, prunable: true }];
    if (p.bias) w.push({ name: 'bias', shape: [p.filters], init: { name: 'zeros' }, trainable: true, penalized: false });
    return w;
  },
  forward: (ctx, inputs) => ({ out: convForward(ctx, inputs.in![0]!) }),
  forwardFused: (ctx, inputs, activation) => ({ out: convForward(ctx, inputs.in![0]!, activation) }),
  // Every kept kernel weight is one multiply-add at every output pixel, plus a bias per output.
  flops: (p, _in, out, nz) => {
    const [oh, ow] = out.out! as [number, number, number];
    return oh * ow * (2 * (nz.kernel ?? 0) + (p.bias ? p.filters : 0));
  },
  onnx: (ctx) => {
    const p = ctx.params;
    const [kh, kw] = p.kernelSize as [number, number];
    let kernel = ctx.op('Transpose', [ctx.weight('kernel')], { perm: { ints: [3, 2, 0, 1] } }, 'kernel_oihw');
    // DropConnect's mean network at inference: p·W.
    if (ctx.dropConnectRate > 0) kernel = ctx.op('Mul', [kernel, ctx.constant('keep', [1 - ctx.dropConnectRate], [])]);
    const attributes = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [p.stride, p.stride] },
      dilations: { ints: [p.dilation, p.dilation] },
      pads: onnxPads(ctx, [dilated(kh, p.dilation), dilated(kw, p.dilation)], p.stride, p.padding),
    };
    return { out: onnxNchw(ctx, (x) => ctx.op('Conv', [x, kernel, ...(p.bias ? [ctx.weight('bias')] : [])], attributes)) };
  },
  fromOnnx: {
    opTypes: ['Conv'],
    read: (n) => {
      onnxImage(n);
      const wc = n.constIn(1);
      if (wc.dims.length !== 4) n.fail(`${n.where} has a ${wc.dims.length}-D kernel; Gradflow's Conv2D convolves 2-D images`);
      if (n.int('group', 1) !== 1) n.fail(`${n.where} is a grouped convolution (group = ${n.int('group', 1)}); Gradflow's Conv2D connects every input channel to every filter`);
      const [filters, cin, kh, kw] = wc.dims as [number, number, number, number];
      const stride = onnxSquare(n, 'strides', 1);
      const dilation = onnxSquare(n, 'dilations', 1);
      const padding = onnxPadding(n, [dilated(kh, dilation), dilated(kw, dilation)], stride);
      // Gradflow's DropConnect exports p·W: the kernel comes back as W, with a DropConnect before the layer.
      const keep = wc.scaled?.keep ?? 1;
      const kernel = transposeConstant(wc.scaled ? { dims: wc.dims, values: wc.scaled.unscaled } : wc, [2, 3, 1, 0]);
      const bias = n.inputs[2] ? n.constIn(2) : null;
      return {
        params: { filters, kernelSize: [kh, kw], stride, padding, dilation, bias: bias !== null },
        weights: { kernel: { shape: [kh, kw, cin, filters], values: kernel.values as Float32Array }, ...(bias ? { bias: { shape: [filters], values: Float32Array.from(bias.values) } } : {}) },
        label: nchwLabel(n),
        layout: { kind: 'nchw' },
        ...onnxDropConnect(1 - keep),
      };
    },
  },
  // Keras's Conv2D (channels last) has Gradflow's kernel layout [kh, kw, c_in, c_out] and padding rules.
  keras: (ctx) => {
    const p = ctx.params;
    const config = { filters: p.filters, kernel_size: p.kernelSize, strides: [p.stride, p.stride], padding: p.padding, dilation_rate: [p.dilation, p.dilation], activation: 'linear', use_bias: p.bias, data_format: 'channels_last' };
    return { out: ctx.layer('Conv2D', config, [ctx.inputs.in![0]!], [{ name: 'kernel', ...ctx.weight('kernel') }, ...(p.bias ? [{ name: 'bias', ...ctx.weight('bias') }] : [])]) };
  },
  fromKeras: {
    classNames: ['Conv2D'],
    read: (l) => {
      const kernel = l.weight('kernel');
      const bias = l.config.use_bias !== false && l.has('bias');
      return { params: { filters: kerasNumber(l, 'filters'), bias, kernelSize: kerasPair(l, 'kernel_size'), ...kerasWindow(l, 'strides', 1), dilation: square(l, 'dilation_rate', 1) }, weights: { kernel, ...(bias ? { bias: l.weight('bias') } : {}) } };
    },
  },
  torch: (ctx) => {
    const p = ctx.params;
    const [kh, kw] = p.kernelSize as [number, number];
    const pads = torchPads(ctx, [dilated(kh, p.dilation), dilated(kw, p.dilation)], p.stride, p.padding);
    const cin = ctx.inputShapes.in![0]![2]!;
    return {
      module: `Conv2D(${cin}, ${p.filters}, ${py([kh, kw])}, stride=${p.stride}, dilation=${p.dilation}, pads=${pads ? py(pads) : 'None'}, bias=${py(p.bias)}, drop_connect=${py(ctx.dropConnectRate)})`,
      classes: { drop_connect: TORCH_DROP_CONNECT, Conv2D: TORCH_CONV2D },
    };
  },
});

const poolParams = {
  poolSize: shape({ label: 'Pool size', help: 'Height and width of the window, [ph, pw]; [2, 2] halves the image with stride 2.', default: [2, 2] }),
  stride: strideParam('window', 2),
  padding: paddingParam,
};

function poolKind(kind: 'maxPool2d' | 'avgPool2d', title: string, description: string, keras: string, onnxOp: 'MaxPool' | 'AveragePool') {
  return defineKind({
    kind,
    title,
    category: 'Layers',
    role: 'op',
    description,
    inputs: [{ name: 'in', label: 'in', type: 'tensor', help: 'An image [h, w, c]' }],
    outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
    params: poolParams,
    infer(ctx) {
      const p = ctx.params;
      if (p.poolSize.length !== 2) {
        return { outputs: { out: null }, issues: [error('param/pool-size', `${title} ${ctx.name}: Pool size must be [ph, pw], got ${fmt(p.poolSize)}`, { param: 'poolSize' })] };
      }
      const { image, issues } = needsImage(ctx, title);
      if (!image) return { outputs: { out: null }, issues };
      const out = windowOutput(ctx, title, image, p.poolSize as [number, number], p.stride, p.padding, 'window', 'poolSize');
      return { outputs: { out: out.hw ? [...out.hw, image[2]] : null }, issues: out.issues };
    },
    forward(ctx, inputs) {
      const { tf, params: p } = ctx;
      const x = inputs.in![0]! as T4;
      const window = p.poolSize as [number, number];
      return { out: kind === 'maxPool2d' ? maxPool(tf, x, window, p.stride, p.padding) : avgPool(tf, x, window, p.stride, p.padding) };
    },
    // AveragePool's count_include_pad = 0 (its default) averages the pixels inside the image, as here.
    onnx: (ctx) => {
      const p = ctx.params;
      const window = p.poolSize as [number, number];
      const attributes = { kernel_shape: { ints: window }, strides: { ints: [p.stride, p.stride] }, pads: onnxPads(ctx, window, p.stride, p.padding) };
      return { out: onnxNchw(ctx, (x) => ctx.op(onnxOp, [x], attributes)) };
    },
    fromOnnx: {
      opTypes: [onnxOp],
      read: (n) => {
        onnxImage(n);
        const window = n.ints('kernel_shape') ?? [];
        if (window.length !== 2) n.fail(`${n.where} pools a window of ${window.length} axes; Gradflow pools 2-D images`);
        if (n.int('ceil_mode', 0) !== 0) n.fail(`${n.where} rounds its output size up (ceil_mode = 1); Gradflow rounds down, as TensorFlow does`);
        if (onnxSquare(n, 'dilations', 1) !== 1) n.fail(`${n.where} pools with dilated windows, which Gradflow does not`);
        const stride = onnxSquare(n, 'strides', 1);
        const padding = onnxPadding(n, window as [number, number], stride);
        if (onnxOp === 'AveragePool' && padding === 'same' && n.int('count_include_pad', 0) !== 0) n.fail(`${n.where} counts the padding zeros in its averages (count_include_pad = 1); Gradflow averages the pixels inside the image`);
        return { params: { poolSize: window, stride, padding }, label: nchwLabel(n), layout: { kind: 'nchw' } };
      },
    },
    // Keras's average pooling with same padding also averages only the pixels inside the image.
    keras: (ctx) => {
      const p = ctx.params;
      return { out: ctx.layer(keras, { pool_size: p.poolSize, strides: [p.stride, p.stride], padding: p.padding, data_format: 'channels_last' }, [ctx.inputs.in![0]!]) };
    },
    fromKeras: { classNames: [keras], read: (l) => ({ params: { poolSize: kerasPair(l, 'pool_size', 2), ...kerasWindow(l, 'strides', null) } }) },
    torch: (ctx) => {
      const p = ctx.params;
      const pads = torchPads(ctx, p.poolSize as [number, number], p.stride, p.padding);
      const cls = kind === 'maxPool2d' ? 'MaxPool2D' : 'AvgPool2D';
      return { module: `${cls}(${py(p.poolSize)}, ${p.stride}, pads=${pads ? py(pads) : 'None'})`, classes: { [cls]: TORCH_POOLS[kind] } };
    },
  });
}

export const maxPool2d = poolKind(
  'maxPool2d',
  'MaxPool2D',
  'Max pooling: each output pixel is the largest value in a small window of its channel, so the map shrinks and small shifts of a feature do not change the output. No weights.',
  'MaxPooling2D',
  'MaxPool',
);

export const avgPool2d = poolKind(
  'avgPool2d',
  'AvgPool2D',
  "Average pooling: each output pixel is the mean of a small window of its channel (with same padding, of the window's pixels inside the image). No weights.",
  'AveragePooling2D',
  'AveragePool',
);

export const globalAvgPool2d = defineKind({
  kind: 'globalAvgPool2d',
  title: 'GlobalAvgPool2D',
  category: 'Layers',
  role: 'op',
  description: 'Averages each channel over the whole image: [h, w, c] becomes [c], one number per feature map, ready for a Dense classifier.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor', help: 'An image [h, w, c]' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {},
  infer(ctx) {
    const { image, issues } = needsImage(ctx, 'GlobalAvgPool2D');
    return { outputs: { out: image ? [image[2]] : null }, issues };
  },
  forward(ctx, inputs) {
    return { out: ctx.tf.mean(inputs.in![0]!, [1, 2]) };
  },
  onnx: (ctx) => {
    const pooled = ctx.op('GlobalAveragePool', [ctx.op('Transpose', [ctx.inputs.in![0]!], NHWC_TO_NCHW, 'to_nchw')]);
    return { out: ctx.op('Flatten', [pooled], { axis: { int: 1 } }) };
  },
  // torch writes x.mean((2, 3)) as a ReduceMean over height and width: the same average.
  fromOnnx: {
    opTypes: ['GlobalAveragePool', 'ReduceMean'],
    read: (n) => {
      onnxImage(n);
      let keep = true;
      if (n.opType === 'ReduceMean') {
        const axes = (n.inputs[1] ? Array.from(n.constIn(1).values, Number) : (n.ints('axes') ?? [])).map((a) => (a < 0 ? a + 4 : a)).sort();
        if (axes.join(',') !== '2,3') n.fail(`${n.where} averages axes [${axes.join(', ')}] of an image; Gradflow averages over height and width only (GlobalAvgPool2D)`);
        keep = n.int('keepdims', 1) === 1;
      }
      // Kept dims, [N, C, 1, 1], are Gradflow's [c] once a Flatten or Reshape drops them.
      return { params: {}, label: nchwLabel(n), layout: keep ? { kind: 'pooled' } : null };
    },
  },
  keras: kerasUnary('GlobalAveragePooling2D', () => ({ data_format: 'channels_last' })),
  fromKeras: {
    classNames: ['GlobalAveragePooling2D'],
    read: (l) => {
      channelsLast(l);
      if (l.config.keepdims === true) throw new Error('it keeps the pooled axes (keepdims); Gradflow gives [c]');
      return { params: {} };
    },
  },
  // The mean of each NCHW channel: [N, c, 1, 1], then [N, c].
  torch: () => ({ module: 'nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())' }),
});
