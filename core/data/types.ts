/** What a Dataset node produces, described without generating anything. */

export const DATASET_SOURCES = ['spirals', 'circles', 'xor', 'blobs', 'moons', 'regression', 'mnist'] as const;
export type DatasetSource = (typeof DATASET_SOURCES)[number];

/** Functions f*(x) that the 1-D regression source can sample, on x in [-1, 1]. */
export const REGRESSION_FUNCTIONS = ['sin', 'cubic', 'abs', 'step', 'sinc', 'quadratic'] as const;
export type RegressionFunction = (typeof REGRESSION_FUNCTIONS)[number];

/** How class labels are encoded on the Dataset's `y` port. */
export const TARGET_ENCODINGS = ['onehot', 'binary'] as const;
export type TargetEncoding = (typeof TARGET_ENCODINGS)[number];

/** The Dataset node's parameters (defaults and ranges live in the node catalogue). */
export interface DatasetParams {
  source: DatasetSource;
  /** Number of samples generated (for MNIST: taken from the 10,000 shipped digits). */
  samples: number;
  /** Noise level: std of Gaussian noise added to the inputs (targets for regression). */
  noise: number;
  /** Number of classes, for spirals and blobs (circles, xor, moons have 2; MNIST 10). */
  classes: number;
  /** The function f*(x) for the regression source. */
  fn: RegressionFunction;
  /** Fraction of samples held out for validation, in [0, 0.9]. */
  validationFraction: number;
  /** 0 = full batch (gradient descent), 1 = single-sample SGD, otherwise mini-batch. */
  batchSize: number;
  seed: number;
  targetEncoding: TargetEncoding;
}

export type Task = 'classification' | 'regression';

/** Shapes and task of a dataset, known before anything is generated (for shape inference). */
export interface DatasetInfo {
  task: Task;
  /** Per-sample feature shape, e.g. [2] or [28, 28]. */
  xShape: number[];
  /** Per-sample target shape: [classes] one-hot, [1] binary or regression. */
  yShape: number[];
  /** Number of classes for classification, 0 for regression. */
  classes: number;
}

/** One split of a dataset: rows of features and targets, flattened row-major. */
export interface Split {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

/** A generated or loaded dataset, ready for batching. */
export interface Dataset {
  info: DatasetInfo;
  train: Split;
  val: Split;
}
