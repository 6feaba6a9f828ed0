/**
 * Optimizers, learning-rate schedules and gradient clipping against the lecture's formulas.
 *
 * The reference implementations below are written independently of core/train, in plain
 * float64 JavaScript, straight from the slides (deep-neural-networks-lecture.txt), so a change
 * in the app's update rules shows up here as a numeric mismatch.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipGradients } from '../../core/train/clip.ts';
import {
  OPTIMIZER_KINDS,
  createOptimizer,
  type OptimizerKind,
  type OptimizerSettings,
} from '../../core/train/optimizers.ts';
import { SCHEDULES, learningRateAt, type ScheduleSettings } from '../../core/train/schedule.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const SETTINGS: Omit<OptimizerSettings, 'kind'> = {
  momentum: 0.9,
  rho: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
};
const settings = (kind: OptimizerKind, over: Partial<OptimizerSettings> = {}): OptimizerSettings => ({
  ...SETTINGS,
  kind,
  ...over,
});

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

function expectClose(actual: number[], expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Plain-JS reference: every rule in the lecture is elementwise, so one scalar state per weight.

interface RefState {
  v: number;
  r: number;
  s: number;
}

/** One step of the lecture's rule for one weight; returns the new weight. t counts from 1. */
function refStep(kind: OptimizerKind, o: OptimizerSettings, w: number, g: number, lr: number, st: RefState, t: number): number {
  switch (kind) {
    case 'sgd':
      // W_{t+1} = W_t − λ_t g_t
      return w - lr * g;
    case 'momentum':
      // v_{t+1} = α v_t + λ g_t ; W_{t+1} = W_t − v_{t+1}
      st.v = o.momentum * st.v + lr * g;
      return w - st.v;
    case 'nesterov':
      // Look-ahead reformulation (checked against the classic form separately below).
      st.v = o.momentum * st.v + lr * g;
      return w - (o.momentum * st.v + lr * g);
    case 'adagrad':
      // r_{t+1} = r_t + g⊙g ; W_{t+1} = W_t − λ/(δ + √r) ⊙ g
      st.r = st.r + g * g;
      return w - (lr / (o.epsilon + Math.sqrt(st.r))) * g;
    case 'rmsprop':
      // r_{t+1} = ρ r_t + (1 − ρ) g⊙g ; W_{t+1} = W_t − λ/(δ + √r) ⊙ g
      st.r = o.rho * st.r + (1 - o.rho) * g * g;
      return w - (lr / (o.epsilon + Math.sqrt(st.r))) * g;
    case 'adam': {
      // s, r moving averages; ŝ = s/(1−ρ1^t), r̂ = r/(1−ρ2^t); W −= λ ŝ/(δ + √r̂)
      st.s = o.beta1 * st.s + (1 - o.beta1) * g;
      st.r = o.beta2 * st.r + (1 - o.beta2) * g * g;
      const sHat = st.s / (1 - Math.pow(o.beta1, t));
      const rHat = st.r / (1 - Math.pow(o.beta2, t));
      return w - (lr * sHat) / (o.epsilon + Math.sqrt(rHat));
    }
  }
}

// Two variables, hand-chosen gradients for three steps (signs flip, magnitudes differ by
// orders of magnitude, one component is always 0, one becomes 0 later), and a learning rate
// that changes every step so a stale cached λ would be caught.
const W0 = { a: [0.5, -1.0, 2.0], b: [0.3, -0.7, 1.2, 0.0] };
const GRADS: { a: number[]; b: number[] }[] = [
  { a: [1.0, -2.0, 0.0], b: [0.5, 0.01, -3.0, 0.2] },
  { a: [0.5, 1.5, 0.0], b: [-0.5, 0.02, -2.0, 0.0] },
  { a: [-1.0, 0.25, 0.0], b: [0.1, -0.03, 4.0, 0.0] },
];
const LRS = [0.1, 0.05, 0.2];

/** Weights after each step according to the reference. */
function referenceTrajectory(o: OptimizerSettings): { a: number[]; b: number[] }[] {
  const w = { a: [...W0.a], b: [...W0.b] };
  const st = { a: W0.a.map(() => ({ v: 0, r: 0, s: 0 })), b: W0.b.map(() => ({ v: 0, r: 0, s: 0 })) };
  const out: { a: number[]; b: number[] }[] = [];
  GRADS.forEach((g, k) => {
    for (const key of ['a', 'b'] as const) {
      w[key] = w[key].map((wi, i) => refStep(o.kind, o, wi, g[key][i]!, LRS[k]!, st[key][i]!, k + 1));
    }
    out.push({ a: [...w.a], b: [...w.b] });
  });
  return out;
}

function makeVars(): { a: tf.Variable; b: tf.Variable } {
  return { a: tf.variable(tf.tensor1d(W0.a)), b: tf.variable(tf.tensor2d(W0.b, [2, 2])) };
}

describe('optimizers follow the lecture update rules', () => {
  for (const kind of OPTIMIZER_KINDS) {
    it(`${kind}: weights after each of 3 steps match the hand reference to 1e-6`, () => {
      const o = settings(kind);
      const expected = referenceTrajectory(o);
      const { a, b } = makeVars();
      const opt = createOptimizer(tf, o);
      GRADS.forEach((g, k) => {
        const ga = tf.tensor1d(g.a);
        const gb = tf.tensor2d(g.b, [2, 2]);
        opt.apply([a, b], [ga, gb], LRS[k]!);
        tf.dispose([ga, gb]);
        expect(opt.iterations).toBe(k + 1);
        expectClose(values(a), expected[k]!.a, 1e-6, `${kind} step ${k + 1} a`);
        expectClose(values(b), expected[k]!.b, 1e-6, `${kind} step ${k + 1} b`);
      });
      // The reference really moves the weights (guards against a vacuous comparison).
      expect(expected[2]!.a[0]).not.toBeCloseTo(W0.a[0]!, 3);
      opt.dispose();
      tf.dispose([a, b]);
    });
  }

  it('a few first steps computed by hand', () => {
    // w = 1, g = 2, λ = 0.1 (δ = 1e-7 negligible at this precision).
    const cases: [OptimizerKind, number][] = [
      ['sgd', 0.8], // 1 − 0.1·2
      ['momentum', 0.8], // v = 0.2; 1 − 0.2
      ['nesterov', 0.62], // v = 0.2; 1 − (0.9·0.2 + 0.2)
      ['adagrad', 0.9], // r = 4; 1 − 0.1/2 · 2
      ['rmsprop', 1 - 0.1 / Math.sqrt(0.4) * 2], // r = 0.1·4
      ['adam', 0.9], // ŝ = 2, r̂ = 4; 1 − 0.1·2/2
    ];
    for (const [kind, want] of cases) {
      const w = tf.variable(tf.scalar(1));
      const g = tf.scalar(2);
      const opt = createOptimizer(tf, settings(kind));
      opt.apply([w], [g], 0.1);
      expect(w.dataSync()[0], kind).toBeCloseTo(want, 5);
      opt.dispose();
      tf.dispose([w, g]);
    }
  });

  it('getState exposes the lecture-named state with the reference values', () => {
    const o = settings('adam');
    const { a, b } = makeVars();
    const opt = createOptimizer(tf, o);
    const g = GRADS[0]!;
    const ga = tf.tensor1d(g.a);
    const gb = tf.tensor2d(g.b, [2, 2]);
    opt.apply([a, b], [ga, gb], 0.1);
    const state = opt.getState();
    expect(state.map((x) => x.name)).toEqual([`${a.name}/s`, `${a.name}/r`, `${b.name}/s`, `${b.name}/r`]);
    expect(state[2]!.tensor.shape).toEqual([2, 2]);
    // After one step: s = (1 − ρ1) g, r = (1 − ρ2) g².
    expectClose(values(state[0]!.tensor), g.a.map((x) => 0.1 * x), 1e-7, 's(a)');
    expectClose(values(state[3]!.tensor), g.b.map((x) => 0.001 * x * x), 1e-7, 'r(b)');
    const sgd = createOptimizer(tf, settings('sgd'));
    expect(sgd.getState()).toEqual([]);
    sgd.dispose();
    opt.dispose();
    tf.dispose([a, b, ga, gb]);
  });
});

describe('nesterov', () => {
  // Ill-conditioned quadratic J(W) = ½ Σ c_i W_i², ∇J = c ⊙ W.
  const C = [1, 10];
  const ALPHA = 0.9;
  const LR = 0.05;
  const STEPS = 60;
  const loss = (w: number[]): number => 0.5 * w.reduce((acc, wi, i) => acc + C[i]! * wi * wi, 0);

  /** Run an implementation optimizer on the quadratic, gradient at the stored weights. */
  function runImpl(kind: OptimizerKind): number[][] {
    const w = tf.variable(tf.tensor1d([1, 1]));
    const c = tf.tensor1d(C);
    const opt = createOptimizer(tf, settings(kind, { momentum: ALPHA }));
    const traj: number[][] = [];
    for (let t = 0; t < STEPS; t++) {
      const g = tf.mul(c, w);
      opt.apply([w], [g], LR);
      g.dispose();
      traj.push(values(w));
    }
    opt.dispose();
    tf.dispose([w, c]);
    return traj;
  }

  it('equals the classic form v ← αv + λ∇J(W − αv), W ← W − v after the change of variables Θ = W − αv', () => {
    // Classic Nesterov in float64, gradient evaluated at the look-ahead point.
    let W = [1, 1];
    let v = [0, 0];
    const classicLookAhead: number[][] = [];
    for (let t = 0; t < STEPS; t++) {
      const ahead = W.map((wi, i) => wi - ALPHA * v[i]!);
      v = v.map((vi, i) => ALPHA * vi + LR * C[i]! * ahead[i]!);
      W = W.map((wi, i) => wi - v[i]!);
      classicLookAhead.push(W.map((wi, i) => wi - ALPHA * v[i]!));
    }
    const impl = runImpl('nesterov');
    impl.forEach((w, t) => expectClose(w, classicLookAhead[t]!, 1e-6, `step ${t + 1}`));
  });

  it('converges faster than plain momentum on the quadratic', () => {
    const nest = runImpl('nesterov').map(loss);
    const mom = runImpl('momentum').map(loss);
    // Worst loss over the second half: momentum keeps oscillating, Nesterov damps it.
    const worst = (l: number[]): number => Math.max(...l.slice(STEPS / 2));
    expect(worst(nest)).toBeLessThan(0.1 * worst(mom));
    expect(nest[STEPS - 1]!).toBeLessThan(1e-3 * loss([1, 1]));
  });
});

describe('optimizer behaviour', () => {
  /** |ΔW| per step for a scalar weight with a constant gradient. */
  function stepSizes(kind: OptimizerKind, g: number, lr: number, steps: number, over: Partial<OptimizerSettings> = {}): number[] {
    const w = tf.variable(tf.scalar(0));
    const gt = tf.scalar(g);
    const opt = createOptimizer(tf, settings(kind, over));
    const out: number[] = [];
    let prev = 0;
    for (let t = 0; t < steps; t++) {
      opt.apply([w], [gt], lr);
      const now = w.dataSync()[0]!;
      out.push(Math.abs(now - prev));
      prev = now;
    }
    opt.dispose();
    tf.dispose([w, gt]);
    return out;
  }

  it('adagrad: the effective step shrinks like λ/√t under a constant gradient', () => {
    const steps = stepSizes('adagrad', 3, 0.1, 20);
    for (let t = 1; t < steps.length; t++) expect(steps[t]!).toBeLessThan(steps[t - 1]!);
    expect(steps[0]!).toBeCloseTo(0.1, 5);
    expect(steps[19]!).toBeCloseTo(0.1 / Math.sqrt(20), 5);
  });

  it('rmsprop differs from adagrad: its step does not decay towards 0', () => {
    const ada = stepSizes('adagrad', 3, 0.1, 50);
    const rms = stepSizes('rmsprop', 3, 0.1, 50);
    expect(rms[0]!).not.toBeCloseTo(ada[0]!, 3);
    // r → g², so the step tends to λ; AdaGrad's is down to λ/√50.
    expect(rms[49]!).toBeGreaterThan(0.099);
    expect(ada[49]!).toBeLessThan(0.015);
  });

  it('adam: the first step has magnitude ≈ λ whatever the gradient scale', () => {
    const lr = 0.01;
    const w = tf.variable(tf.zeros([4]));
    const g = tf.tensor1d([1e-3, -1, 1e3, -5e4]);
    const opt = createOptimizer(tf, settings('adam', { epsilon: 1e-8 }));
    opt.apply([w], [g], lr);
    expectClose(values(w), [-lr, lr, -lr, lr], lr * 1e-4, 'first Adam step');
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('reset() clears velocity, accumulators and the step count', () => {
    const w = tf.variable(tf.scalar(1));
    const g = tf.scalar(2);
    const zero = tf.scalar(0);
    const opt = createOptimizer(tf, settings('momentum'));
    for (let t = 0; t < 3; t++) opt.apply([w], [g], 0.1);
    // Without reset, a zero gradient still moves the weight by α v.
    const before = w.dataSync()[0]!;
    opt.apply([w], [zero], 0.1);
    expect(w.dataSync()[0]!).not.toBeCloseTo(before, 3);

    const nState = opt.getState().length;
    const tensorsBefore = tf.memory().numTensors;
    opt.reset();
    expect(opt.iterations).toBe(0);
    expect(opt.getState()).toEqual([]);
    expect(tf.memory().numTensors).toBe(tensorsBefore - nState);
    const after = w.dataSync()[0]!;
    opt.apply([w], [zero], 0.1);
    expect(w.dataSync()[0]!).toBe(after);
    opt.dispose();

    // Adam: after reset the bias correction starts over (first step ≈ λ again).
    const adam = createOptimizer(tf, settings('adam', { epsilon: 1e-8 }));
    const big = tf.scalar(100);
    for (let t = 0; t < 5; t++) adam.apply([w], [big], 0.01);
    adam.apply([w], [g], 0.01); // small gradient after large ones: step ≪ λ
    adam.reset();
    const w0 = w.dataSync()[0]!;
    adam.apply([w], [g], 0.01);
    expect(adam.iterations).toBe(1);
    expect(w0 - w.dataSync()[0]!).toBeCloseTo(0.01, 6);
    adam.dispose();
    tf.dispose([w, g, zero, big]);
  });

  it('rejects mismatched inputs and invalid settings without touching the weights', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([1, 1]);
    const bad = tf.tensor1d([1, 1, 1]);
    const opt = createOptimizer(tf, settings('momentum'));
    expect(() => opt.apply([w], [], 0.1)).toThrow();
    expect(() => opt.apply([w], [bad], 0.1)).toThrow();
    expect(() => opt.apply([w], [g], -1)).toThrow();
    expect(() => opt.apply([w], [g], NaN)).toThrow();
    expect(values(w)).toEqual([1, 2]);
    expect(opt.iterations).toBe(0);
    expect(() => createOptimizer(tf, settings('momentum', { momentum: 1 }))).toThrow(RangeError);
    expect(() => createOptimizer(tf, settings('rmsprop', { rho: 0 }))).toThrow(RangeError);
    expect(() => createOptimizer(tf, settings('adam', { epsilon: 0 }))).toThrow(RangeError);
    // Fields another kind uses are not checked.
    createOptimizer(tf, settings('sgd', { rho: 0, epsilon: 0 })).dispose();
    opt.dispose();
    expect(() => opt.apply([w], [g], 0.1)).toThrow(/dispose/);
    tf.dispose([w, g, bad]);
  });
});

describe('optimizers do not leak tensors', () => {
  for (const kind of OPTIMIZER_KINDS) {
    it(`${kind}: tensor count flat over 100 steps with a changing λ, back to baseline after dispose`, () => {
      const { a, b } = makeVars();
      const ga = tf.tensor1d(GRADS[0]!.a);
      const gb = tf.tensor2d(GRADS[0]!.b, [2, 2]);
      const baseline = tf.memory().numTensors;
      const opt = createOptimizer(tf, settings(kind));
      opt.apply([a, b], [ga, gb], 0.1); // creates the state
      const afterFirst = tf.memory().numTensors;
      for (let t = 1; t <= 100; t++) opt.apply([a, b], [ga, gb], 0.1 / (1 + t));
      expect(tf.memory().numTensors).toBe(afterFirst);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
      tf.dispose([a, b, ga, gb]);
    });
  }

  it('state survives when the optimizer is created and applied inside the caller’s tidy', () => {
    const w = tf.variable(tf.scalar(1));
    const baseline = tf.memory().numTensors;
    // tf.tidy only returns tensors, so open the same kind of scope by hand.
    tf.engine().startScope();
    const opt = createOptimizer(tf, settings('adam'));
    tf.engine().endScope();
    for (let t = 0; t < 3; t++) tf.tidy(() => opt.apply([w], [tf.scalar(2)], 0.1));
    const expected = referenceTrajectoryScalar('adam', 1, 2, 0.1, 3);
    expect(w.dataSync()[0]!).toBeCloseTo(expected, 6);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    w.dispose();
  });
});

function referenceTrajectoryScalar(kind: OptimizerKind, w0: number, g: number, lr: number, steps: number): number {
  const o = settings(kind);
  const st = { v: 0, r: 0, s: 0 };
  let w = w0;
  for (let t = 1; t <= steps; t++) w = refStep(kind, o, w, g, lr, st, t);
  return w;
}

// ---------------------------------------------------------------------------------------------

describe('learning-rate schedules', () => {
  const base: ScheduleSettings = {
    schedule: 'constant',
    learningRate: 0.1,
    decayRate: 0.5,
    decaySteps: 10,
    minLearningRate: 0.001,
    totalSteps: 100,
  };
  const at = (over: Partial<ScheduleSettings>, step: number): number => learningRateAt({ ...base, ...over }, step);

  it('constant', () => {
    for (const s of [0, 1, 1000]) expect(at({ schedule: 'constant' }, s)).toBe(0.1);
  });

  it('step: λ0 · decayRate^⌊step/decaySteps⌋', () => {
    const s = { schedule: 'step' as const };
    expect(at(s, 0)).toBeCloseTo(0.1, 12);
    expect(at(s, 9)).toBeCloseTo(0.1, 12);
    expect(at(s, 10)).toBeCloseTo(0.05, 12);
    expect(at(s, 25)).toBeCloseTo(0.025, 12);
  });

  it('exponential: λ0 · decayRate^(step/decaySteps)', () => {
    const s = { schedule: 'exponential' as const };
    expect(at(s, 0)).toBeCloseTo(0.1, 12);
    expect(at(s, 5)).toBeCloseTo(0.1 * Math.SQRT1_2, 12);
    expect(at(s, 10)).toBeCloseTo(0.05, 12);
    expect(at(s, 30)).toBeCloseTo(0.0125, 12);
  });

  it('inverse-time: λ0 / (1 + decayRate·step/decaySteps)', () => {
    const s = { schedule: 'inverse-time' as const };
    expect(at(s, 0)).toBeCloseTo(0.1, 12);
    expect(at(s, 10)).toBeCloseTo(0.1 / 1.5, 12);
    expect(at(s, 40)).toBeCloseTo(0.1 / 3, 12);
  });

  it('cosine: from λ0 down to min at totalSteps, and stays there', () => {
    const s = { schedule: 'cosine' as const };
    expect(at(s, 0)).toBeCloseTo(0.1, 12);
    expect(at(s, 25)).toBeCloseTo(0.001 + 0.099 * (1 + Math.SQRT1_2) / 2, 12);
    expect(at(s, 50)).toBeCloseTo(0.0505, 12);
    expect(at(s, 100)).toBeCloseTo(0.001, 12);
    expect(at(s, 250)).toBeCloseTo(0.001, 12);
    for (let t = 1; t <= 100; t++) expect(at(s, t)).toBeLessThanOrEqual(at(s, t - 1));
  });

  it('inverse-time satisfies Robbins–Monro numerically (Σλ keeps growing, Σλ² stays bounded); the others do not', () => {
    /** Partial sums Σλ and Σλ² at N = 10³, 10⁴, 10⁵, 10⁶. */
    const partialSums = (over: Partial<ScheduleSettings>): { s1: number[]; s2: number[] } => {
      const s1: number[] = [];
      const s2: number[] = [];
      let a = 0;
      let b = 0;
      let next = 1e3;
      for (let t = 0; t < 1e6; t++) {
        const lr = at(over, t);
        a += lr;
        b += lr * lr;
        if (t + 1 === next) {
          s1.push(a);
          s2.push(b);
          next *= 10;
        }
      }
      return { s1, s2 };
    };
    // λ_t = 0.1/(1 + t/20): Σλ grows by ≈ 0.1·20·ln 10 ≈ 4.6 per decade (harmonic series);
    // Σλ² ≤ 0.01·20²·π²/6 ≈ 6.58 and its per-decade gain shrinks ×10.
    const inv = partialSums({ schedule: 'inverse-time' });
    for (let k = 1; k < 4; k++) expect(inv.s1[k]! - inv.s1[k - 1]!).toBeGreaterThan(4);
    for (const s2 of inv.s2) expect(s2).toBeLessThan(0.01 * 400 * (Math.PI ** 2 / 6) + 0.01);
    expect(inv.s2[3]! - inv.s2[2]!).toBeLessThan(1e-3);

    // Constant: Σλ² diverges. Exponential: Σλ converges (gains vanish).
    const cst = partialSums({ schedule: 'constant' });
    expect(cst.s2[3]! - cst.s2[2]!).toBeGreaterThan(1000);
    const exp = partialSums({ schedule: 'exponential' });
    expect(exp.s1[3]! - exp.s1[0]!).toBeLessThan(1e-12);
  });

  it('rejects bad steps and parameters', () => {
    expect(() => at({ schedule: 'step' }, -1)).toThrow(RangeError);
    expect(() => at({ schedule: 'step' }, 1.5)).toThrow(RangeError);
    expect(() => at({ schedule: 'exponential', decaySteps: 0 }, 3)).toThrow(RangeError);
    expect(() => at({ schedule: 'cosine', totalSteps: 0 }, 3)).toThrow(RangeError);
    expect(SCHEDULES).toEqual(['constant', 'step', 'exponential', 'inverse-time', 'cosine']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('gradient clipping', () => {
  it('norm: scales all gradients by threshold / global L2 norm', () => {
    // Global norm √(3² + 4² + 12²) = 13; threshold 6.5 ⇒ factor ½ for every tensor.
    const g1 = tf.tensor1d([3, 4]);
    const g2 = tf.tensor2d([[12]]);
    const before = tf.memory().numTensors;
    const out = clipGradients(tf, [g1, g2], 'norm', 6.5);
    expect(tf.memory().numTensors).toBe(before + 2); // intermediates freed
    expect(values(out[0]!)).toEqual([1.5, 2]);
    expect(values(out[1]!)).toEqual([6]);
    expect(out[1]!.shape).toEqual([1, 1]);
    expect(values(g1)).toEqual([3, 4]); // inputs untouched
    tf.dispose([...out, g1, g2]);
  });

  it('norm: no-op at or below the threshold', () => {
    const g1 = tf.tensor1d([3, 4]);
    const g2 = tf.tensor2d([[12]]);
    for (const th of [13, 100]) {
      const out = clipGradients(tf, [g1, g2], 'norm', th);
      expect(values(out[0]!)).toEqual([3, 4]);
      expect(values(out[1]!)).toEqual([12]);
      tf.dispose(out);
    }
    tf.dispose([g1, g2]);
  });

  it('value: clips each element to [−t, t]', () => {
    const g1 = tf.tensor1d([-3, 0.5, 2, -0.25]);
    const g2 = tf.tensor1d([0.75]);
    const out = clipGradients(tf, [g1, g2], 'value', 1);
    expect(values(out[0]!)).toEqual([-1, 0.5, 1, -0.25]);
    expect(values(out[1]!)).toEqual([0.75]);
    tf.dispose([...out, g1, g2]);
  });

  it('none returns the gradients unchanged; invalid thresholds are rejected', () => {
    const g = tf.tensor1d([100, -100]);
    const grads = [g];
    expect(clipGradients(tf, grads, 'none', 0)).toBe(grads);
    expect(() => clipGradients(tf, grads, 'norm', 0)).toThrow(RangeError);
    expect(() => clipGradients(tf, grads, 'value', -1)).toThrow(RangeError);
    g.dispose();
  });
});
