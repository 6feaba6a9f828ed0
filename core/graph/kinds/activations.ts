/** Activations (hidden and output units), element by element unless noted. */
import { num } from '../params.ts';
import { defineKind, type AnyKindDef, type ForwardContext, type FusableActivation, type KerasValue, type OutputActivation, type Tensor } from '../types.ts';
import type { ParamSpecs } from '../params.ts';
import { decimal, inOnnxOrder, isLastAxis, kerasActivation, kerasNumber, kerasUnary, onnxOp, onnxUnary, py, single, TORCH_CHANNELS_LAST, torchBuiltin, torchImage } from './util.ts';

/** A shape-preserving node with one input `in` and one output `out`. */
export function elementwise<S extends ParamSpecs>(def: {
  kind: string;
  title: string;
  description: string;
  category?: 'Activations' | 'Regularization' | 'Normalization';
  params: S;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward: (ctx: ForwardContext<any>, x: Tensor) => Tensor;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  weights?: AnyKindDef['weights'];
  fusableAs?: FusableActivation;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onnx?: AnyKindDef['onnx'];
  activation?: OutputActivation;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  dropConnectRate?: (params: any) => number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  torch?: AnyKindDef['torch'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  random?: (params: any) => boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  keras?: AnyKindDef['keras'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fromKeras?: AnyKindDef['fromKeras'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fromOnnx?: AnyKindDef['fromOnnx'];
}): AnyKindDef {
  return defineKind({
    kind: def.kind,
    title: def.title,
    category: def.category ?? 'Activations',
    role: 'op',
    description: def.description,
    inputs: [{ name: 'in', label: 'in', type: 'tensor' }],
    outputs: [{ name: 'out', label: 'out', type: 'tensor' }],
    params: def.params,
    infer(ctx) {
      const s = single(ctx, 'in');
      return { outputs: { out: s ? [...s] : null } };
    },
    ...(def.weights ? { weights: def.weights } : {}),
    ...(def.fusableAs ? { fusableAs: def.fusableAs } : {}),
    ...(def.onnx ? { onnx: def.onnx } : {}),
    ...(def.activation ? { activation: def.activation } : {}),
    ...(def.dropConnectRate ? { dropConnectRate: def.dropConnectRate } : {}),
    ...(def.torch ? { torch: def.torch } : {}),
    ...(def.random ? { random: def.random } : {}),
    ...(def.keras ? { keras: def.keras } : {}),
    ...(def.fromKeras ? { fromKeras: def.fromKeras } : {}),
    ...(def.fromOnnx ? { fromOnnx: def.fromOnnx } : {}),
    forward: (ctx, inputs) => ({ out: def.forward(ctx, inputs.in![0]!) }),
  });
}

export const relu = elementwise({
  kind: 'relu',
  title: 'ReLU',
  description: 'Rectified linear unit g(z) = max{0, z}: large, useful gradients when active, none when z < 0.',
  params: {},
  forward: (ctx, x) => ctx.tf.relu(x),
  fusableAs: 'relu',
  ...onnxOp('Relu'),
  torch: torchBuiltin('nn.ReLU()'),
  // Keras's ReLU layer is this function when it has no cap, threshold or slope.
  ...kerasActivation('relu', { ReLU: (l) => l.config.max_value == null && !l.config.threshold && !l.config.negative_slope }),
});

export const leakyRelu = elementwise({
  kind: 'leakyRelu',
  title: 'Leaky ReLU',
  description: 'g(z) = max{0, z} + α min{0, z} with a small fixed α, so units with z < 0 still get a gradient.',
  params: { alpha: num({ label: 'α', help: 'Slope for z < 0.', default: 0.01, min: 0, max: 1 }) },
  forward: (ctx, x) => ctx.tf.leakyRelu(x, ctx.params.alpha),
  ...onnxOp('LeakyRelu', (p: { alpha: number }) => ({ alpha: { float: p.alpha } }), (n) => ({ params: { alpha: decimal(n.float('alpha', 0.01)) } })),
  torch: torchBuiltin((p: { alpha: number }) => `nn.LeakyReLU(${py(p.alpha)})`),
  keras: kerasUnary('LeakyReLU', (p: { alpha: number }) => ({ alpha: p.alpha })),
  // Keras's default slope is 0.3.
  fromKeras: { classNames: ['LeakyReLU'], read: (l) => ({ params: { alpha: kerasNumber(l, 'alpha', 0.3) } }) },
});

export const prelu = elementwise({
  kind: 'prelu',
  title: 'PReLU',
  description: 'Parametric ReLU: g(z)_i = max{0, z_i} + α_i min{0, z_i} with α_i learned per unit.',
  params: { alphaInit: num({ label: 'Initial α', help: 'Starting slope for z < 0 (learned afterwards).', default: 0.25, min: 0, max: 1 }) },
  weights: (p: { alphaInit: number }, inputs: Record<string, number[][]>) => {
    const s = inputs.in?.[0] ?? [1];
    return [{ name: 'alpha', shape: [s[s.length - 1] ?? 1], init: { name: 'constant', value: p.alphaInit }, trainable: true, penalized: false }];
  },
  forward: (ctx, x) => ctx.tf.prelu(x, ctx.weights.alpha!),
  // PRelu broadcasts its slope along the last axis, as tf.prelu does.
  onnx: (ctx) => ({ out: ctx.op('PRelu', [ctx.inputs.in![0]!, ctx.weight('alpha')]) }),
  fromOnnx: {
    opTypes: ['PRelu'],
    read: (n) => {
      const slope = n.constIn(1);
      return { params: {}, weights: { alpha: { shape: [slope.values.length], values: Float32Array.from(slope.values) } } };
    },
  },
  // Not nn.PReLU: that one learns its slopes along dim 1, Gradflow along the last axis.
  torch: (ctx) => ({
    module: `PReLU(${ctx.outputShapes.out!.at(-1)})`,
    classes: {
      PReLU: `class PReLU(nn.Module):
    """max{0, z} + α min{0, z} with α learned per unit (along the last axis)."""

    def __init__(self, units):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(units))

    ${TORCH_CHANNELS_LAST}
        return torch.where(x < 0, self.alpha * x, x)`,
    },
  }),
  // Keras's PReLU learns one slope per position unless axes are shared: sharing every axis
  // but the last gives Gradflow's slope per unit along the last axis.
  keras: (ctx) => {
    const rank = ctx.inputShapes.in![0]!.length;
    const alpha = ctx.weight('alpha');
    const shape = [...Array<number>(rank - 1).fill(1), alpha.values.length];
    const config: Record<string, KerasValue> = rank > 1 ? { shared_axes: Array.from({ length: rank - 1 }, (_, i) => i + 1) } : {};
    return { out: ctx.layer('PReLU', config, [ctx.inputs.in![0]!], [{ name: 'alpha', shape, values: alpha.values }]) };
  },
  fromKeras: {
    classNames: ['PReLU'],
    read: (l) => {
      const alpha = l.weight('alpha');
      const units = l.inputShapes[0]?.at(-1);
      if (alpha.values.length !== units) throw new Error(`it learns ${alpha.values.length} slopes (shape [${alpha.shape.join(', ')}]), Gradflow's PReLU one per unit along the last axis (${units}): share every other axis (shared_axes)`);
      return { params: {}, weights: { alpha: { shape: [units], values: alpha.values } } };
    },
  },
});

export const absRect = elementwise({
  kind: 'abs',
  title: 'Absolute value',
  description: 'Absolute-value rectification g(z) = |z| (α = −1 in the generalized ReLU).',
  params: {},
  forward: (ctx, x) => ctx.tf.abs(x),
  ...onnxOp('Abs'),
  torch: () => ({
    module: 'Abs()',
    classes: {
      Abs: `class Abs(nn.Module):
    """Absolute-value rectification |z|."""

    def forward(self, x):
        return torch.abs(x)`,
    },
  }),
});

export const sigmoid = elementwise({
  kind: 'sigmoid',
  title: 'Sigmoid',
  description: 'Logistic σ(z) = 1/(1 + e^−z), an output unit for Bernoulli outputs; saturates for large |z|.',
  params: {},
  activation: 'sigmoid',
  forward: (ctx, x) => ctx.tf.sigmoid(x),
  ...onnxOp('Sigmoid'),
  torch: torchBuiltin('nn.Sigmoid()'),
  ...kerasActivation('sigmoid'),
});

export const tanh = elementwise({
  kind: 'tanh',
  title: 'Tanh',
  description: 'Hyperbolic tangent, a zero-centred squashing unit in (−1, 1).',
  params: {},
  forward: (ctx, x) => ctx.tf.tanh(x),
  ...onnxOp('Tanh'),
  torch: torchBuiltin('nn.Tanh()'),
  ...kerasActivation('tanh'),
});

export const softmax = elementwise({
  kind: 'softmax',
  title: 'Softmax',
  description: 'softmax(z)_i = e^{z_i} / Σ_j e^{z_j}: turns scores into a probability distribution over classes (Multinoulli output).',
  params: {},
  activation: 'softmax',
  forward: (ctx, x) => ctx.tf.softmax(x),
  ...onnxOp('Softmax', () => ({ axis: { int: -1 } }), (n) => {
    const axis = n.int('axis', -1);
    inOnnxOrder(n);
    if (axis !== -1 && axis !== n.rank(0) - 1) n.fail(`${n.where} takes the softmax over axis ${axis}; Gradflow's Softmax works on the last axis`);
    return { params: {} };
  }),
  // Over the channels, dim 1, of an NCHW image in model.py.
  torch: (ctx) => ({ module: `nn.Softmax(dim=${torchImage(ctx.inputShapes.in?.[0]) ? 1 : -1})` }),
  // Activation('softmax') works on the last axis, as Gradflow's Softmax does.
  ...kerasActivation('softmax', { Softmax: (l) => isLastAxis(l.config.axis, l.inputShapes[0]) }),
});

export const linear = elementwise({
  kind: 'linear',
  title: 'Linear',
  description: 'The identity g(z) = z: a linear output unit, e.g. the mean of a Gaussian for regression.',
  params: {},
  forward: (_ctx, x) => x,
  // No reader: the importer leaves every ONNX Identity out (no node), as DropConnect and
  // Gaussian noise export as one too; a Linear node adds nothing at inference.
  onnx: onnxUnary('Identity'),
  torch: torchBuiltin('nn.Identity()'),
  ...kerasActivation('linear'),
});

export const softplus = elementwise({
  kind: 'softplus',
  title: 'Softplus',
  description: 'g(z) = log(1 + e^z), a smooth version of ReLU.',
  params: {},
  forward: (ctx, x) => ctx.tf.softplus(x),
  ...onnxOp('Softplus'),
  torch: torchBuiltin('nn.Softplus()'),
  ...kerasActivation('softplus'),
});

export const elu = elementwise({
  kind: 'elu',
  title: 'ELU',
  description: 'Exponential linear unit: z for z > 0, α(e^z − 1) otherwise.',
  params: { alpha: num({ label: 'α', help: 'Value approached for very negative z is −α.', default: 1, min: 0, max: 10 }) },
  forward: (ctx, x) => {
    const { tf } = ctx;
    const alpha: number = ctx.params.alpha;
    if (alpha === 1) return tf.elu(x);
    // max{0, z} + α(e^{min{0, z}} − 1), not tf.where(z > 0, …): tf.js has no gradient for the
    // comparison, so a where() on z cannot be differentiated, and e^z would overflow for large z.
    return tf.add(tf.relu(x), tf.mul(tf.expm1(tf.minimum(x, 0)), alpha));
  },
  ...onnxOp('Elu', (p: { alpha: number }) => ({ alpha: { float: p.alpha } }), (n) => ({ params: { alpha: decimal(n.float('alpha', 1)) } })),
  torch: torchBuiltin((p: { alpha: number }) => `nn.ELU(alpha=${py(p.alpha)})`),
  // TensorFlow.js's ELU layer refuses any α but 1 ("not supported yet"), so only α = 1 exports.
  keras: kerasUnary('ELU', (p: { alpha: number }) => {
    if (p.alpha !== 1) throw new Error(`TensorFlow.js's ELU layer computes only α = 1, and this one has α = ${p.alpha}`);
    return { alpha: 1 };
  }),
  // Activation('elu') is the ELU with α = 1.
  fromKeras: {
    classNames: ['ELU', 'Activation'],
    read: (l) => (l.className === 'ELU' ? { params: { alpha: kerasNumber(l, 'alpha', 1) } } : l.config.activation === 'elu' ? { params: { alpha: 1 } } : null),
  },
});
