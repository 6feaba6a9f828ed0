/** Regularization: masks and noise on the data path, penalties and early stopping on the loss path. */
import { bool, int, num } from '../params.ts';
import { defineKind, type InferContext, type InferResult, type Tensor, type TF } from '../types.ts';
import { elementwise } from './activations.ts';
import { decimal, kerasNumber, kerasUnary, onnxUnary, py, single } from './util.ts';

const rateParam = (what: string) =>
  num({ label: 'Rate', help: `Probability of dropping ${what} during training (keep probability p = 1 − rate).`, default: 0.5, min: 0, max: 1, exclusiveMax: true });

/**
 * Dropout as in the course: f(h) = g((hᵀW) ⊙ m) with m_i ~ Bernoulli(p) during training,
 * and the activations multiplied by p at test time.
 */
export const dropout = elementwise({
  kind: 'dropout',
  title: 'Dropout',
  category: 'Regularization',
  description:
    'Drops each unit with probability rate during training (mask m_i ~ Bernoulli(p), p = 1 − rate); at test time activations are multiplied by p.',
  params: { rate: rateParam('a unit') },
  random: (p: { rate: number }) => p.rate > 0,
  forward: (ctx, x) => {
    const { tf } = ctx;
    const keep = 1 - ctx.params.rate;
    if (keep >= 1) return x;
    if (!ctx.training) return tf.mul(x, keep);
    const mask = tf.cast(tf.less(tf.randomUniform(x.shape, 0, 1, 'float32', ctx.seed()), keep), 'float32');
    return tf.mul(x, mask);
  },
  // The inference form: activations scaled by p (nothing to do when nothing is dropped).
  onnx: (ctx) => {
    const keep = 1 - ctx.params.rate;
    const x = ctx.inputs.in![0]!;
    return { out: keep >= 1 ? ctx.op('Identity', [x]) : ctx.op('Mul', [x, ctx.constant('keep', [keep], [])]) };
  },
  // Back from that form: a tensor times a number p in (0, 1) is a Dropout of rate 1 − p. (A
  // constant times a number, a kernel under DropConnect, is folded before any kind reads it.)
  fromOnnx: {
    opTypes: ['Mul'],
    read: (n) => {
      const k = n.inputs.findIndex((_, j) => n.constant(j));
      const c = k >= 0 ? n.constant(k)! : null;
      const p = c && c.values.length === 1 ? Number(c.values[0]) : NaN;
      if (!(p > 0 && p < 1)) n.fail(`${n.where} multiplies ${c ? `by ${c.values.length === 1 ? p : `a ${c.dims.join('×')} tensor`}` : 'two tensors'}; Gradflow imports a multiplication only by a keep probability p in (0, 1), as Dropout`);
      return { params: { rate: decimal(1 - p) }, tensors: [1 - k] };
    },
  },
  // Keras's Dropout is inverted (x ⊙ m / p in training, x at inference); followed by a
  // Rescaling by p it computes Gradflow's x ⊙ m in training and p·x at inference. The
  // Rescaling is the layer that reads back as this node (the Dropout alone is the identity
  // at inference).
  keras: (ctx) => {
    const mask = ctx.layer('Dropout', { rate: ctx.params.rate }, [ctx.inputs.in![0]!], [], 'mask');
    return { out: ctx.layer('Rescaling', { scale: 1 - ctx.params.rate, offset: 0 }, [mask]) };
  },
  fromKeras: {
    classNames: ['Rescaling'],
    read: (l) => {
      const scale = kerasNumber(l, 'scale');
      const offset = kerasNumber(l, 'offset', 0);
      if (offset !== 0 || !(scale > 0 && scale <= 1)) throw new Error(`it computes ${scale}·x + ${offset}; Gradflow reads a Rescaling only as Dropout's inference scaling by p in (0, 1], with no offset`);
      return { params: { rate: Number((1 - scale).toPrecision(7)) } };
    },
  },
  // Not nn.Dropout: that one scales by 1/p in training; the course (and Gradflow) by p at test time.
  torch: (ctx) => ({
    module: `Dropout(${py(ctx.params.rate)})`,
    classes: {
      Dropout: `class Dropout(nn.Module):
    """Training: x ⊙ m, m_i ~ Bernoulli(p), p = 1 − rate. Inference: p·x (the course's form)."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        keep = 1 - self.rate
        if keep >= 1:
            return x
        if not self.training:
            return x * keep
        return x * (torch.rand_like(x) < keep).to(x.dtype)`,
    },
  }),
});

/**
 * DropConnect masks weights, not activations, so it lives in the layer it feeds: this node
 * is the identity on its input and tells the compiler to mask the next Dense's W.
 * Validation checks that its output goes to exactly one Dense, Maxout or Conv2D.
 */
export const dropConnect = elementwise({
  kind: 'dropConnect',
  title: 'DropConnect',
  category: 'Regularization',
  description:
    'Drops each weight of the Dense, Maxout or Conv2D layer it feeds with probability rate during training: f(h) = g(hᵀ(W ⊙ M)), M_ij ~ Bernoulli(p). Its output must go straight into that one layer.',
  params: { rate: rateParam('a weight') },
  dropConnectRate: (p: { rate: number }) => p.rate,
  random: (p: { rate: number }) => p.rate > 0,
  forward: (_ctx, x) => x,
  // The layer it feeds exports p·W; the node itself passes its input on.
  onnx: onnxUnary('Identity'),
  torch: () => ({ module: 'nn.Identity()' }),
});

export const gaussianNoise = elementwise({
  kind: 'gaussianNoise',
  title: 'Gaussian noise',
  category: 'Regularization',
  description: 'Adds N(0, σ²) noise to inputs or activations during training only, making the network robust to small perturbations.',
  params: { sigma: num({ label: 'σ', help: 'Standard deviation of the added noise.', default: 0.1, min: 0, max: 100 }) },
  random: (p: { sigma: number }) => p.sigma > 0,
  forward: (ctx, x) => {
    const { tf } = ctx;
    if (!ctx.training || ctx.params.sigma === 0) return x;
    return tf.add(x, tf.randomNormal(x.shape, 0, ctx.params.sigma, 'float32', ctx.seed()));
  },
  // No noise at inference.
  onnx: onnxUnary('Identity'),
  // Keras's GaussianNoise is the same: N(0, σ²) added in training only.
  keras: kerasUnary('GaussianNoise', (p: { sigma: number }) => ({ stddev: p.sigma })),
  fromKeras: { classNames: ['GaussianNoise'], read: (l) => ({ params: { sigma: kerasNumber(l, 'stddev') } }) },
  torch: (ctx) => ({
    module: `GaussianNoise(${py(ctx.params.sigma)})`,
    classes: {
      GaussianNoise: `class GaussianNoise(nn.Module):
    """Adds N(0, σ²) noise in training only."""

    def __init__(self, sigma):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        if not self.training or self.sigma == 0:
            return x
        return x + torch.randn_like(x) * self.sigma`,
    },
  }),
});

const lossIn = [{ name: 'loss', label: 'loss', type: 'loss' as const }];
const lossOut = [{ name: 'loss', label: 'loss', type: 'loss' as const }];

/**
 * A penalty on the loss path: its term over every penalized weight matrix, scaled by α
 * (α = 0 adds no term, so the step has no extra op). `torchTerm` is the same term as a
 * Python expression of `w` and `alpha`, for the exported train.py.
 */
function penalty(kind: string, title: string, description: string, term: (tf: TF, w: Tensor, alpha: number) => Tensor, torchTerm: string) {
  return defineKind({
    kind,
    title,
    category: 'Regularization',
    role: 'penalty',
    description,
    inputs: lossIn,
    outputs: lossOut,
    params: { alpha: num({ label: 'α', help: 'Strength of the penalty; 0 means none.', default: 1e-4, min: 0, max: 10, log: true }) },
    infer: () => ({ outputs: { loss: [] } }),
    penalty: (tf, w, { alpha }) => (alpha === 0 ? null : term(tf, w, alpha)),
    torchPenalty: `alpha = p["alpha"]\nreturn None if alpha == 0 else ${torchTerm}`,
  });
}

export const l2 = penalty(
  'l2',
  'L2 penalty',
  'Weight decay: adds (α/2) WᵀW over every weight matrix (not biases) to the loss, so the gradient gains αW. Wire it between the loss and the optimizer.',
  // (α/2) ΣW², whose gradient is αW.
  (tf, w, alpha) => tf.mul(tf.sum(tf.square(w)), alpha / 2),
  'torch.square(w).sum() * (alpha / 2)',
);

export const l1 = penalty(
  'l1',
  'L1 penalty',
  'Adds α‖W‖₁ over every weight matrix (not biases) to the loss; its gradient α·sign(W) drives weights to exactly zero.',
  // α Σ|W|, whose (sub)gradient is α·sign(W).
  (tf, w, alpha) => tf.mul(tf.sum(tf.abs(w)), alpha),
  'torch.abs(w).sum() * alpha',
);

/** Target-path kinds pass the targets' shape through unchanged. */
const sameTargets = (ctx: InferContext<unknown>): InferResult => {
  const s = single(ctx, 'y');
  return { outputs: { y: s ? [...s] : null } };
};

const targetNode = {
  category: 'Regularization' as const,
  role: 'targets' as const,
  inputs: [{ name: 'y', label: 'y', type: 'tensor' as const, help: 'Targets from the Dataset' }],
  outputs: [{ name: 'y', label: 'y', type: 'tensor' as const }],
};

export const labelSmoothing = defineKind({
  kind: 'labelSmoothing',
  title: 'Label smoothing',
  ...targetNode,
  description: 'Softens one-hot training targets to y(1 − ε) + ε/K so the network stops pushing its scores to infinity. Validation uses the true labels.',
  params: { epsilon: num({ label: 'ε', help: 'Probability mass spread evenly over the K classes.', default: 0.1, min: 0, max: 1, exclusiveMax: true }) },
  infer: sameTargets,
  forward(ctx, inputs) {
    const y = inputs.y![0]!;
    if (!ctx.training || ctx.params.epsilon === 0) return { y };
    const k = Math.max(2, y.shape[y.shape.length - 1] ?? 2);
    return { y: ctx.tf.add(ctx.tf.mul(y, 1 - ctx.params.epsilon), ctx.params.epsilon / k) };
  },
  torch: (ctx) => ({
    module: `LabelSmoothing(${py(ctx.params.epsilon)})`,
    classes: {
      LabelSmoothing: `class LabelSmoothing(nn.Module):
    """Training targets y(1 − ε) + ε/K; validation uses the true labels."""

    def __init__(self, epsilon):
        super().__init__()
        self.epsilon = epsilon

    def forward(self, y):
        if not self.training or self.epsilon == 0:
            return y
        k = max(2, y.shape[-1])
        return y * (1 - self.epsilon) + self.epsilon / k`,
    },
  }),
});

export const labelNoise = defineKind({
  kind: 'labelNoise',
  title: 'Label noise',
  ...targetNode,
  description: 'Noise injected in the labels: during training each target is replaced by a random class with probability p. Validation uses the true labels.',
  params: { probability: num({ label: 'p', help: 'Probability that a training label is replaced by a uniformly random class.', default: 0.05, min: 0, max: 1 }) },
  random: (p) => p.probability > 0,
  infer: sameTargets,
  forward(ctx, inputs) {
    const { tf } = ctx;
    const y = inputs.y![0]!;
    const p = ctx.params.probability;
    if (!ctx.training || p === 0) return { y };
    const [n, k] = [y.shape[0]!, y.shape[y.shape.length - 1]!];
    const replace = tf.cast(tf.less(tf.randomUniform([n, 1], 0, 1, 'float32', ctx.seed()), p), 'float32');
    const random =
      k === 1
        ? tf.cast(tf.less(tf.randomUniform([n, 1], 0, 1, 'float32', ctx.seed()), 0.5), 'float32')
        : tf.oneHot(tf.randomUniform([n], 0, k, 'int32', ctx.seed()), k).toFloat();
    return { y: tf.add(tf.mul(y, tf.sub(1, replace)), tf.mul(random, replace)) };
  },
  torch: (ctx) => ({
    module: `LabelNoise(${py(ctx.params.probability)})`,
    classes: {
      LabelNoise: `class LabelNoise(nn.Module):
    """In training each target becomes a uniformly random class with probability p."""

    def __init__(self, probability):
        super().__init__()
        self.probability = probability

    def forward(self, y):
        if not self.training or self.probability == 0:
            return y
        n, k = y.shape[0], y.shape[-1]
        replace = (torch.rand(n, 1) < self.probability).to(y.dtype)
        if k == 1:
            random = (torch.rand(n, 1) < 0.5).to(y.dtype)
        else:
            random = nn.functional.one_hot(torch.randint(0, k, (n,)), k).to(y.dtype)
        return y * (1 - replace) + random * replace`,
    },
  }),
});

export const earlyStopping = defineKind({
  kind: 'earlyStopping',
  title: 'Early stopping',
  category: 'Regularization',
  role: 'earlyStopping',
  description:
    'Treats the number of epochs as a hyperparameter: stops training when the validation loss has not improved by min Δ for patience epochs, and can restore the best weights.',
  inputs: lossIn,
  outputs: lossOut,
  params: {
    patience: int({ label: 'Patience', help: 'Epochs without improvement before stopping.', default: 5, min: 1, max: 10_000 }),
    minDelta: num({ label: 'Min Δ', help: 'Smallest decrease of the validation loss that counts as an improvement.', default: 0, min: 0, max: 1e6 }),
    restoreBest: bool({ label: 'Restore best weights', help: 'When stopping, go back to the weights of the best validation epoch.', default: true }),
  },
  infer: () => ({ outputs: { loss: [] } }),
});
