/**
 * Early stopping: watch a loss at each epoch's end, remember the best epoch (and, when
 * asked, copies of its weights), and say when `patience` epochs have passed without an
 * improvement of at least `minDelta`.
 */
import type { Tensor } from '../graph/types.ts';

/** The Early stopping node's settings, as the plan carries them. */
export interface EarlyStoppingSettings {
  /** Epochs without an improvement before training stops. */
  patience: number;
  /** The smallest decrease of the monitored loss that counts as an improvement. */
  minDelta: number;
  /** Put back the best epoch's weights when stopping. */
  restoreBest: boolean;
}

export class EarlyStopper {
  private best: { loss: number; weights: Tensor[] } | null = null;
  private sinceBest = 0;

  constructor(private readonly settings: EarlyStoppingSettings) {}

  /**
   * Record the epoch's monitored loss. `copyWeights` is called (only when the epoch is the
   * best so far and restoreBest is on) to keep its weights. Returns the best weights to
   * restore (empty when restoreBest is off) once training should stop, else null.
   */
  update(monitored: number, copyWeights: () => Tensor[]): Tensor[] | null {
    const es = this.settings;
    if (!this.best || monitored < this.best.loss - es.minDelta) {
      this.best?.weights.forEach((t) => t.dispose());
      this.best = { loss: monitored, weights: es.restoreBest ? copyWeights() : [] };
      this.sinceBest = 0;
      return null;
    }
    this.sinceBest++;
    if (this.sinceBest < es.patience) return null;
    return this.best.weights;
  }

  /** Dispose the kept best weights. */
  dispose(): void {
    this.best?.weights.forEach((t) => t.dispose());
    this.best = null;
  }
}
