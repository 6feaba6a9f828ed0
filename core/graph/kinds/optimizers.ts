/** Optimizers: one node kind per update rule, sharing the learning-rate schedule, clipping and epochs. */
import { int, num, oneOf, type ParamSpecs } from '../params.ts';
import { defineKind, type AnyKindDef } from '../types.ts';

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

const epsilon = num({ label: 'δ', help: 'Small constant that keeps the division stable.', default: 1e-7, min: 0, max: 1, exclusiveMin: true, log: true });

function optimizer(kind: string, title: string, description: string, extra: ParamSpecs): AnyKindDef {
  return defineKind({
    kind,
    title,
    category: 'Optimizers',
    role: 'optimizer',
    description,
    inputs: [{ name: 'loss', label: 'loss', type: 'loss', help: 'The loss to minimize' }],
    outputs: [],
    params: { ...common, ...extra },
    infer: () => ({ outputs: {} }),
  });
}

export const sgd = optimizer('sgd', 'SGD', 'W ← W − λ g, with g the gradient averaged over the batch. Full-batch gradient descent, single-sample SGD and mini-batch SGD are the Dataset\'s batch size.', {});

export const momentum = optimizer('momentum', 'Momentum', 'SGD with momentum: v ← αv + λg, W ← W − v. Accumulates a decaying average of past gradients and keeps moving along it.', {
  momentum: num({ label: 'Momentum α', help: 'How slowly past gradients decay; think of 1/(1 − α) steps.', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
});

export const nesterov = optimizer('nesterov', 'Nesterov', 'Nesterov momentum: the gradient is taken at the look-ahead point W − αv, which corrects the step before it overshoots.', {
  momentum: num({ label: 'Momentum α', help: 'How slowly past gradients decay; think of 1/(1 − α) steps.', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
});

export const adagrad = optimizer('adagrad', 'AdaGrad', 'Per-parameter learning rates: r ← r + g⊙g, W ← W − λ/(δ + √r) ⊙ g. Large steps for rarely-changed parameters; the rate only ever shrinks.', {
  epsilon,
});

export const rmsprop = optimizer('rmsprop', 'RMSProp', 'Like AdaGrad with an exponentially weighted average: r ← ρr + (1 − ρ)g⊙g, W ← W − λ/(δ + √r) ⊙ g. Better in non-convex settings.', {
  rho: num({ label: 'Decay ρ', help: 'Weight of the past in the average of squared gradients.', default: 0.9, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }),
  epsilon,
});

export const adam = optimizer('adam', 'Adam', 'RMSProp with momentum and bias correction: s ← ρ₁s + (1 − ρ₁)g, r ← ρ₂r + (1 − ρ₂)g⊙g, W ← W − λ ŝ/(δ + √r̂).', {
  learningRate: { ...common.learningRate, default: 0.001 },
  beta1: num({ label: 'ρ₁', help: 'Decay of the first-moment (mean) estimate.', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  beta2: num({ label: 'ρ₂', help: 'Decay of the second-moment estimate.', default: 0.999, min: 0, max: 1, exclusiveMax: true }),
  epsilon,
});
