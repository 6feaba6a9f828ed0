/**
 * Learning-rate schedules λ_t. The lecture writes every update with a step-dependent λ_t and
 * states the Robbins–Monro conditions (Σ λ_t = ∞, Σ λ_t² < ∞) that make SGD converge; the
 * schedules here are the usual ways to pick λ_t. Pure functions of the step number, no TF.js,
 * so the UI can plot a schedule before training starts.
 */

/** Every schedule the trainer offers. */
export const SCHEDULES = ['constant', 'step', 'exponential', 'inverse-time', 'cosine'] as const;
/** One of {@link SCHEDULES}. */
export type Schedule = (typeof SCHEDULES)[number];

/**
 * Parameters of a schedule. All fields are always present; each schedule reads only the ones
 * it uses (see {@link learningRateAt}).
 */
export interface ScheduleSettings {
  schedule: Schedule;
  /** λ0: the learning rate at step 0. */
  learningRate: number;
  /** Decay factor (step, exponential) or decay coefficient (inverse-time). */
  decayRate: number;
  /** Steps over which one `decayRate` applies (step, exponential, inverse-time). */
  decaySteps: number;
  /** The floor the cosine schedule ends at. */
  minLearningRate: number;
  /** Length of the cosine schedule, in steps; after it the rate stays at `minLearningRate`. */
  totalSteps: number;
}

/**
 * The learning rate λ_t for optimizer step `step` (0 for the first update):
 *
 * - `constant`      λ0
 * - `step`          λ0 · decayRate^⌊step/decaySteps⌋
 * - `exponential`   λ0 · decayRate^(step/decaySteps)
 * - `inverse-time`  λ0 / (1 + decayRate · step/decaySteps) — the 1/t schedule; unlike the
 *                   others it satisfies the Robbins–Monro conditions (Σλ = ∞, Σλ² < ∞)
 * - `cosine`        min + (λ0 − min) · (1 + cos(π · min(step, total)/total)) / 2
 *
 * @throws RangeError for a negative or non-integer step, or when the schedule needs
 *   `decaySteps` / `totalSteps` and it is not positive (the formulas would divide by zero).
 */
export function learningRateAt(s: ScheduleSettings, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be an integer ≥ 0, got ${step}`);
  const lr0 = s.learningRate;
  const needsDecaySteps = s.schedule === 'step' || s.schedule === 'exponential' || s.schedule === 'inverse-time';
  if (needsDecaySteps && !(s.decaySteps > 0)) {
    throw new RangeError(`${s.schedule} schedule: decaySteps must be > 0, got ${s.decaySteps}`);
  }
  switch (s.schedule) {
    case 'constant':
      return lr0;
    case 'step':
      return lr0 * Math.pow(s.decayRate, Math.floor(step / s.decaySteps));
    case 'exponential':
      return lr0 * Math.pow(s.decayRate, step / s.decaySteps);
    case 'inverse-time':
      return lr0 / (1 + (s.decayRate * step) / s.decaySteps);
    case 'cosine': {
      if (!(s.totalSteps > 0)) throw new RangeError(`cosine schedule: totalSteps must be > 0, got ${s.totalSteps}`);
      // Clamped so that training past totalSteps stays at the floor instead of rising again.
      const progress = Math.min(step, s.totalSteps) / s.totalSteps;
      return s.minLearningRate + ((lr0 - s.minLearningRate) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    default: {
      const never: never = s.schedule;
      throw new RangeError(`unknown schedule "${String(never)}"`);
    }
  }
}
