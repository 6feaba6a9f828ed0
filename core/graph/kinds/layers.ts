/** Layers: affine maps and the plumbing between them. */
import type * as tfTypes from '@tensorflow/tfjs';
import { bool, int, num, oneOf, shape } from '../params.ts';
import { defineKind, type InferContext, type InferResult, type InitSpec, type LocalIssue, type OnnxContext, type OnnxLayout, type OnnxNodeView, type OnnxRead, type Shape, type TF, type Tensor, type WeightSpec } from '../types.ts';
import { matMulFast } from './matmul.ts';
import { chwOrder, decimal, error, fmt, inOnnxOrder, isLastAxis, kerasNumber, kerasUnary, needsFlat, py, single, size, torchImage, transposeConstant } from './util.ts';

export const INITIALIZERS = ['zeros', 'normal', 'glorotNormal', 'glorotUniform', 'heNormal', 'heUniform'] as const;
export type Initializer = (typeof INITIALIZERS)[number];

/** The initializer choice of a weighted layer (Dense, Maxout, Conv2D), with `def` preselected. */
export const initializerParam = (def: Initializer) =>
  oneOf({
    label: 'Initializer',
    help:
      'How the weights start. Normal: N(0, σ²). Xavier/Glorot: Var(W) = 1/(fan_in + fan_out) as in the course. ' +
      'He: Var(W) = 2/fan_in, for ReLU layers. Zeros makes every unit learn the same thing.',
    options: INITIALIZERS,
    default: def,
    optionLabels: {
      zeros: 'Zeros',
      normal: 'Normal N(0, σ²)',
      glorotNormal: 'Xavier/Glorot normal',
      glorotUniform: 'Xavier/Glorot uniform',
      heNormal: 'He normal',
      heUniform: 'He uniform',
    },
  });

/** σ of the normal initializer, shown only when that initializer is chosen. */
export const sigmaParam = num({
  label: 'σ',
  help: 'Standard deviation of the normal initializer (0.01 is the classic choice that fails in deep nets).',
  default: 0.01,
  min: 0,
  max: 10,
  visibleWhen: (p) => p.initializer === 'normal',
});

export function initSpec(initializer: Initializer, sigma: number, fanIn: number, fanOut: number): InitSpec {
  return { name: initializer, value: sigma, fanIn, fanOut };
}

/**
 * DropConnect (Wan et al. 2013): during training every weight is kept with probability
 * p = 1 − rate, M ~ Bernoulli(p), and the layer computes h·(W ⊙ M). At inference the
 * mean network h·(p W) is used, just as Dropout scales by p at test time in the course.
 */
export function dropConnectKernel(tf: TF, kernel: Tensor, rate: number, training: boolean, seed: () => number): Tensor {
  if (rate <= 0) return kernel;
  const keep = 1 - rate;
  if (!training) return tf.mul(kernel, keep);
  const mask = tf.cast(tf.less(tf.randomUniform(kernel.shape, 0, 1, 'float32', seed()), keep), 'float32');
  return tf.mul(kernel, mask);
}

/**
 * h·W + b as one ONNX Gemm; a DropConnect rate becomes Gemm's α = p, the mean network
 * h·(p W) that Gradflow uses at inference, with W itself left as trained.
 */
function onnxAffine(ctx: OnnxContext<unknown>, bias: boolean): string {
  const keep = 1 - ctx.dropConnectRate;
  const inputs = [ctx.inputs.in![0]!, ctx.weight('kernel'), ...(bias ? [ctx.weight('bias')] : [])];
  return ctx.op('Gemm', inputs, keep < 1 ? { alpha: { float: keep } } : {});
}

/**
 * The DropConnect node an ONNX layer read back implies (Gemm's α = p, a Conv kernel times
 * p: Gradflow's export of the mean network), placed before the layer; none for rate 0.
 */
export const onnxDropConnect = (rate: number): { before?: { kind: string; params: { rate: number } } } => (rate > 0 ? { before: { kind: 'dropConnect', params: { rate: decimal(rate) } } } : {});

/**
 * A Dense read from an ONNX matrix product h·W (+ b). A flattened channels-first image
 * reaches it in ONNX's c·h·w order, so the kernel's rows are put in Gradflow's h·w·c order.
 */
function onnxDense(n: OnnxNodeView, kernel: Float32Array, fanIn: number, units: number, bias: Float32Array | null, dropConnect: number): OnnxRead<{ units: number; bias: boolean }> {
  const l = n.layout(0);
  if (l?.kind === 'flat') {
    // Gradflow's input j is ONNX's order[j]: so is the kernel's row j.
    const rows = new Float32Array(kernel.length);
    l.order.forEach((o, j) => rows.set(kernel.subarray(o * units, (o + 1) * units), j * units));
    kernel = rows;
  } else if (l) n.fail(`${n.where} multiplies a channels-first image; flatten it first`);
  return {
    params: { units, bias: bias !== null },
    weights: { kernel: { shape: [fanIn, units], values: kernel }, ...(bias ? { bias: { shape: [units], values: bias } } : {}) },
    layout: null,
    ...onnxDropConnect(dropConnect),
  };
}

/** The layout all of an ONNX node's inputs share, or the reason they differ. */
function sameOnnxLayout(n: OnnxNodeView): OnnxLayout | undefined {
  const ls = n.inputs.map((_, k) => n.layout(k));
  if (ls.some((l) => l?.kind !== ls[0]?.kind)) n.fail(`${n.where} combines channels-first and channels-last tensors`);
  return ls[0];
}

/** Every input of an ONNX node, wired in order (Add, Concat). */
const allInputs = (n: OnnxNodeView): number[] => n.inputs.map((_, k) => k);

/** DropConnect in PyTorch, shared by Dense, Maxout and Conv2D: the same masks and the same mean network. */
export const TORCH_DROP_CONNECT = `def drop_connect(kernel, rate, training):
    """DropConnect (Wan et al. 2013): W ⊙ M, M_ij ~ Bernoulli(p) in training; p·W at inference."""
    if rate <= 0:
        return kernel
    keep = 1 - rate
    if not training:
        return kernel * keep
    return kernel * (torch.rand_like(kernel) < keep).to(kernel.dtype)`;

export const dense = defineKind({
  kind: 'dense',
  title: 'Dense',
  category: 'Layers',
  role: 'op',
  acceptsDropConnect: true,
  linearInWeights: true,
  widthParam: 'units',
  description: 'Fully connected layer: every output unit is a weighted sum of all inputs plus a bias, z = hᵀW + b.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {
    units: int({ label: 'Units', help: 'Number of output units (the width of the layer).', default: 16, min: 1, max: 65_536 }),
    bias: bool({ label: 'Bias', help: 'Add a learned bias b to every unit.', default: true }),
    initializer: initializerParam('glorotUniform'),
    sigma: sigmaParam,
  },
  infer(ctx) {
    const { width, issues } = needsFlat(ctx, 'Dense');
    return { outputs: { out: width === null ? null : [ctx.params.units] }, issues };
  },
  weights(p, inputs) {
    const fanIn = inputs.in?.[0]?.[0] ?? 0;
    const w: WeightSpec[] = [
      { name: 'kernel', shape: [fanIn, p.units], init: initSpec(p.initializer, p.sigma, fanIn, p.units), trainable: true, penalized: true, prunable: true },
    ];
    if (p.bias) w.push({ name: 'bias', shape: [p.units], init: { name: 'zeros' }, trainable: true, penalized: false });
    return w;
  },
  forward(ctx, inputs) {
    const x = inputs.in![0]!;
    const kernel = dropConnectKernel(ctx.tf, ctx.weights.kernel!, ctx.dropConnectRate, ctx.training, ctx.seed);
    // The bias is added inside the matMul kernel (as tf.layers.dense does): fewer ops per step.
    return { out: matMulFast(ctx.tf, x, kernel, { ...(ctx.params.bias ? { bias: ctx.weights.bias! } : {}), gradA: ctx.needsGradient?.(x) ?? true }) };
  },
  forwardFused(ctx, inputs, activation) {
    const x = inputs.in![0]!;
    const kernel = dropConnectKernel(ctx.tf, ctx.weights.kernel!, ctx.dropConnectRate, ctx.training, ctx.seed);
    return { out: matMulFast(ctx.tf, x, kernel, { ...(ctx.params.bias ? { bias: ctx.weights.bias! } : {}), activation, gradA: ctx.needsGradient?.(x) ?? true }) };
  },
  onnx: (ctx) => ({ out: onnxAffine(ctx, ctx.params.bias) }),
  // Gemm (its α as DropConnect's p, or a scale of W), MatMul, and the Add of a bias after a
  // MatMul that nothing else reads.
  fromOnnx: {
    opTypes: ['Gemm', 'MatMul', 'Add'],
    read: (n) => {
      if (n.opType === 'Add') {
        const k = n.inputs.findIndex((_, j) => n.constant(j));
        const c = k >= 0 ? n.constant(k)! : null;
        const p = c ? n.producer(1 - k) : undefined;
        if (!c || p?.kind !== 'dense' || p.params.bias !== false || p.consumers !== 1 || c.values.length !== p.params.units || c.dims.length > 2) return null;
        return { fold: 1 - k, params: { bias: true }, weights: { bias: { shape: [p.params.units as number], values: Float32Array.from(c.values) } } };
      }
      if (n.opType === 'MatMul') {
        const w = n.constIn(1);
        if (w.dims.length !== 2) n.fail(`${n.where} multiplies by a ${w.dims.length}-D tensor; Gradflow's Dense needs a matrix`);
        return onnxDense(n, Float32Array.from(w.values), w.dims[0]!, w.dims[1]!, null, 0);
      }
      if (n.int('transA', 0) !== 0) n.fail(`${n.where} transposes its input (transA = 1), which Gradflow's Dense does not`);
      const b = n.constIn(1);
      const [r, c] = b.dims as [number, number];
      const transB = n.int('transB', 0) !== 0;
      const kernel = transB ? (transposeConstant(b, [1, 0]).values as Float32Array) : Float32Array.from(b.values);
      const [fanIn, units] = transB ? [c, r] : [r, c];
      const alpha = n.float('alpha', 1);
      const beta = n.float('beta', 1);
      let bias: Float32Array | null = null;
      if (n.inputs[2]) {
        const cb = n.constIn(2);
        if (cb.values.length !== units) n.fail(`${n.where}: its bias has ${cb.values.length} values for ${units} units (Gradflow adds one bias per unit)`);
        bias = Float32Array.from(cb.values, (v) => v * beta);
      }
      // Gradflow exports DropConnect's mean network h·(pW) as α = p; any other α scales W.
      const dropConnect = alpha > 0 && alpha < 1 ? 1 - alpha : 0;
      if (dropConnect === 0 && alpha !== 1) kernel.forEach((v, k) => (kernel[k] = v * alpha));
      return onnxDense(n, kernel, fanIn, units, bias, dropConnect);
    },
  },
  // Keras's Dense has Gradflow's kernel layout [fan_in, units]; its activation stays linear
  // (the activation node after it exports itself).
  keras: (ctx) => ({
    out: ctx.layer('Dense', { units: ctx.params.units, activation: 'linear', use_bias: ctx.params.bias }, [ctx.inputs.in![0]!], [
      { name: 'kernel', ...ctx.weight('kernel') },
      ...(ctx.params.bias ? [{ name: 'bias', ...ctx.weight('bias') }] : []),
    ]),
  }),
  fromKeras: {
    classNames: ['Dense'],
    read: (l) => {
      const kernel = l.weight('kernel');
      const bias = l.config.use_bias !== false && l.has('bias');
      return { params: { units: kerasNumber(l, 'units'), bias }, weights: { kernel, ...(bias ? { bias: l.weight('bias') } : {}) } };
    },
  },
  // One multiply-add per kept weight, one add per bias.
  flops: (p, _in, _out, nz) => 2 * (nz.kernel ?? 0) + (p.bias ? p.units : 0),
  // Not nn.Linear: the kernel keeps Gradflow's [fan_in, units] layout and name, so weights
  // travel both ways by name and shape.
  torch: (ctx) => ({
    module: `Dense(${ctx.inputShapes.in![0]![0]}, ${ctx.params.units}, bias=${py(ctx.params.bias)}, drop_connect=${py(ctx.dropConnectRate)})`,
    classes: {
      drop_connect: TORCH_DROP_CONNECT,
      Dense: `class Dense(nn.Module):
    """z = h W + b, W of shape [fan_in, units]."""

    def __init__(self, fan_in, units, bias=True, drop_connect=0.0):
        super().__init__()
        self.drop_connect = drop_connect
        self.kernel = nn.Parameter(torch.zeros(fan_in, units))
        self.bias = nn.Parameter(torch.zeros(units)) if bias else None

    def forward(self, x):
        z = x @ drop_connect(self.kernel, self.drop_connect, self.training)
        return z if self.bias is None else z + self.bias`,
    },
  }),
});

export const rbf = defineKind({
  kind: 'rbf',
  title: 'RBF units',
  category: 'Layers',
  role: 'op',
  description:
    'Radial basis function units: h_j = exp(−β_j ‖x − c_j‖²), large when x is near the learned centre c_j. β_j = exp(s_j) is learned and stays positive.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {
    units: int({ label: 'Units', help: 'Number of RBF units (centres).', default: 16, min: 1, max: 65_536 }),
    width: num({ label: 'Initial width σ', help: 'Initial width of every unit: β = 1/σ² at the start.', default: 1, min: 0, max: 1000, exclusiveMin: true }),
    centerSpread: num({ label: 'Centre spread', help: 'Standard deviation of the initial centres, N(0, spread²).', default: 1, min: 0, max: 100 }),
  },
  infer(ctx) {
    const { width, issues } = needsFlat(ctx, 'RBF units');
    return { outputs: { out: width === null ? null : [ctx.params.units] }, issues };
  },
  weights(p, inputs) {
    const fanIn = inputs.in?.[0]?.[0] ?? 0;
    return [
      // A pruned centre coordinate c_ij removes input i from unit j's distance (see forward).
      { name: 'centers', shape: [fanIn, p.units], init: { name: 'normal', value: p.centerSpread }, trainable: true, penalized: true, prunable: true },
      { name: 'logBeta', shape: [p.units], init: { name: 'constant', value: Math.log(1 / (p.width * p.width)) }, trainable: true, penalized: false },
    ];
  },
  forward(ctx, inputs) {
    const { tf } = ctx;
    const x = inputs.in![0]!;
    const c = ctx.weights.centers!;
    const m = ctx.masks?.centers;
    // ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖², one matMul instead of a [batch, units, in] tensor. With
    // a pruning mask, unit j sums only over its kept inputs: Σ_i m_ij (x_i − c_ij)², whose
    // first term is (x⊙x)·M (c arrives already masked, so the other two need no change).
    const xx = m ? tf.matMul(tf.square(x), m) : tf.sum(tf.square(x), 1, true);
    const d2 = tf.relu(tf.add(tf.sub(xx, tf.mul(matMulFast(tf, x, c, { gradA: ctx.needsGradient?.(x) ?? true }), 2)), tf.sum(tf.square(c), 0, true)));
    return { out: tf.exp(tf.neg(tf.mul(d2, tf.exp(ctx.weights.logBeta!)))) };
  },
  // The same expansion of ‖x − c‖² in standard ops (ReduceSum takes its axes as an input).
  onnx: (ctx) => {
    const x = ctx.inputs.in![0]!;
    const c = ctx.weight('centers');
    const sumSq = (t: string, axis: number, hint: string) =>
      ctx.op('ReduceSum', [ctx.op('Mul', [t, t]), ctx.constant(`axis${axis}`, [axis], [1], 'int64')], { keepdims: { int: 1 } }, hint);
    const cross = ctx.op('Mul', [ctx.op('MatMul', [x, c]), ctx.constant('two', [2], [])]);
    const d2 = ctx.op('Relu', [ctx.op('Add', [ctx.op('Sub', [sumSq(x, 1, 'x_sq'), cross]), sumSq(c, 0, 'c_sq')])], {}, 'dist_sq');
    const beta = ctx.op('Exp', [ctx.weight('logBeta')], {}, 'beta');
    return { out: ctx.op('Exp', [ctx.op('Neg', [ctx.op('Mul', [d2, beta])])]) };
  },
  // Per kept (i, j): a multiply-add in (x⊙x)·M and one in x·C; then x², and per unit the
  // sum, the scale by β and the exp (‖c‖² is shared by the batch and not counted).
  flops: (p, inputs, _out, nz) => 4 * (nz.centers ?? 0) + (inputs.in?.[0]?.[0] ?? 0) + 4 * p.units,
  torch: (ctx) => ({
    module: `RBF(${ctx.inputShapes.in![0]![0]}, ${ctx.params.units})`,
    classes: {
      RBF: `class RBF(nn.Module):
    """h_j = exp(−β_j ‖x − c_j‖²), β_j = exp(logBeta_j)."""

    def __init__(self, fan_in, units):
        super().__init__()
        self.centers = nn.Parameter(torch.zeros(fan_in, units))
        self.logBeta = nn.Parameter(torch.zeros(units))

    def forward(self, x):
        c = self.centers
        d2 = torch.relu((x * x).sum(1, keepdim=True) - (x @ c) * 2 + (c * c).sum(0, keepdim=True))
        return torch.exp(-(d2 * torch.exp(self.logBeta)))`,
    },
  }),
});

export const maxout = defineKind({
  kind: 'maxout',
  title: 'Maxout',
  category: 'Layers',
  role: 'op',
  acceptsDropConnect: true,
  description: 'Maxout units: each unit computes k affine pieces and outputs the largest, a learned piecewise-linear activation.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {
    units: int({ label: 'Units', help: 'Number of output units.', default: 16, min: 1, max: 65_536 }),
    pieces: int({ label: 'Pieces k', help: 'Affine pieces per unit; the unit outputs their maximum.', default: 2, min: 2, max: 16 }),
    initializer: initializerParam('glorotUniform'),
    sigma: sigmaParam,
  },
  infer(ctx) {
    const { width, issues } = needsFlat(ctx, 'Maxout');
    return { outputs: { out: width === null ? null : [ctx.params.units] }, issues };
  },
  weights(p, inputs) {
    const fanIn = inputs.in?.[0]?.[0] ?? 0;
    const n = p.units * p.pieces;
    return [
      { name: 'kernel', shape: [fanIn, n], init: initSpec(p.initializer, p.sigma, fanIn, p.units), trainable: true, penalized: true, prunable: true },
      { name: 'bias', shape: [n], init: { name: 'zeros' }, trainable: true, penalized: false },
    ];
  },
  forward(ctx, inputs) {
    const { tf } = ctx;
    const x = inputs.in![0]!;
    const kernel = dropConnectKernel(tf, ctx.weights.kernel!, ctx.dropConnectRate, ctx.training, ctx.seed);
    const z = matMulFast(tf, x, kernel, { bias: ctx.weights.bias!, gradA: ctx.needsGradient?.(x) ?? true });
    return { out: tf.max(tf.reshape(z, [-1, ctx.params.units, ctx.params.pieces]), 2) };
  },
  onnx: (ctx) => {
    const z = ctx.op('Reshape', [onnxAffine(ctx, true), ctx.constant('pieces_shape', [-1, ctx.params.units, ctx.params.pieces], [3], 'int64')]);
    return { out: ctx.op('ReduceMax', [z], { axes: { ints: [2] }, keepdims: { int: 0 } }) };
  },
  // A multiply-add per kept weight, an add per piece's bias, k − 1 comparisons per unit.
  flops: (p, _in, _out, nz) => 2 * (nz.kernel ?? 0) + p.units * p.pieces + p.units * (p.pieces - 1),
  torch: (ctx) => ({
    module: `Maxout(${ctx.inputShapes.in![0]![0]}, ${ctx.params.units}, ${ctx.params.pieces}, drop_connect=${py(ctx.dropConnectRate)})`,
    classes: {
      drop_connect: TORCH_DROP_CONNECT,
      Maxout: `class Maxout(nn.Module):
    """Each unit takes the largest of k affine pieces."""

    def __init__(self, fan_in, units, pieces, drop_connect=0.0):
        super().__init__()
        self.units, self.pieces, self.drop_connect = units, pieces, drop_connect
        self.kernel = nn.Parameter(torch.zeros(fan_in, units * pieces))
        self.bias = nn.Parameter(torch.zeros(units * pieces))

    def forward(self, x):
        z = x @ drop_connect(self.kernel, self.drop_connect, self.training) + self.bias
        return z.reshape(-1, self.units, self.pieces).amax(2)`,
    },
  }),
});

export const flatten = defineKind({
  kind: 'flatten',
  title: 'Flatten',
  category: 'Layers',
  role: 'op',
  description: 'Flattens each example into one vector, e.g. a 28×28 image into 784 features.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {},
  infer(ctx) {
    const s = single(ctx, 'in');
    return { outputs: { out: s ? [size(s)] : null } };
  },
  forward(ctx, inputs) {
    return { out: ctx.tf.reshape(inputs.in![0]!, [-1, size(ctx.outputShapes.out!)]) };
  },
  onnx: (ctx) => ({ out: ctx.op('Flatten', [ctx.inputs.in![0]!], { axis: { int: 1 } }) }),
  fromOnnx: {
    opTypes: ['Flatten'],
    read: (n) => {
      if (n.int('axis', 1) !== 1) n.fail(`${n.where} flattens from axis ${n.int('axis', 1)}; Gradflow's Flatten keeps the batch axis only`);
      const l = n.layout(0);
      // [N, C, 1, 1] after a global pooling is already Gradflow's [N, C].
      if (l?.kind === 'pooled') return { passThrough: 0, layout: null };
      if (l?.kind === 'nchw') {
        const [h, w, c] = n.shape(0) as [number, number, number];
        return { params: {}, layout: { kind: 'flat', order: chwOrder(h, w, c) } };
      }
      return { params: {} };
    },
  },
  // An NCHW image is flattened in Gradflow's (h, w, c) order: the next layer's weights are.
  torch: (ctx) =>
    torchImage(ctx.inputShapes.in?.[0])
      ? {
          module: 'FlattenImage()',
          classes: {
            FlattenImage: `class FlattenImage(nn.Module):
    """Flattens each NCHW image in Gradflow's channels-last order (h, w, c)."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)`,
          },
        }
      : { module: 'nn.Flatten()' },
  // Both flatten channels-last images in row-major order.
  keras: kerasUnary('Flatten'),
  fromKeras: { classNames: ['Flatten'], read: () => ({ params: {} }) },
});

export const reshape = defineKind({
  kind: 'reshape',
  title: 'Reshape',
  category: 'Layers',
  role: 'op',
  description: 'Gives each example a new shape with the same number of values; one dimension may be -1 to infer it.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {
    shape: shape({ label: 'Target shape', help: 'Shape of one example after reshaping, e.g. [28, 28] or [-1].', default: [-1], allowInferred: true }),
  },
  infer(ctx) {
    const s = single(ctx, 'in');
    if (!s) return { outputs: { out: null } };
    const target = ctx.params.shape;
    const n = size(s);
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const hasInferred = target.includes(-1);
    const fits = hasInferred ? n % known === 0 : known === n;
    if (!fits) {
      const issue: LocalIssue = error(
        'shape/reshape',
        `Reshape ${ctx.name} cannot turn ${fmt(s)} (${n} values) into ${fmt(target)}${hasInferred ? '' : ` (${known} values)`}`,
        { param: 'shape' },
      );
      return { outputs: { out: null }, issues: [issue] };
    }
    return { outputs: { out: target.map((d) => (d === -1 ? n / known : d)) } };
  },
  forward(ctx, inputs) {
    return { out: ctx.tf.reshape(inputs.in![0]!, [-1, ...ctx.outputShapes.out!]) };
  },
  onnx: (ctx) => {
    const target = [-1, ...ctx.outputShapes.out!];
    return { out: ctx.op('Reshape', [ctx.inputs.in![0]!, ctx.constant('shape', target, [target.length], 'int64')]) };
  },
  fromOnnx: {
    opTypes: ['Reshape'],
    read: (n) => {
      const shape = Array.from(n.constIn(1).values, Number);
      if (!(shape[0] === -1 || shape[0] === 0)) n.fail(`${n.where} reshapes the batch dimension (target ${JSON.stringify(shape)}); Gradflow keeps it`);
      // [N, C, 1, 1] → [N, C] after a global pooling is already Gradflow's shape.
      if (n.layout(0)?.kind === 'pooled' && shape.length === 2) return { passThrough: 0, layout: null };
      inOnnxOrder(n);
      return { params: { shape: shape.slice(1) } };
    },
  },
  // The shape with -1 resolved: TensorFlow.js's Reshape leaves a -1 unknown when it builds
  // the model, and a BatchNorm after it then cannot make its weights.
  keras: kerasUnary('Reshape', (_p, ctx) => ({ target_shape: ctx.outputShapes.out! })),
  fromKeras: {
    classNames: ['Reshape'],
    read: (l) => {
      const t = l.config.target_shape;
      if (!Array.isArray(t) || !t.every((d) => typeof d === 'number' && Number.isInteger(d))) throw new Error(`its target_shape is ${JSON.stringify(t) ?? 'missing'}, not a list of sizes`);
      return { params: { shape: t as number[] } };
    },
  },
  torch: (ctx) => {
    const flags = [torchImage(ctx.inputShapes.in?.[0]) ? ', image_in=True' : '', torchImage(ctx.outputShapes.out) ? ', image_out=True' : ''].join('');
    return {
      module: `Reshape(${py(ctx.outputShapes.out!)}${flags})`,
      classes: {
        Reshape: `class Reshape(nn.Module):
    """Gives each example the shape \`shape\` (the batch dimension stays), in Gradflow's
    order: an NCHW image is read channels last, and an image [h, w, c] is made NCHW."""

    def __init__(self, shape, image_in=False, image_out=False):
        super().__init__()
        self.shape = tuple(shape)
        self.image_in, self.image_out = image_in, image_out

    def forward(self, x):
        if self.image_in:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape(x.shape[0], *self.shape)
        return x.permute(0, 3, 1, 2) if self.image_out else x`,
      },
    };
  },
});

function sameShapes(shapes: Shape[]): boolean {
  return shapes.every((s) => fmt(s) === fmt(shapes[0]!));
}

/**
 * The shapes wired into a kind that joins two or more inputs on its `in` port (Add,
 * Concat): all of them when known, else the result to return (too few inputs is an error;
 * an unknown one leaves the output unknown, its problem reported where it comes from).
 */
function joinedInputs(ctx: InferContext<unknown>, title: string): { shapes: Shape[] } | { result: InferResult } {
  const shapes = ctx.inputs.in?.shapes ?? [];
  if (shapes.length < 2) {
    return { result: { outputs: { out: null }, issues: [error('wiring/too-few', `${title} ${ctx.name} needs at least two inputs, has ${shapes.length}`, { port: 'in' })] } };
  }
  if (shapes.some((s) => s === null)) return { result: { outputs: { out: null } } };
  return { shapes: shapes as Shape[] };
}

export const add = defineKind({
  kind: 'add',
  title: 'Add',
  category: 'Layers',
  role: 'op',
  description: 'Adds its inputs element by element: a skip (residual) connection lets the gradient flow past the layers in between.',
  inputs: [{ name: 'in', label: 'in', type: 'tensor', multiple: true, help: 'Two or more tensors of the same shape' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {},
  infer(ctx) {
    const joined = joinedInputs(ctx, 'Add');
    if ('result' in joined) return joined.result;
    const known = joined.shapes;
    if (!sameShapes(known)) {
      return {
        outputs: { out: null },
        issues: [error('shape/mismatch', `Add ${ctx.name} needs inputs of the same shape, gets ${known.map(fmt).join(' and ')}`, { port: 'in' })],
      };
    }
    return { outputs: { out: [...known[0]!] } };
  },
  forward(ctx, inputs) {
    return { out: ctx.tf.addN(inputs.in!) };
  },
  onnx: (ctx) => ({ out: ctx.op('Sum', ctx.inputs.in!) }),
  // An Add of a constant is a bias (Dense reads the one after a MatMul), never this node.
  fromOnnx: {
    opTypes: ['Add', 'Sum'],
    read: (n) => {
      if (n.opType === 'Add' && n.inputs.some((_, k) => n.constant(k))) n.fail(`${n.where} adds a constant, which Gradflow represents only as the bias of a MatMul it follows`);
      sameOnnxLayout(n);
      return { params: {}, tensors: allInputs(n) };
    },
  },
  keras: (ctx) => ({ out: ctx.layer('Add', {}, ctx.inputs.in!) }),
  fromKeras: { classNames: ['Add'], read: () => ({ params: {} }) },
  torch: () => ({
    module: 'Add()',
    classes: {
      Add: `class Add(nn.Module):
    """Element-wise sum of its inputs, in wiring order."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out`,
    },
  }),
});

export const concat = defineKind({
  kind: 'concat',
  title: 'Concat',
  category: 'Layers',
  role: 'op',
  description: 'Joins its inputs along the last axis, e.g. [16] and [8] into [24].',
  inputs: [{ name: 'in', label: 'in', type: 'tensor', multiple: true, help: 'Two or more tensors equal in all but the last dimension' }],
  outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
  params: {},
  infer(ctx) {
    const joined = joinedInputs(ctx, 'Concat');
    if ('result' in joined) return joined.result;
    const known = joined.shapes;
    const lead = (s: Shape) => fmt(s.slice(0, -1));
    if (!known.every((s) => s.length === known[0]!.length && lead(s) === lead(known[0]!))) {
      return {
        outputs: { out: null },
        issues: [error('shape/mismatch', `Concat ${ctx.name} needs inputs equal in all but the last dimension, gets ${known.map(fmt).join(' and ')}`, { port: 'in' })],
      };
    }
    const last = known.reduce((a, s) => a + s[s.length - 1]!, 0);
    return { outputs: { out: [...known[0]!.slice(0, -1), last] } };
  },
  forward(ctx, inputs) {
    return { out: ctx.tf.concat(inputs.in!, -1) };
  },
  onnx: (ctx) => ({ out: ctx.op('Concat', ctx.inputs.in!, { axis: { int: -1 } }) }),
  fromOnnx: {
    opTypes: ['Concat'],
    read: (n) => {
      const axis = n.int('axis', -1);
      const ls = n.inputs.map((_, k) => n.layout(k));
      const flat = ls.some((l) => l?.kind === 'flat') && ls.every((l) => !l || l.kind === 'flat');
      if (flat) {
        // Vectors in other orders side by side: the joined order, each part shifted by what comes before it.
        if (axis !== 1 && axis !== -1) n.fail(`${n.where} joins vectors along axis ${axis}; Gradflow's Concat joins along the last axis`);
        const parts = ls.map((l, k) => ({ l, size: n.shape(k)[0]! }));
        const order = new Int32Array(parts.reduce((a, p) => a + p.size, 0));
        let at = 0;
        for (const p of parts) {
          for (let j = 0; j < p.size; j++) order[at + j] = at + (p.l?.kind === 'flat' ? p.l.order[j]! : j);
          at += p.size;
        }
        return { params: {}, tensors: allInputs(n), layout: { kind: 'flat', order } };
      }
      const l = sameOnnxLayout(n);
      // Channels first, axis 1 is the channels: Gradflow's last axis.
      if (l?.kind === 'nchw' ? axis !== 1 : l ? true : axis !== -1 && axis !== n.rank(0) - 1) n.fail(`${n.where} joins along axis ${axis}${l ? ' of a channels-first tensor' : ''}; Gradflow's Concat joins along the last axis${l?.kind === 'nchw' ? ' (the channels)' : ''}`);
      return { params: {}, tensors: allInputs(n) };
    },
  },
  keras: (ctx) => ({ out: ctx.layer('Concatenate', { axis: -1 }, ctx.inputs.in!) }),
  fromKeras: {
    classNames: ['Concatenate'],
    read: (l) => {
      if (!isLastAxis(l.config.axis, l.inputShapes[0])) throw new Error(`it joins along axis ${JSON.stringify(l.config.axis)}; Gradflow's Concat joins along the last axis`);
      return { params: {} };
    },
  },
  // Gradflow's last axis of an image is its channels: dim 1 of an NCHW image in model.py.
  torch: (ctx) => ({
    module: torchImage(ctx.outputShapes.out) ? 'Concat(dim=1)' : 'Concat()',
    classes: {
      Concat: `class Concat(nn.Module):
    """Joins its inputs along the last axis (the channels, dim 1, of NCHW images)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, self.dim)`,
    },
  }),
});
