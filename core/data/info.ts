/**
 * Dataset shapes and parameter checks, computed from the parameters alone.
 *
 * Shape inference runs on every edit of the graph, so nothing here may generate or load data.
 */
import type { DatasetInfo, DatasetParams, DatasetSource } from './types.ts';

/** Number of digits shipped by the `mnist` package, and so the most MNIST samples available. */
export const MNIST_AVAILABLE = 10_000;

/** Per-sample MNIST image shape (rows, columns). */
export const MNIST_SHAPE: readonly [number, number] = [28, 28];

/** Human-readable source names, for messages and the UI. */
export const DATASET_SOURCE_LABELS: Record<DatasetSource, string> = {
  spirals: 'spirals',
  circles: 'circles',
  xor: 'XOR',
  blobs: 'blobs',
  moons: 'moons',
  regression: 'regression',
  mnist: 'MNIST',
};

/**
 * Number of classes a source produces: `p.classes` for the sources where it is a parameter,
 * a fixed count for the others, 0 for regression.
 */
export function datasetClasses(p: Pick<DatasetParams, 'source' | 'classes'>): number {
  switch (p.source) {
    case 'spirals':
    case 'blobs':
      // Not clamped: the node catalogue validates the range and reports out-of-range values.
      return p.classes;
    case 'circles':
    case 'xor':
    case 'moons':
      return 2;
    case 'mnist':
      return 10;
    case 'regression':
      return 0;
  }
}

/** Shapes and task of the dataset `p` describes. Pure and cheap: generates nothing. */
export function datasetInfo(p: DatasetParams): DatasetInfo {
  if (p.source === 'regression') {
    return { task: 'regression', xShape: [1], yShape: [1], classes: 0 };
  }
  const classes = datasetClasses(p);
  const xShape = p.source === 'mnist' ? [...MNIST_SHAPE] : [2];
  // Binary with more than 2 classes is still [1]: datasetProblems reports that combination.
  const yShape = p.targetEncoding === 'binary' ? [1] : [classes];
  return { task: 'classification', xShape, yShape, classes };
}

/**
 * Number of rows held out for validation: round(n * fraction), but at least one whenever the
 * fraction is positive (so that asking for validation always gets some), and never more than n.
 */
export function validationCount(n: number, fraction: number): number {
  if (!(fraction > 0) || n <= 0) return 0;
  return Math.min(n, Math.max(1, Math.round(n * fraction)));
}

/**
 * Problems with the combination of parameters, as sentences for the user; empty when the
 * parameters can be built. Single-parameter ranges (samples, classes, noise, fraction bounds)
 * are the node catalogue's job and are not repeated here.
 */
export function datasetProblems(p: DatasetParams): string[] {
  const problems: string[] = [];
  const name = DATASET_SOURCE_LABELS[p.source];
  const classes = datasetClasses(p);

  if (p.source !== 'regression' && p.targetEncoding === 'binary' && classes !== 2) {
    problems.push(
      `binary target encoding needs 2 classes, but ${name} has ${classes}: choose one-hot`,
    );
  }
  if (p.source === 'mnist' && p.samples > MNIST_AVAILABLE) {
    problems.push(
      `MNIST ships ${MNIST_AVAILABLE.toLocaleString('en-US')} digits: ` +
        `samples must be at most ${MNIST_AVAILABLE}`,
    );
  }
  const nVal = validationCount(p.samples, p.validationFraction);
  if (p.samples >= 1 && nVal >= p.samples) {
    problems.push(
      `the validation split takes all ${p.samples} samples, leaving none to train on: ` +
        `use more samples or a smaller validation fraction`,
    );
  }
  return problems;
}
