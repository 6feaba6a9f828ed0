/**
 * The trainer's optimizers, written out from the course's update rules
 * (deep-neural-networks-lecture.txt, "The basics" … "RMSProp + Momentum").
 *
 * Gradflow is a teaching tool: students compare what the app does with the slides, so each
 * optimizer below implements the lecture's formula literally (including where δ sits) rather
 * than calling `tf.train.*`, whose variants differ in small ways (TF.js AdaGrad starts the
 * accumulator at 0.1; TF.js RMSProp puts ε inside the square root; …).
 *
 * Notation follows the lecture: g = gradient of the mini-batch loss at the current weights,
 * λ = learning rate of this step (from ./schedule.ts), α = momentum, ρ = RMSProp decay,
 * ρ1/ρ2 = Adam's decays (called beta1/beta2 here, as in most libraries), δ = small constant.
 *
 * The tf namespace is passed in (only its *type* is imported) so this module does not pull a
 * TF.js runtime into whatever imports it: the page, the worker and the Node CLI each bring
 * their own backend.
 */
import type * as tfTypes from '@tensorflow/tfjs';

type Tf = typeof tfTypes;
type Tensor = tfTypes.Tensor;
type Variable = tfTypes.Variable;
type Scalar = tfTypes.Scalar;

/** Every optimizer the trainer offers, in the order the lecture introduces them. */
export const OPTIMIZER_KINDS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'] as const;
/** One of {@link OPTIMIZER_KINDS}. */
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/**
 * Hyper-parameters of an optimizer. All fields are always present (the editor keeps one
 * settings object and lets the user switch kinds); each kind reads only the ones it uses.
 * The learning rate is not here: it comes from the schedule, per step, in {@link Optimizer.apply}.
 */
export interface OptimizerSettings {
  kind: OptimizerKind;
  /** α ∈ [0, 1): how fast past gradients decay in momentum / nesterov. */
  momentum: number;
  /** ρ ∈ (0, 1): decay of RMSProp's moving average of g⊙g. */
  rho: number;
  /** ρ1 ∈ [0, 1): Adam's decay of the first moment s. */
  beta1: number;
  /** ρ2 ∈ [0, 1): Adam's decay of the second moment r. */
  beta2: number;
  /** δ > 0: the small constant in the denominators of AdaGrad, RMSProp and Adam. */
  epsilon: number;
}

/** A stateful optimizer: one instance per training run (or call {@link Optimizer.reset}). */
export interface Optimizer {
  /**
   * Apply one update W ← W − Δ to each variable given its gradient, with learning rate `lr`
   * for this step. `grads[i]` is the gradient of `vars[i]` (same shape). The gradients are
   * only read; the caller still owns (and disposes) them. Creates no lasting tensors except
   * the optimizer's own state, which is created on a variable's first update.
   *
   * Per-variable state is keyed by the variable's name, so the order of `vars` may change
   * between calls; a model rebuilt with new variables needs a new optimizer (or `reset()`).
   */
  apply(vars: Variable[], grads: Tensor[], lr: number): void;
  /**
   * The optimizer's state tensors (momentum velocity v, AdaGrad/RMSProp accumulator r,
   * Adam moments s and r), named `<variable name>/<symbol>`, for saving or inspection.
   * They are the live state: owned by the optimizer, valid until the next `apply`, `reset`
   * or `dispose`, and must not be disposed by the caller. SGD has no state.
   */
  getState(): { name: string; tensor: Tensor }[];
  /** Forget all state (velocities, accumulators, Adam's step count) and free it. */
  reset(): void;
  /** Free everything the optimizer holds; it cannot be used afterwards. */
  dispose(): void;
  /** Number of `apply` calls since creation or the last `reset` (Adam's t). */
  readonly iterations: number;
}

/** State slots per kind, named with the lecture's symbols. */
const SLOTS: Record<OptimizerKind, readonly string[]> = {
  sgd: [],
  momentum: ['v'],
  nesterov: ['v'],
  adagrad: ['r'],
  rmsprop: ['r'],
  adam: ['s', 'r'],
};

function checkSettings(s: OptimizerSettings): void {
  if (!(OPTIMIZER_KINDS as readonly string[]).includes(s.kind)) {
    throw new RangeError(`unknown optimizer kind "${String(s.kind)}"`);
  }
  const inRange = (name: string, v: number, lo: number, loIncl: boolean, hi: number): void => {
    const ok = Number.isFinite(v) && (loIncl ? v >= lo : v > lo) && v < hi;
    if (!ok) throw new RangeError(`${s.kind}: ${name} must be in ${loIncl ? '[' : '('}${lo}, ${hi}), got ${v}`);
  };
  // Only the fields a kind uses are checked, so a settings object carried over from another
  // kind (e.g. rho left at 0 while using SGD) is not rejected.
  if (s.kind === 'momentum' || s.kind === 'nesterov') inRange('momentum α', s.momentum, 0, true, 1);
  if (s.kind === 'rmsprop') inRange('rho ρ', s.rho, 0, false, 1);
  if (s.kind === 'adam') {
    inRange('beta1 ρ1', s.beta1, 0, true, 1);
    inRange('beta2 ρ2', s.beta2, 0, true, 1);
  }
  if (s.kind === 'adagrad' || s.kind === 'rmsprop' || s.kind === 'adam') {
    // δ = 0 would turn a zero gradient on a fresh accumulator into 0/0 = NaN.
    inRange('epsilon δ', s.epsilon, 0, false, Infinity);
  }
}

/**
 * Create an optimizer that follows the lecture's update rule for `s.kind`:
 *
 * - `sgd`      W ← W − λ g
 * - `momentum` v ← α v + λ g;  W ← W − v
 * - `nesterov` v ← α v + λ g;  W ← W − (α v + λ g)   (look-ahead form, see below)
 * - `adagrad`  r ← r + g⊙g;  W ← W − λ/(δ + √r) ⊙ g
 * - `rmsprop`  r ← ρ r + (1−ρ) g⊙g;  W ← W − λ/(δ + √r) ⊙ g
 * - `adam`     s ← ρ1 s + (1−ρ1) g;  r ← ρ2 r + (1−ρ2) g⊙g;
 *              ŝ = s/(1−ρ1^t);  r̂ = r/(1−ρ2^t);  W ← W − λ ŝ/(δ + √r̂),  t = 1, 2, …
 *
 * All state starts at zero. The denominators use the accumulator *after* this step's update
 * (r_{t+1}), as in the lecture's algorithm boxes.
 *
 * @param tfns the TF.js namespace (e.g. `import * as tf from '@tensorflow/tfjs'`), with its
 *   backend already chosen.
 */
export function createOptimizer(tfns: Tf, s: OptimizerSettings): Optimizer {
  checkSettings(s);
  const tf = tfns;
  const kind = s.kind;
  const slots = SLOTS[kind];

  // Constant scalars are made once and kept: passing JS numbers to tf ops would create a
  // fresh scalar tensor per op per variable on every step. `keep` protects them if the
  // optimizer happens to be created inside the caller's tidy.
  const consts: Scalar[] = [];
  const constant = (x: number): Scalar => {
    const t = tf.keep(tf.scalar(x, 'float32'));
    consts.push(t);
    return t;
  };
  const alpha = constant(s.momentum);
  const rho = constant(s.rho);
  const oneMinusRho = constant(1 - s.rho);
  const beta1 = constant(s.beta1);
  const oneMinusBeta1 = constant(1 - s.beta1);
  const beta2 = constant(s.beta2);
  const oneMinusBeta2 = constant(1 - s.beta2);
  const delta = constant(s.epsilon);

  // The learning rate usually stays the same for many steps (constant / step schedules), so
  // its scalar is cached and only rebuilt when the value changes.
  let lrValue = NaN;
  let lrScalar: Scalar | null = null;
  const lrTensor = (lr: number): Scalar => {
    if (lrScalar === null || lr !== lrValue) {
      lrScalar?.dispose();
      lrScalar = tf.keep(tf.scalar(lr, 'float32'));
      lrValue = lr;
    }
    return lrScalar;
  };

  /** Per variable name: its state variables, in the order of `slots`. */
  const state = new Map<string, { shape: number[]; slots: Variable[] }>();
  let iterations = 0;
  let disposed = false;

  const stateFor = (v: Variable): Variable[] => {
    let entry = state.get(v.name);
    if (entry === undefined) {
      // Called inside apply's tidy: the zeros are disposed with it, while the variables
      // (which tidy never tracks) keep their own reference to the data.
      entry = {
        shape: v.shape.slice(),
        slots: slots.map(() => tf.variable(tf.zeros(v.shape, 'float32'), false)),
      };
      state.set(v.name, entry);
    }
    return entry.slots;
  };

  const clearState = (): void => {
    for (const entry of state.values()) for (const t of entry.slots) t.dispose();
    state.clear();
  };

  const apply = (vars: Variable[], grads: Tensor[], lr: number): void => {
    if (disposed) throw new Error('optimizer used after dispose()');
    if (vars.length !== grads.length) {
      throw new Error(`apply: ${vars.length} variables but ${grads.length} gradients`);
    }
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`apply: learning rate must be finite and ≥ 0, got ${lr}`);
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i]!;
      const g = grads[i]!;
      if (!sameShape(v.shape, g.shape)) {
        throw new Error(`apply: gradient of "${v.name}" has shape [${g.shape}], variable has [${v.shape}]`);
      }
      // Checked before any update so that a bad call leaves every variable untouched.
      const entry = state.get(v.name);
      if (entry !== undefined && !sameShape(entry.shape, v.shape)) {
        throw new Error(
          `optimizer state for "${v.name}" has shape [${entry.shape}] but the variable has ` +
            `shape [${v.shape}]; call reset() or create a new optimizer for a new model`,
        );
      }
    }
    iterations++;
    const t = iterations;
    const lam = lrTensor(lr);

    tf.tidy(() => {
      // Adam's per-step scalars. The lecture's update λ ŝ/(δ + √r̂) with ŝ = s/(1−ρ1^t) and
      // r̂ = r/(1−ρ2^t) is rewritten (exactly, not approximately) as
      //   [λ √(1−ρ2^t)/(1−ρ1^t)] · s / (δ √(1−ρ2^t) + √r)
      // so that the bias corrections are two host-side numbers per step instead of two extra
      // tensor ops per variable. Note: the slide prints the correction as "(s_t + 1)/(1−ρ1^t)";
      // that is a typesetting slip for s_{t+1}/(1−ρ1^t) — the standard Adam bias correction
      // (Kingma & Ba, 2015), which is what is implemented here, with t counting steps from 1.
      let adamStep: Scalar | null = null;
      let adamDelta: Scalar | null = null;
      if (kind === 'adam') {
        const c1 = 1 - Math.pow(s.beta1, t);
        const c2 = Math.sqrt(1 - Math.pow(s.beta2, t));
        adamStep = tf.scalar((lr * c2) / c1, 'float32');
        adamDelta = tf.scalar(s.epsilon * c2, 'float32');
      }

      for (let i = 0; i < vars.length; i++) {
        const w = vars[i]!;
        const g = grads[i]!;
        switch (kind) {
          case 'sgd': {
            // W ← W − λ g
            w.assign(tf.sub(w, tf.mul(lam, g)));
            break;
          }
          case 'momentum': {
            // v ← α v + λ g;  W ← W − v
            const [v] = stateFor(w) as [Variable];
            const vNew = tf.add(tf.mul(alpha, v), tf.mul(lam, g));
            v.assign(vNew);
            w.assign(tf.sub(w, vNew));
            break;
          }
          case 'nesterov': {
            // The classic form  v ← α v + λ ∇J(W − α v);  W ← W − v  needs the gradient at a
            // look-ahead point, i.e. a second forward/backward pass. Tracking Θ = W − α v
            // instead of W (Sutskever et al. 2013; Bengio, Boulanger-Lewandowski & Pascanu
            // 2013) gives, with g = ∇J(Θ) evaluated at the weights we actually hold,
            //   v ← α v + λ g;   Θ ← Θ − (α v + λ g)
            // (substitute W = Θ + α v into the classic update). Both start from v = 0, so
            // Θ_0 = W_0 and the stored weights are exactly the classic W_t − α v_t at every
            // step; they converge to the same minimum.
            const [v] = stateFor(w) as [Variable];
            const lg = tf.mul(lam, g);
            const vNew = tf.add(tf.mul(alpha, v), lg);
            v.assign(vNew);
            w.assign(tf.sub(w, tf.add(tf.mul(alpha, vNew), lg)));
            break;
          }
          case 'adagrad': {
            // r ← r + g⊙g;  W ← W − λ/(δ + √r) ⊙ g
            const [r] = stateFor(w) as [Variable];
            const rNew = tf.add(r, tf.square(g));
            r.assign(rNew);
            w.assign(tf.sub(w, tf.div(tf.mul(lam, g), tf.add(delta, tf.sqrt(rNew)))));
            break;
          }
          case 'rmsprop': {
            // r ← ρ r + (1−ρ) g⊙g;  W ← W − λ/(δ + √r) ⊙ g
            const [r] = stateFor(w) as [Variable];
            const rNew = tf.add(tf.mul(rho, r), tf.mul(oneMinusRho, tf.square(g)));
            r.assign(rNew);
            w.assign(tf.sub(w, tf.div(tf.mul(lam, g), tf.add(delta, tf.sqrt(rNew)))));
            break;
          }
          case 'adam': {
            // s ← ρ1 s + (1−ρ1) g;  r ← ρ2 r + (1−ρ2) g⊙g;  W ← W − λ ŝ/(δ + √r̂)
            const [sm, r] = stateFor(w) as [Variable, Variable];
            const sNew = tf.add(tf.mul(beta1, sm), tf.mul(oneMinusBeta1, g));
            const rNew = tf.add(tf.mul(beta2, r), tf.mul(oneMinusBeta2, tf.square(g)));
            sm.assign(sNew);
            r.assign(rNew);
            w.assign(tf.sub(w, tf.div(tf.mul(adamStep!, sNew), tf.add(adamDelta!, tf.sqrt(rNew)))));
            break;
          }
        }
      }
    });
  };

  return {
    apply,
    getState() {
      const out: { name: string; tensor: Tensor }[] = [];
      for (const [varName, entry] of state) {
        entry.slots.forEach((tensor, k) => out.push({ name: `${varName}/${slots[k]!}`, tensor }));
      }
      return out;
    },
    reset() {
      clearState();
      iterations = 0;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      clearState();
      for (const c of consts) c.dispose();
      consts.length = 0;
      lrScalar?.dispose();
      lrScalar = null;
    },
    get iterations() {
      return iterations;
    },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
