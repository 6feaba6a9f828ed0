/**
 * A run's bookkeeping: the losses read back step by step, the epoch records, and the run
 * record they make with the run's settings, as the document's `runs` block stores it.
 */
import type { Plan } from '../compile/plan.ts';
import type { EpochRecord, JsonValue, RunRecord } from '../graph/document.ts';

/** What the run record says besides the losses: how the run was set up and how far it got. */
export interface RunFacts {
  plan: Plan;
  backend: string;
  seed: number;
  epochs: number;
  /** The base learning rate λ0 at the end (it may have been changed while training). */
  learningRate: number;
  /** Optimizer steps taken. */
  steps: number;
  /** The step of the saved weights this run continued from, if any. */
  resumedFromStep: number | null;
  /** The fault's message, for a failed run. */
  message?: string;
}

export class RunLog {
  readonly startedAt = new Date().toISOString();
  /** Loss of the latest step read back (NaN before the first). */
  lastLoss = NaN;
  private readonly epochs: EpochRecord[] = [];
  private readonly stepLoss: number[] = [];
  private epochLossSum = 0;
  private epochLossCount = 0;

  /** Record the (finite) loss of the next step. */
  addStepLoss(v: number): void {
    this.stepLoss.push(v);
    this.epochLossSum += v;
    this.epochLossCount++;
    this.lastLoss = v;
  }

  /** The mean step loss since the last call (NaN when there was none), starting the next epoch's sum. */
  takeEpochLoss(): number {
    const mean = this.epochLossCount ? this.epochLossSum / this.epochLossCount : NaN;
    this.epochLossSum = 0;
    this.epochLossCount = 0;
    return mean;
  }

  addEpoch(record: EpochRecord): void {
    this.epochs.push(record);
  }

  /** The run record for the document, with `status` and the run's settings. */
  record(status: RunRecord['status'], f: RunFacts): RunRecord {
    const t = f.plan.training;
    const settings: Record<string, JsonValue> = {
      optimizer: t.optimizer.kind,
      learningRate: f.learningRate,
      schedule: t.schedule.schedule,
      batchSize: t.batchSize,
      epochs: f.epochs,
      clip: t.clip.mode,
      penalties: t.penalties.map((p) => `${p.kind}(${Object.values(p.params).join(', ')})`),
      earlyStopping: t.earlyStopping ? t.earlyStopping.patience : null,
      dataset: f.plan.dataset.params.source,
      samples: f.plan.dataset.params.samples,
      steps: f.steps,
      resumedFromStep: f.resumedFromStep,
    };
    return {
      id: `run-${this.startedAt}`,
      startedAt: this.startedAt,
      status,
      backend: f.backend,
      seed: f.seed,
      settings,
      epochs: [...this.epochs],
      stepLoss: [...this.stepLoss],
      ...(f.message !== undefined ? { message: f.message } : {}),
    };
  }
}
