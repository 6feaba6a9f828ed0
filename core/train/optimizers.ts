/**
 * Runs the optimizer kinds' update rules (core/graph/kinds/optimizers.ts, written from the
 * course's formulas): per-variable state, the step count, the learning-rate scalar, argument
 * checks and disposal. The rules themselves, their state slots and their hyper-parameters
 * are defined once, in the kinds.
 *
 * The tf namespace is passed in (only its *type* is imported) so this module does not pull a
 * TF.js runtime into whatever imports it: the page, the worker and the Node CLI each bring
 * their own backend.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { catalogue, kindDef } from '../graph/catalogue.ts';
import * as optimizerKinds from '../graph/kinds/optimizers.ts';
import { OPTIMIZER_HYPER, type OptimizerHyperParams, type OptimizerKindDef } from '../graph/kinds/optimizers.ts';
import { checkParam } from '../graph/params.ts';
import type { OptimizerRule } from '../graph/types.ts';

type Tf = typeof tfTypes;
type Tensor = tfTypes.Tensor;
type Variable = tfTypes.Variable;
type Scalar = tfTypes.Scalar;

/** The id of an optimizer kind: the union of the kinds defined in core/graph/kinds/optimizers.ts. */
export type OptimizerKind = {
  [K in keyof typeof optimizerKinds]: (typeof optimizerKinds)[K] extends OptimizerKindDef<infer I> ? I : never;
}[keyof typeof optimizerKinds];

/** Every optimizer kind in the catalogue, in the order the lecture introduces them. */
export const OPTIMIZER_KINDS = catalogue.filter((d) => d.optimizer).map((d) => d.kind) as readonly OptimizerKind[];

/** Whether `kind` names an optimizer kind. */
export function isOptimizerKind(kind: string): kind is OptimizerKind {
  return (OPTIMIZER_KINDS as readonly string[]).includes(kind);
}

/**
 * Hyper-parameters of an optimizer. All fields are always present (the editor keeps one
 * settings object and lets the user switch kinds); each kind reads only the ones it uses.
 * The learning rate is not here: it comes from the schedule, per step, in {@link Optimizer.apply}.
 */
export type OptimizerSettings = { kind: OptimizerKind } & OptimizerHyperParams;

/**
 * Settings for an optimizer node from its kind and params, with the table's defaults for
 * the hyper-parameters its kind does not have.
 * @throws RangeError when `kind` is not an optimizer kind.
 */
export function optimizerSettings(kind: string, params: Readonly<Record<string, unknown>>): OptimizerSettings {
  if (!isOptimizerKind(kind)) throw new RangeError(`unknown optimizer kind "${kind}"`);
  const hyper = {} as Record<string, number>;
  for (const [name, spec] of Object.entries(OPTIMIZER_HYPER)) {
    const v = params[name];
    hyper[name] = typeof v === 'number' ? v : spec.default;
  }
  return { kind, ...(hyper as OptimizerHyperParams) };
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

function ruleOf(s: OptimizerSettings): OptimizerRule {
  const rule = kindDef(s.kind)?.optimizer;
  if (!rule) throw new RangeError(`unknown optimizer kind "${String(s.kind)}"`);
  // Only the fields a kind uses are checked, so a settings object carried over from another
  // kind (e.g. rho left at 0 while using SGD) is not rejected.
  for (const name of rule.hyper) {
    const spec = OPTIMIZER_HYPER[name as keyof OptimizerHyperParams];
    const problem = checkParam(spec, s[name as keyof OptimizerHyperParams]);
    if (problem) throw new RangeError(`${s.kind}: ${name} (${spec.label}): ${problem}`);
  }
  return rule;
}

/**
 * Create an optimizer that follows the update rule of the kind `s.kind` (see
 * core/graph/kinds/optimizers.ts for each rule and its formula). All state starts at zero.
 *
 * @param tfns the TF.js namespace (e.g. `import * as tf from '@tensorflow/tfjs'`), with its
 *   backend already chosen.
 * @throws RangeError for an unknown kind or a hyper-parameter the kind uses that is out of range.
 */
export function createOptimizer(tfns: Tf, s: OptimizerSettings): Optimizer {
  const rule = ruleOf(s);
  const tf = tfns;
  const slots = rule.slots;
  const hyper: Record<string, number> = {};
  for (const name of rule.hyper) hyper[name] = s[name as keyof OptimizerHyperParams];

  // Constant scalars are made once and kept: passing JS numbers to tf ops would create a
  // fresh scalar tensor per op per variable on every step. `keep` protects them from the
  // tidy they are first made in (apply's, or the caller's).
  const consts = new Map<number, Scalar>();
  const constant = (x: number): Scalar => {
    let c = consts.get(x);
    if (c === undefined) {
      c = tf.keep(tf.scalar(x, 'float32'));
      consts.set(x, c);
    }
    return c;
  };

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
      const update = rule.step({ tf, hyper, lr: lam, lrValue: lr, t, constant });
      for (let i = 0; i < vars.length; i++) update(vars[i]!, grads[i]!, stateFor(vars[i]!));
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
      for (const c of consts.values()) c.dispose();
      consts.clear();
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
