/** Export: the runs' curves as CSV. */
import { toCsv } from '../core/data/table.ts';
import type { RunRecord } from '../core/graph/document.ts';

/** One row per run and epoch, with the run's settings repeated so that rows can be filtered. */
export function runsToCsv(runs: RunRecord[]): string {
  const header = ['run', 'started', 'status', 'backend', 'seed', 'optimizer', 'learning_rate', 'batch_size', 'epoch', 'train_loss', 'val_loss', 'train_accuracy', 'val_accuracy', 'epoch_learning_rate', 'seconds'];
  const rows: unknown[][] = [];
  runs.forEach((r, i) => {
    for (const e of r.epochs) {
      rows.push([i + 1, r.startedAt, r.status, r.backend, r.seed, r.settings.optimizer, r.settings.learningRate, r.settings.batchSize, e.epoch, e.trainLoss, e.valLoss, e.trainAccuracy, e.valAccuracy, e.learningRate, e.seconds]);
    }
  });
  return `${toCsv(header, rows)}\n`;
}
