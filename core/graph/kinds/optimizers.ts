/**
 * Optimizers: one node kind per update rule, sharing the learning-rate schedule, clipping and
 * epochs. Each kind carries its rule and state slots; core/train/optimizers.ts runs them.
 */
import { int, num, oneOf, type ParamSpecs } from '../params.ts';
import { defineKind, type AnyKindDef, type OptimizerRule, type OptimizerStep, type ParamValues, type TorchOptimizerRule, type VariableUpdate } from '../types.ts';

export const SCHEDULE_OPTIONS = ['constant', 'step', 'exponential', 'inverse-time', 'cosine'] as const;
export const CLIP_OPTIONS = ['none', 'norm', 'value'] as const;

const decays = (p: Record<string, unknown>) => p.schedule !== 'constant';

const common = {
  learningRate: num({ label: 'Learning rate λ', help: 'Step size λ of each update.', default: 0.01, min: 0, max: 100, exclusiveMin: true, log: true }),
  epochs: int({ label: 'Epochs', help: 'Passes over the training set.', default: 20, min: 1, max: 100_000 }),
  schedule: oneOf({
    label: 'Schedule',
    help:
      'How λ changes with the step t. Step: λ·r^⌊t/s⌋. Exponential: λ·r^(t/s). 1/t: λ/(1 + r·t/s), which meets the Robbins–Monro conditions Σλ = ∞, Σλ² < ∞. Cosine: from λ down to the minimum over the run.',
    options: SCHEDULE_OPTIONS,
    default: 'constant',
    optionLabels: { constant: 'Constant', step: 'Step decay', exponential: 'Exponential decay', 'inverse-time': '1/t (Robbins–Monro)', cosine: 'Cosine' },
  }),
  decayRate: num({ label: 'Decay rate r', help: 'Factor (step, exponential) or coefficient (1/t) of the decay.', default: 0.5, min: 0, max: 100, visibleWhen: (p) => decays(p) && p.schedule !== 'cosine' }),
  decaySteps: int({ label: 'Decay steps s', help: 'Number of steps over which the decay rate applies.', default: 1000, min: 1, max: 10_000_000, visibleWhen: (p) => decays(p) && p.schedule !== 'cosine' }),
  minLearningRate: num({ label: 'Minimum λ', help: 'The learning rate the cosine schedule ends at.', default: 0, min: 0, max: 100, visibleWhen: (p) => p.schedule === 'cosine' }),
  clip: oneOf({
    label: 'Gradient clipping',
    help: 'By norm: rescale all gradients together when their global L2 norm exceeds the threshold. By value: clip every component to [−t, t].',
    options: CLIP_OPTIONS,
    default: 'none',
    optionLabels: { none: 'None', norm: 'By global norm', value: 'By value' },
  }),
  clipValue: num({ label: 'Clip threshold t', help: 'Threshold of the clipping.', default: 1, min: 0, max: 1e6, exclusiveMin: true, visibleWhen: (p) => p.clip !== 'none' }),
};

/**
 * Every hyper-parameter an update rule may read, each with its range and default. A kind
 * picks the ones it uses; the trainer's settings (core/train/optimizers.ts) and the
 * compiler's defaults are derived from this table, so a new rule's new constant is added here.
 */
export const OPTIMIZER_HYPER = {
  momentum: num({ label: 'Momentum α', help: 'How slowly past gradients decay; think of 1/(1 − α) steps.', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  rho: num({ label: 'Decay ρ', help: 'Weight of the past in the average of squared gradients.', default: 0.9, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }),
  beta1: num({ label: 'ρ₁', help: 'Decay of the first-moment (mean) estimate.', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  beta2: num({ label: 'ρ₂', help: 'Decay of the second-moment estimate.', default: 0.999, min: 0, max: 1, exclusiveMax: true }),
  // δ = 0 would turn a zero gradient on a fresh accumulator into 0/0 = NaN.
  epsilon: num({ label: 'δ', help: 'Small constant that keeps the division stable.', default: 1e-7, min: 0, max: 1, exclusiveMin: true, log: true }),
};

/** The values of {@link OPTIMIZER_HYPER}: every hyper-parameter an update rule may read. */
export type OptimizerHyperParams = ParamValues<typeof OPTIMIZER_HYPER>;

/**
 * A rule as a kind writes it: its hyper-parameters are typed from the params it adds. `torch`
 * is the same rule in Python for the PyTorch export, written beside `step` from the same formula.
 */
interface Rule<E extends ParamSpecs> {
  slots: readonly string[];
  step(s: OptimizerStep<ParamValues<E>>): VariableUpdate;
  torch?: TorchOptimizerRule;
}

/** An optimizer kind: its id stays a literal type, so the trainer's list of kinds is derived from these exports. */
export type OptimizerKindDef<K extends string> = AnyKindDef & { kind: K; optimizer: OptimizerRule };

function optimizer<K extends string, E extends ParamSpecs>(kind: K, title: string, description: string, extra: E, rule: Rule<E>): OptimizerKindDef<K> {
  const params = { ...common, ...extra };
  const optimizer: OptimizerRule = {
    slots: rule.slots,
    hyper: Object.keys(extra).filter((k) => k in OPTIMIZER_HYPER),
    // The trainer passes the kind's own hyper-parameters, so the erased type is safe here.
    step: rule.step as OptimizerRule['step'],
    ...(rule.torch ? { torch: rule.torch } : {}),
  };
  const def = defineKind({
    kind,
    title,
    category: 'Optimizers',
    role: 'optimizer',
    description,
    inputs: [{ name: 'loss', label: 'loss', type: 'loss', help: 'The loss to minimize' }],
    outputs: [],
    params,
    infer: () => ({ outputs: {} }),
    optimizer,
  });
  return { ...def, kind, optimizer };
}

// The rules below are the lecture's formulas written out literally
// (deep-neural-networks-lecture.txt, "The basics" … "RMSProp + Momentum"), including where δ
// sits, rather than tf.train.*, whose variants differ in small ways (TF.js AdaGrad starts the
// accumulator at 0.1; TF.js RMSProp puts ε inside the square root). g is the gradient of the
// mini-batch loss at the current weights, λ the learning rate of this step (from the
// schedule). The denominators use the accumulator after this step's update (r_{t+1}), as in
// the lecture's algorithm boxes.
//
// Each rule's `torch` is the same rule in Python for the exported train.py, the same ops in
// the same order (each op rounds to float32 as TF.js's does), so the exported training
// follows Gradflow's loss curve step by step (tests/unit/optimizer-python.test.ts compares
// every kind's two forms; tests/unit/export-pytorch.test.ts whole runs).

/** Python statements, one per argument. */
const lines = (...statements: string[]) => statements.join('\n');

export const sgd = optimizer('sgd', 'SGD', 'W ← W − λ g, with g the gradient averaged over the batch. Full-batch gradient descent, single-sample SGD and mini-batch SGD are the Dataset\'s batch size.', {}, {
  slots: [],
  step: ({ tf, lr }) => (w, g) => {
    // W ← W − λ g
    w.assign(tf.sub(w, tf.mul(lr, g)));
  },
  torch: { update: 'w.copy_(w - lr * g)' },
});

export const momentum = optimizer('momentum', 'Momentum', 'SGD with momentum: v ← αv + λg, W ← W − v. Accumulates a decaying average of past gradients and keeps moving along it.', {
  momentum: OPTIMIZER_HYPER.momentum,
}, {
  slots: ['v'],
  step: ({ tf, lr, hyper, constant }) => {
    const alpha = constant(hyper.momentum);
    return (w, g, [v]) => {
      // v ← α v + λ g;  W ← W − v
      const vNew = tf.add(tf.mul(alpha, v!), tf.mul(lr, g));
      v!.assign(vNew);
      w.assign(tf.sub(w, vNew));
    };
  },
  torch: {
    step: 'alpha = constant(h["momentum"])',
    update: lines('v.copy_(alpha * v + lr * g)', 'w.copy_(w - v)'),
  },
});

export const nesterov = optimizer('nesterov', 'Nesterov', 'Nesterov momentum: the gradient is taken at the look-ahead point W − αv, which corrects the step before it overshoots.', {
  momentum: OPTIMIZER_HYPER.momentum,
}, {
  slots: ['v'],
  step: ({ tf, lr, hyper, constant }) => {
    const alpha = constant(hyper.momentum);
    return (w, g, [v]) => {
      // The classic form  v ← α v + λ ∇J(W − α v);  W ← W − v  needs the gradient at a
      // look-ahead point, i.e. a second forward/backward pass. Tracking Θ = W − α v instead
      // of W (Sutskever et al. 2013; Bengio, Boulanger-Lewandowski & Pascanu 2013) gives,
      // with g = ∇J(Θ) evaluated at the weights we actually hold,
      //   v ← α v + λ g;   Θ ← Θ − (α v + λ g)
      // (substitute W = Θ + α v into the classic update). Both start from v = 0, so Θ_0 = W_0
      // and the stored weights are exactly the classic W_t − α v_t at every step; they
      // converge to the same minimum.
      const lg = tf.mul(lr, g);
      const vNew = tf.add(tf.mul(alpha, v!), lg);
      v!.assign(vNew);
      w.assign(tf.sub(w, tf.add(tf.mul(alpha, vNew), lg)));
    };
  },
  torch: {
    step: 'alpha = constant(h["momentum"])',
    update: lines('lg = lr * g', 'v.copy_(alpha * v + lg)', 'w.copy_(w - (alpha * v + lg))'),
  },
});

export const adagrad = optimizer('adagrad', 'AdaGrad', 'Per-parameter learning rates: r ← r + g⊙g, W ← W − λ/(δ + √r) ⊙ g. Large steps for rarely-changed parameters; the rate only ever shrinks.', {
  epsilon: OPTIMIZER_HYPER.epsilon,
}, {
  slots: ['r'],
  step: ({ tf, lr, hyper, constant }) => {
    const delta = constant(hyper.epsilon);
    return (w, g, [r]) => {
      // r ← r + g⊙g;  W ← W − λ/(δ + √r) ⊙ g
      const rNew = tf.add(r!, tf.square(g));
      r!.assign(rNew);
      w.assign(tf.sub(w, tf.div(tf.mul(lr, g), tf.add(delta, tf.sqrt(rNew)))));
    };
  },
  torch: {
    step: 'delta = constant(h["epsilon"])',
    update: lines('r.copy_(r + g * g)', 'w.copy_(w - (lr * g) / (delta + torch.sqrt(r)))'),
  },
});

export const rmsprop = optimizer('rmsprop', 'RMSProp', 'Like AdaGrad with an exponentially weighted average: r ← ρr + (1 − ρ)g⊙g, W ← W − λ/(δ + √r) ⊙ g. Better in non-convex settings.', {
  rho: OPTIMIZER_HYPER.rho,
  epsilon: OPTIMIZER_HYPER.epsilon,
}, {
  slots: ['r'],
  step: ({ tf, lr, hyper, constant }) => {
    const [rho, oneMinusRho, delta] = [constant(hyper.rho), constant(1 - hyper.rho), constant(hyper.epsilon)];
    return (w, g, [r]) => {
      // r ← ρ r + (1−ρ) g⊙g;  W ← W − λ/(δ + √r) ⊙ g
      const rNew = tf.add(tf.mul(rho, r!), tf.mul(oneMinusRho, tf.square(g)));
      r!.assign(rNew);
      w.assign(tf.sub(w, tf.div(tf.mul(lr, g), tf.add(delta, tf.sqrt(rNew)))));
    };
  },
  torch: {
    step: 'rho, one_minus_rho, delta = constant(h["rho"]), constant(1 - h["rho"]), constant(h["epsilon"])',
    update: lines('r.copy_(rho * r + one_minus_rho * (g * g))', 'w.copy_(w - (lr * g) / (delta + torch.sqrt(r)))'),
  },
});

export const adam = optimizer('adam', 'Adam', 'RMSProp with momentum and bias correction: s ← ρ₁s + (1 − ρ₁)g, r ← ρ₂r + (1 − ρ₂)g⊙g, W ← W − λ ŝ/(δ + √r̂).', {
  learningRate: { ...common.learningRate, default: 0.001 },
  beta1: OPTIMIZER_HYPER.beta1,
  beta2: OPTIMIZER_HYPER.beta2,
  epsilon: OPTIMIZER_HYPER.epsilon,
}, {
  slots: ['s', 'r'],
  step: ({ tf, lrValue, t, hyper, constant }) => {
    // The lecture's update λ ŝ/(δ + √r̂) with ŝ = s/(1−ρ1^t) and r̂ = r/(1−ρ2^t) is rewritten
    // (exactly, not approximately) as
    //   [λ √(1−ρ2^t)/(1−ρ1^t)] · s / (δ √(1−ρ2^t) + √r)
    // so that the bias corrections are two host-side numbers per step instead of two extra
    // tensor ops per variable. Note: the slide prints the correction as "(s_t + 1)/(1−ρ1^t)";
    // that is a typesetting slip for s_{t+1}/(1−ρ1^t) — the standard Adam bias correction
    // (Kingma & Ba, 2015), which is what is implemented here, with t counting steps from 1.
    const c1 = 1 - Math.pow(hyper.beta1, t);
    const c2 = Math.sqrt(1 - Math.pow(hyper.beta2, t));
    const adamStep = tf.scalar((lrValue * c2) / c1, 'float32');
    const adamDelta = tf.scalar(hyper.epsilon * c2, 'float32');
    const [beta1, oneMinusBeta1, beta2, oneMinusBeta2] = [constant(hyper.beta1), constant(1 - hyper.beta1), constant(hyper.beta2), constant(1 - hyper.beta2)];
    return (w, g, [sm, r]) => {
      // s ← ρ1 s + (1−ρ1) g;  r ← ρ2 r + (1−ρ2) g⊙g;  W ← W − λ ŝ/(δ + √r̂)
      const sNew = tf.add(tf.mul(beta1, sm!), tf.mul(oneMinusBeta1, g));
      const rNew = tf.add(tf.mul(beta2, r!), tf.mul(oneMinusBeta2, tf.square(g)));
      sm!.assign(sNew);
      r!.assign(rNew);
      w.assign(tf.sub(w, tf.div(tf.mul(adamStep, sNew), tf.add(adamDelta, tf.sqrt(rNew)))));
    };
  },
  torch: {
    // The bias corrections folded into two host-side scalars per step, as above.
    step: lines(
      'c1 = 1 - math.pow(h["beta1"], t)',
      'c2 = math.sqrt(1 - math.pow(h["beta2"], t))',
      'adam_step = f32((lr_value * c2) / c1)',
      'adam_delta = f32(h["epsilon"] * c2)',
      'beta1, one_minus_beta1 = constant(h["beta1"]), constant(1 - h["beta1"])',
      'beta2, one_minus_beta2 = constant(h["beta2"]), constant(1 - h["beta2"])',
    ),
    update: lines(
      's.copy_(beta1 * s + one_minus_beta1 * g)',
      'r.copy_(beta2 * r + one_minus_beta2 * (g * g))',
      'w.copy_(w - (adam_step * s) / (adam_delta + torch.sqrt(r)))',
    ),
  },
});
