/** Cost functions. Both cross-entropies take scores (logits) and apply softmax/sigmoid themselves, for numerical stability. */
import { defineKind, type InferContext, type KerasContext, type LocalIssue, type OnnxAttribute, type OnnxContext, type OutputActivation, type Shape, type TF, type Tensor } from '../types.ts';
import { error, fmt, single } from './util.ts';

const lossPorts = {
  inputs: [
    { name: 'pred', label: 'pred', type: 'tensor' as const, help: "The network's output" },
    { name: 'target', label: 'target', type: 'tensor' as const, help: 'Targets y from the Dataset' },
  ],
  outputs: [{ name: 'loss', label: 'loss', type: 'loss' as const }],
};

/**
 * A loss's shape rule: a scalar loss, or none when `check` finds a problem with the pred and
 * target shapes it compares (both known; an unknown one is reported where it comes from).
 */
function lossInfer(check: (pred: Shape, target: Shape, name: string) => LocalIssue | null) {
  return (ctx: InferContext<unknown>) => {
    const pred = single(ctx, 'pred');
    const target = single(ctx, 'target');
    const issue = pred && target ? check(pred, target, ctx.name) : null;
    return { outputs: { loss: issue?.severity === 'error' ? null : [] }, issues: issue ? [issue] : [] };
  };
}

/** Each output activation as an ONNX op with its attributes. */
const ONNX_ACTIVATION: Record<OutputActivation, { op: string; attributes: Record<string, OnnxAttribute> }> = {
  softmax: { op: 'Softmax', attributes: { axis: { int: -1 } } },
  sigmoid: { op: 'Sigmoid', attributes: {} },
};

/**
 * A cross-entropy's output activation, said once: the loss applies it to the scores wired into
 * pred (`appliesActivation`), and the exported model (ONNX, Keras) also gives the class
 * probabilities this loss reads its scores as, through the same activation.
 */
function appliesToScores(activation: OutputActivation) {
  const { op, attributes } = ONNX_ACTIVATION[activation];
  return {
    appliesActivation: activation,
    onnx: (ctx: OnnxContext<unknown>) => ({ probabilities: ctx.op(op, [ctx.inputs.pred![0]!], attributes, 'probabilities') }),
    keras: (ctx: KerasContext<unknown>) => ({ probabilities: ctx.layer('Activation', { activation }, [ctx.inputs.pred![0]!]) }),
  };
}

/** Mean over the batch of −Σ_k y_k log softmax(z)_k. */
export function softmaxCrossEntropy(tf: TF, logits: Tensor, target: Tensor): Tensor {
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1)));
}

/** Mean of −[y log σ(z) + (1 − y) log(1 − σ(z))], written stably as max(z,0) − zy + log(1 + e^−|z|). */
export function binaryCrossEntropy(tf: TF, logits: Tensor, target: Tensor): Tensor {
  return tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

export function meanSquaredError(tf: TF, pred: Tensor, target: Tensor): Tensor {
  return tf.mean(tf.squaredDifference(pred, target));
}

export const softmaxCE = defineKind({
  kind: 'softmaxCrossEntropy',
  title: 'Softmax cross-entropy',
  category: 'Losses',
  role: 'loss',
  ...appliesToScores('softmax'),
  description:
    'Cross-entropy between one-hot targets and softmax(pred); applies softmax itself, so wire raw scores (a Dense) into pred. Minimizing it is maximum likelihood for a Multinoulli output. Reports accuracy.',
  ...lossPorts,
  params: {},
  infer: lossInfer((pred, target, name) => {
    if (target.length === 1 && target[0] === 1) {
      return error('loss/encoding', `Softmax cross-entropy ${name} needs one-hot class targets but gets targets of shape [1] (0/1 labels or regression values): for classes set the Dataset's target encoding to one-hot; for 0/1 labels use Binary cross-entropy; for regression use Mean squared error`, { port: 'target' });
    }
    if (fmt(pred) === fmt(target)) return null;
    const k = target[target.length - 1];
    return error('shape/mismatch', `Softmax cross-entropy ${name} compares pred ${fmt(pred)} with targets ${fmt(target)}: the layer before it needs ${k} units, one per class`, { port: 'pred' });
  }),
  forward: (ctx, inputs) => ({ loss: softmaxCrossEntropy(ctx.tf, inputs.pred![0]!, inputs.target![0]!) }),
  torch: () => ({
    module: 'SoftmaxCrossEntropy()',
    classes: {
      SoftmaxCrossEntropy: `class SoftmaxCrossEntropy(nn.Module):
    """Mean over the batch of −Σ_k y_k log softmax(z)_k (takes scores, applies softmax itself)."""

    def forward(self, logits, target):
        return -(target * torch.log_softmax(logits, -1)).sum(-1).mean()

    def probabilities(self, logits):
        return torch.softmax(logits, -1)`,
    },
  }),
});

export const binaryCE = defineKind({
  kind: 'binaryCrossEntropy',
  title: 'Binary cross-entropy',
  category: 'Losses',
  role: 'loss',
  ...appliesToScores('sigmoid'),
  description:
    'Cross-entropy for 0/1 targets with a sigmoid output: applies the sigmoid itself, so wire raw scores (a Dense with 1 unit) into pred. Reports accuracy.',
  ...lossPorts,
  params: {},
  infer: lossInfer((pred, target, name) => {
    if (fmt(pred) === fmt(target)) return null;
    return target.length === 1 && target[0]! > 1
      ? error('loss/encoding', `Binary cross-entropy ${name} needs 0/1 targets of shape [1] but gets one-hot ${fmt(target)}: set the Dataset's target encoding to binary (2 classes), or use Softmax cross-entropy`, { port: 'target' })
      : error('shape/mismatch', `Binary cross-entropy ${name} compares pred ${fmt(pred)} with targets ${fmt(target)}: the layer before it needs ${target[target.length - 1]} unit(s)`, { port: 'pred' });
  }),
  forward: (ctx, inputs) => ({ loss: binaryCrossEntropy(ctx.tf, inputs.pred![0]!, inputs.target![0]!) }),
  torch: () => ({
    module: 'BinaryCrossEntropy()',
    classes: {
      BinaryCrossEntropy: `class BinaryCrossEntropy(nn.Module):
    """Mean of max(z, 0) − z y + log(1 + e^−|z|): cross-entropy of sigmoid(z), written stably."""

    def forward(self, logits, target):
        return (torch.relu(logits) - logits * target + torch.log1p(torch.exp(-torch.abs(logits)))).mean()

    def probabilities(self, logits):
        return torch.sigmoid(logits)`,
    },
  }),
});

export const mse = defineKind({
  kind: 'meanSquaredError',
  title: 'Mean squared error',
  category: 'Losses',
  role: 'loss',
  description: 'Mean of (pred − y)² over the batch and outputs; maximum likelihood for a Gaussian output with a linear unit. For regression.',
  ...lossPorts,
  params: {},
  infer: lossInfer((pred, target, name) =>
    fmt(pred) === fmt(target) ? null : error('shape/mismatch', `Mean squared error ${name} compares pred ${fmt(pred)} with targets ${fmt(target)}: they must have the same shape`, { port: 'pred' }),
  ),
  forward: (ctx, inputs) => ({ loss: meanSquaredError(ctx.tf, inputs.pred![0]!, inputs.target![0]!) }),
  // A linear output: the prediction is the model's output as it is.
  onnx: () => ({}),
  keras: () => ({}),
  torch: () => ({
    module: 'MeanSquaredError()',
    classes: {
      MeanSquaredError: `class MeanSquaredError(nn.Module):
    """Mean of (pred − y)² over the batch and outputs."""

    def forward(self, pred, target):
        return ((pred - target) ** 2).mean()`,
    },
  }),
});
