/** Normalization layers. */
import { createRng } from '../../data/rng.ts';
import { bool, num } from '../params.ts';
import { elementwise } from './activations.ts';
import type { FloatTensor, KerasLayerView, OnnxConstant, OnnxContext, TorchContext } from '../types.ts';
import { decimal, inOnnxOrder, isLastAxis, kerasNumber, py, TORCH_CHANNELS_LAST } from './util.ts';

/** γ or β of a Keras normalization layer, or the constant it stands for when the layer has none (scale/center false). */
function scaleOr(l: KerasLayerView, name: string, features: number, value: number): FloatTensor {
  return l.has(name) ? l.weight(name) : { shape: [features], values: new Float32Array(features).fill(value) };
}

const epsilonParam = num({ label: 'ε', help: 'Added to the variance for numerical stability.', default: 1e-3, min: 0, max: 1, exclusiveMin: true, log: true });

/**
 * Gradflow's Noisy BatchNorm in PyTorch, for the exported project's train.py: the same noise
 * in training (drawn by torch's generator, so not the same numbers), none in eval mode.
 */
const NOISY_BATCHNORM_TORCH = `class NoisyBatchNorm(BatchNorm):
    """BatchNorm, then in training n ~ N(mu, sigma^2) on every activation, with mu and sigma
    drawn uniformly from their ranges at every step (Santurkar et al. 2018, Noisy BatchNorm)."""

    def __init__(self, features, momentum, epsilon, mean, scale):
        super().__init__(features, momentum, epsilon)
        self.mean_range = (min(mean), max(mean))
        self.scale_range = (min(scale), max(scale))

    def forward(self, x):
        y = super().forward(x)
        if not self.training:
            return y
        mu = self.mean_range[0] + (self.mean_range[1] - self.mean_range[0]) * torch.rand(()).item()
        sigma = self.scale_range[0] + (self.scale_range[1] - self.scale_range[0]) * torch.rand(()).item()
        return y + torch.randn_like(y) * sigma + mu`;

const featureWidth = (inputs: Record<string, number[][]>) => {
  const s = inputs.in?.[0] ?? [1];
  return s[s.length - 1] ?? 1;
};

const noisy = (p: Record<string, unknown>) => p.noise === true;

/**
 * The parameters of the Noisy BatchNorm of Santurkar et al. 2018 ("Standard + Noisy
 * BatchNorm", their Section 2.1): after normalization, i.i.d. noise n ~ N(μ_t, σ_t²) on every
 * activation of every example, where μ_t and σ_t are themselves drawn uniformly from the
 * user's ranges at every training step, so the layer's output distribution moves from step to
 * step (internal covariate shift made worse on purpose). Inference adds nothing.
 */
export const NOISY_BATCHNORM_PARAMS = {
  noise: bool({ label: 'Noisy (training)', help: "Santurkar et al.'s Noisy BatchNorm: during training only, add to every output noise N(μ, σ²) whose mean μ and scale σ are drawn anew at every step from the ranges below, so the distribution the next layer sees keeps moving. Inference adds nothing.", default: false }),
  noiseMeanFrom: num({ label: 'Noise mean from', help: 'The mean μ of each step is drawn uniformly between this and "Noise mean to".', default: -0.5, min: -100, max: 100, visibleWhen: noisy }),
  noiseMeanTo: num({ label: 'Noise mean to', help: 'The other end of the range of μ.', default: 0.5, min: -100, max: 100, visibleWhen: noisy }),
  noiseScaleFrom: num({ label: 'Noise scale from', help: 'The standard deviation σ of each step is drawn uniformly between this and "Noise scale to".', default: 0.5, min: 0, max: 100, visibleWhen: noisy }),
  noiseScaleTo: num({ label: 'Noise scale to', help: 'The other end of the range of σ.', default: 1, min: 0, max: 100, visibleWhen: noisy }),
};

/** The parameters of a Noisy BatchNorm's noise (the two ends of each range in either order). */
export interface BatchNormNoise {
  noise: boolean;
  noiseMeanFrom: number;
  noiseMeanTo: number;
  noiseScaleFrom: number;
  noiseScaleTo: number;
}

/**
 * BatchNorm as in the course: μ_B and σ_B² over the batch, x̂ = (x − μ_B)/√(σ_B² + ε),
 * y = γ x̂ + β. Running averages of μ_B and σ_B² replace them at inference. With `noise` on,
 * the Noisy BatchNorm above adds its noise to y in training.
 */
export const batchNorm = elementwise({
  kind: 'batchNorm',
  title: 'BatchNorm',
  category: 'Normalization',
  description:
    'Normalizes each feature over the batch to mean 0 and variance 1, then scales and shifts by learned γ and β. At inference it uses running averages of the batch statistics. Place it before the non-linearity.',
  params: {
    momentum: num({ label: 'Momentum', help: 'Running statistics: r ← momentum·r + (1 − momentum)·batch statistic.', default: 0.99, min: 0, max: 1, exclusiveMax: true }),
    epsilon: epsilonParam,
    ...NOISY_BATCHNORM_PARAMS,
  },
  weights: (_p: unknown, inputs: Record<string, number[][]>) => {
    const f = featureWidth(inputs);
    return [
      { name: 'gamma', shape: [f], init: { name: 'ones' }, trainable: true, penalized: false },
      { name: 'beta', shape: [f], init: { name: 'zeros' }, trainable: true, penalized: false },
      { name: 'movingMean', shape: [f], init: { name: 'zeros' }, trainable: false, penalized: false },
      { name: 'movingVariance', shape: [f], init: { name: 'ones' }, trainable: false, penalized: false },
    ];
  },
  forward: (ctx, x) => {
    const { tf } = ctx;
    const w = ctx.weights;
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    if (!ctx.training) {
      return tf.add(tf.mul(tf.div(tf.sub(x, w.movingMean!), tf.sqrt(tf.add(w.movingVariance!, ctx.params.epsilon))), w.gamma!), w.beta!);
    }
    const { mean, variance } = tf.moments(x, axes);
    const m: number = ctx.params.momentum;
    ctx.setState('movingMean', tf.add(tf.mul(w.movingMean!, m), tf.mul(mean, 1 - m)));
    ctx.setState('movingVariance', tf.add(tf.mul(w.movingVariance!, m), tf.mul(variance, 1 - m)));
    const xHat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, ctx.params.epsilon)));
    const y = tf.add(tf.mul(xHat, w.gamma!), w.beta!);
    if (!ctx.params.noise) return y;
    // μ_t and σ_t on the host from one seed of the run's generator (so a run stays
    // reproducible), the per-activation noise on the device from the same stream.
    const p = ctx.params as BatchNormNoise;
    const rng = createRng(ctx.seed());
    const mu = rng.uniform(Math.min(p.noiseMeanFrom, p.noiseMeanTo), Math.max(p.noiseMeanFrom, p.noiseMeanTo));
    const sigma = rng.uniform(Math.min(p.noiseScaleFrom, p.noiseScaleTo), Math.max(p.noiseScaleFrom, p.noiseScaleTo));
    // tf.randomNormal treats seed 0 as "unseeded": 1 + int keeps it seeded.
    return tf.add(y, tf.randomNormal(x.shape, mu, sigma, 'float32', 1 + rng.int(2 ** 31 - 2)));
  },
  // Inference only, where the noise is absent: the exported graph is the plain BatchNorm, and
  // predicts exactly as Gradflow does.
  onnx: (ctx: OnnxContext<{ epsilon: number }>) => {
    const x = ctx.inputs.in![0]!;
    const [gamma, beta, mean, variance] = ['gamma', 'beta', 'movingMean', 'movingVariance'].map((n) => ctx.weight(n)) as [string, string, string, string];
    // ONNX BatchNormalization normalizes axis 1; Gradflow normalizes the last axis, which is
    // axis 1 only for flat [N, features] inputs. Otherwise the same formula in plain ops.
    if ((ctx.inputShapes.in?.[0]?.length ?? 1) === 1) {
      return { out: ctx.op('BatchNormalization', [x, gamma, beta, mean, variance], { epsilon: { float: ctx.params.epsilon } }) };
    }
    const std = ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.constant('epsilon', [ctx.params.epsilon], [])])]);
    const xHat = ctx.op('Div', [ctx.op('Sub', [x, mean]), std]);
    return { out: ctx.op('Add', [ctx.op('Mul', [xHat, gamma]), beta]) };
  },
  // ONNX's BatchNormalization normalizes axis 1: the features of a flat input, the channels of
  // an NCHW image (Gradflow's last axis, where it holds the image channels last).
  fromOnnx: {
    opTypes: ['BatchNormalization'],
    read: (n) => {
      if (n.layout(0)?.kind === 'flat') n.fail(`${n.where} normalizes a flattened channels-first image, whose features Gradflow holds in another order`);
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => n.constIn(k)) as [OnnxConstant, OnnxConstant, OnnxConstant, OnnxConstant];
      const f = scale.values.length;
      const w = (c: OnnxConstant) => ({ shape: [f], values: Float32Array.from(c.values) });
      return {
        params: { epsilon: decimal(n.float('epsilon', 1e-5)), ...(n.has('momentum') ? { momentum: decimal(n.float('momentum', 0.9)) } : {}) },
        weights: { gamma: w(scale), beta: w(bias), movingMean: w(mean), movingVariance: w(variance) },
      };
    },
  },
  // Noisy BatchNorm draws its noise in training.
  random: (p: Record<string, unknown>) => noisy(p),
  // Keras's BatchNormalization over the last axis is the same formula, and its moving
  // averages follow the same rule r ← momentum·r + (1 − momentum)·statistic. No Keras layer
  // adds Noisy BatchNorm's training noise, so that variant is refused rather than changed.
  keras: (ctx) => {
    if (noisy(ctx.params)) throw new Error('no Keras layer adds Noisy BatchNorm’s training noise (turn Noisy off to export it; its inference is the plain BatchNorm)');
    return { out: ctx.layer('BatchNormalization', { axis: -1, momentum: ctx.params.momentum, epsilon: ctx.params.epsilon, center: true, scale: true }, [ctx.inputs.in![0]!], [
      { name: 'gamma', ...ctx.weight('gamma') },
      { name: 'beta', ...ctx.weight('beta') },
      { name: 'moving_mean', ...ctx.weight('movingMean') },
      { name: 'moving_variance', ...ctx.weight('movingVariance') },
    ]) };
  },
  fromKeras: {
    classNames: ['BatchNormalization'],
    read: (l) => {
      if (!isLastAxis(l.config.axis, l.inputShapes[0])) throw new Error(`it normalizes axis ${JSON.stringify(l.config.axis)}; Gradflow's BatchNorm normalizes the last axis (channels last)`);
      const mean = l.weight('moving_mean');
      const f = mean.values.length;
      return {
        params: { momentum: kerasNumber(l, 'momentum', 0.99), epsilon: kerasNumber(l, 'epsilon', 1e-3) },
        weights: { gamma: scaleOr(l, 'gamma', f, 1), beta: scaleOr(l, 'beta', f, 0), movingMean: mean, movingVariance: l.weight('moving_variance') },
      };
    },
  },
  // Not nn.BatchNorm1d: its running variance is unbiased and its momentum weighs the new
  // statistic; Gradflow's (the course's) is r ← m·r + (1 − m)·batch statistic, biased.
  torch: (ctx: TorchContext<{ momentum: number; epsilon: number } & BatchNormNoise>) => ({
    module: ctx.params.noise
      ? `NoisyBatchNorm(${ctx.outputShapes.out!.at(-1)}, momentum=${py(ctx.params.momentum)}, epsilon=${py(ctx.params.epsilon)}, mean=(${py(ctx.params.noiseMeanFrom)}, ${py(ctx.params.noiseMeanTo)}), scale=(${py(ctx.params.noiseScaleFrom)}, ${py(ctx.params.noiseScaleTo)}))`
      : `BatchNorm(${ctx.outputShapes.out!.at(-1)}, momentum=${py(ctx.params.momentum)}, epsilon=${py(ctx.params.epsilon)})`,
    classes: {
      BatchNorm: `class BatchNorm(nn.Module):
    """x̂ = (x − μ_B)/√(σ_B² + ε), y = γ x̂ + β over the batch (last axis = features);
    running averages r ← momentum·r + (1 − momentum)·statistic replace μ_B, σ_B² at inference."""

    def __init__(self, features, momentum, epsilon):
        super().__init__()
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = nn.Parameter(torch.ones(features))
        self.beta = nn.Parameter(torch.zeros(features))
        self.register_buffer("movingMean", torch.zeros(features))
        self.register_buffer("movingVariance", torch.ones(features))

    ${TORCH_CHANNELS_LAST}
        if not self.training:
            return (x - self.movingMean) / torch.sqrt(self.movingVariance + self.epsilon) * self.gamma + self.beta
        axes = tuple(range(x.dim() - 1))
        mean = x.mean(axes)
        variance = ((x - mean) ** 2).mean(axes)
        with torch.no_grad():
            m = self.momentum
            self.movingMean.copy_(self.movingMean * m + mean * (1 - m))
            self.movingVariance.copy_(self.movingVariance * m + variance * (1 - m))
        return (x - mean) / torch.sqrt(variance + self.epsilon) * self.gamma + self.beta`,
      // After BatchNorm: it derives from it (the classes are written in this order).
      ...(ctx.params.noise ? { NoisyBatchNorm: NOISY_BATCHNORM_TORCH } : {}),
    },
  }),
});

export const layerNorm = elementwise({
  kind: 'layerNorm',
  title: 'LayerNorm',
  category: 'Normalization',
  description: 'Normalizes each example over its own features (not over the batch), then scales and shifts by learned γ and β. Same in training and inference.',
  params: { epsilon: epsilonParam },
  weights: (_p: unknown, inputs: Record<string, number[][]>) => {
    const f = featureWidth(inputs);
    return [
      { name: 'gamma', shape: [f], init: { name: 'ones' }, trainable: true, penalized: false },
      { name: 'beta', shape: [f], init: { name: 'zeros' }, trainable: true, penalized: false },
    ];
  },
  forward: (ctx, x) => {
    const { tf } = ctx;
    const { mean, variance } = tf.moments(x, -1, true);
    const xHat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, ctx.params.epsilon)));
    return tf.add(tf.mul(xHat, ctx.weights.gamma!), ctx.weights.beta!);
  },
  onnx: (ctx: OnnxContext<{ epsilon: number }>) => ({
    out: ctx.op('LayerNormalization', [ctx.inputs.in![0]!, ctx.weight('gamma'), ctx.weight('beta')], { axis: { int: -1 }, epsilon: { float: ctx.params.epsilon } }),
  }),
  fromOnnx: {
    opTypes: ['LayerNormalization'],
    read: (n) => {
      const axis = n.int('axis', -1);
      inOnnxOrder(n);
      if (axis !== -1 && axis !== n.rank(0) - 1) n.fail(`${n.where} normalizes from axis ${axis}; Gradflow's LayerNorm normalizes the last axis`);
      const scale = n.constIn(1);
      const f = scale.values.length;
      const bias = n.inputs[2] ? n.constIn(2).values : new Float32Array(f);
      return { params: { epsilon: decimal(n.float('epsilon', 1e-5)) }, weights: { gamma: { shape: [f], values: Float32Array.from(scale.values) }, beta: { shape: [f], values: Float32Array.from(bias) } } };
    },
  },
  keras: (ctx) => ({
    out: ctx.layer('LayerNormalization', { axis: -1, epsilon: ctx.params.epsilon, center: true, scale: true }, [ctx.inputs.in![0]!], [
      { name: 'gamma', ...ctx.weight('gamma') },
      { name: 'beta', ...ctx.weight('beta') },
    ]),
  }),
  fromKeras: {
    classNames: ['LayerNormalization'],
    read: (l) => {
      if (!isLastAxis(l.config.axis, l.inputShapes[0])) throw new Error(`it normalizes over axis ${JSON.stringify(l.config.axis)}; Gradflow's LayerNorm normalizes the last axis`);
      const f = l.inputShapes[0]?.at(-1) ?? 0;
      return { params: { epsilon: kerasNumber(l, 'epsilon', 1e-3) }, weights: { gamma: scaleOr(l, 'gamma', f, 1), beta: scaleOr(l, 'beta', f, 0) } };
    },
  },
  torch: (ctx: TorchContext<{ epsilon: number }>) => ({
    module: `LayerNorm(${ctx.outputShapes.out!.at(-1)}, epsilon=${py(ctx.params.epsilon)})`,
    classes: {
      LayerNorm: `class LayerNorm(nn.Module):
    """Normalizes each example over its features, then γ x̂ + β."""

    def __init__(self, features, epsilon):
        super().__init__()
        self.epsilon = epsilon
        self.gamma = nn.Parameter(torch.ones(features))
        self.beta = nn.Parameter(torch.zeros(features))

    ${TORCH_CHANNELS_LAST}
        mean = x.mean(-1, keepdim=True)
        variance = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(variance + self.epsilon) * self.gamma + self.beta`,
    },
  }),
});
