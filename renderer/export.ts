/** Export: the runs' curves as CSV. */
import type { RunRecord } from '../core/graph/document.ts';

const cell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per run and epoch, with the run's settings repeated so that rows can be filtered. */
export function runsToCsv(runs: RunRecord[]): string {
  const rows = [['run', 'started', 'status', 'backend', 'seed', 'optimizer', 'learning_rate', 'batch_size', 'epoch', 'train_loss', 'val_loss', 'train_accuracy', 'val_accuracy', 'epoch_learning_rate', 'seconds']];
  runs.forEach((r, i) => {
    for (const e of r.epochs) {
      rows.push([i + 1, r.startedAt, r.status, r.backend, r.seed, r.settings.optimizer, r.settings.learningRate, r.settings.batchSize, e.epoch, e.trainLoss, e.valLoss, e.trainAccuracy, e.valAccuracy, e.learningRate, e.seconds].map(cell));
    }
  });
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}
