/**
 * Seeded generators for the small synthetic datasets (2-D classification and 1-D regression).
 *
 * All inputs are roughly centred and within [-1, 1] (before noise), so that default
 * initialisations and learning rates work without any normalisation step.
 * Classes are balanced: sample i gets class i mod k, so counts differ by at most one;
 * the dataset builder shuffles rows afterwards, so this ordering never reaches training.
 */
import type { Rng } from './rng.ts';
import type { DatasetParams, RegressionFunction, TargetEncoding } from './types.ts';

/** Rows of generated samples, flattened row-major. */
export interface Generated {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

/** Options shared by the classification generators. */
export interface ClassificationOptions {
  samples: number;
  /** Std of Gaussian jitter added to each input coordinate. */
  noise: number;
  encoding: TargetEncoding;
}

/** Options for generators whose number of classes is a parameter (spirals, blobs). */
export interface MultiClassOptions extends ClassificationOptions {
  classes: number;
}

/** Options for the 1-D regression generator. */
export interface RegressionOptions {
  samples: number;
  /** Std of Gaussian noise added to the target. */
  noise: number;
  fn: RegressionFunction;
}

/** Formulas of the regression functions, for display. */
export const REGRESSION_FORMULAS: Record<RegressionFunction, string> = {
  sin: 'sin(πx)',
  cubic: '4x³ − 3x',
  abs: '|x|',
  step: 'sign(x)',
  sinc: 'sin(4πx) / (4πx)',
  quadratic: 'x²',
};

/**
 * The noiseless target f*(x) of a regression function. Every function maps [-1, 1] into
 * [-1, 1], so a plain linear output layer needs no rescaling.
 */
export function regressionTarget(fn: RegressionFunction, x: number): number {
  switch (fn) {
    case 'sin':
      return Math.sin(Math.PI * x);
    case 'cubic':
      // Chebyshev T3: a cubic with two turning points inside [-1, 1] (x³ alone is nearly linear).
      return 4 * x * x * x - 3 * x;
    case 'abs':
      return Math.abs(x);
    case 'step':
      return x < 0 ? -1 : 1;
    case 'sinc': {
      // Four lobes each side of 0 on [-1, 1]; the limit at 0 is 1.
      const u = 4 * Math.PI * x;
      return u === 0 ? 1 : Math.sin(u) / u;
    }
    case 'quadratic':
      return x * x;
  }
}

/** Balanced integer labels: row i gets class i mod `classes`. */
export function balancedLabels(n: number, classes: number): Uint8Array {
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes;
  return labels;
}

/**
 * Encodes integer labels as targets: one-hot rows of width `classes`, or a single 0/1 column
 * for binary (which requires 2 classes, since any other label has no 0/1 encoding).
 */
export function encodeLabels(
  labels: ArrayLike<number>,
  classes: number,
  encoding: TargetEncoding,
): Float32Array {
  const n = labels.length;
  if (encoding === 'binary') {
    if (classes !== 2) {
      throw new Error(`binary target encoding needs 2 classes, got ${classes}: choose one-hot`);
    }
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = labels[i]!;
    return y;
  }
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < classes)) {
      throw new Error(`label ${label} at row ${i} is outside 0..${classes - 1}`);
    }
    y[i * classes + label] = 1;
  }
  return y;
}

/** Builds 2-D points from a per-sample callback that writes (x1, x2) for class `label`. */
function points2d(
  o: ClassificationOptions,
  classes: number,
  rng: Rng,
  place: (label: number, rng: Rng) => [number, number],
): Generated {
  const n = o.samples;
  const labels = balancedLabels(n, classes);
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const [a, b] = place(labels[i]!, rng);
    // Jitter after placement: labels stay those of the clean point, as in the TF Playground.
    x[2 * i] = a + o.noise * rng.normal();
    x[2 * i + 1] = b + o.noise * rng.normal();
  }
  return { x, y: encodeLabels(labels, classes, o.encoding), n };
}

/** Turns each spiral arm makes from the centre to radius 1 (as in the TF Playground). */
const SPIRAL_TURNS = 1.75;

/**
 * `classes` interleaved spiral arms reaching radius 1; arm c is rotated by 2πc/k.
 * Neighbouring arms are 1/(1.75 k) apart radially, so high class counts need little noise.
 */
export function generateSpirals(o: MultiClassOptions, rng: Rng): Generated {
  const k = o.classes;
  return points2d(o, k, rng, (c, r) => {
    // sqrt spreads points about evenly along the arm (arc length grows ~ r²); a uniform radius
    // would crowd the centre, where all arms meet and no class can be told apart.
    const radius = Math.sqrt(r.next());
    const t = 2 * Math.PI * (SPIRAL_TURNS * radius + c / k);
    return [radius * Math.sin(t), radius * Math.cos(t)];
  });
}

/**
 * Class 0: a disc of radius 0.5; class 1: a ring between radii 0.7 and 1. Both uniform by
 * area (sqrt of a uniform radius), so the disc is not crowded at its centre.
 */
export function generateCircles(o: ClassificationOptions, rng: Rng): Generated {
  return points2d(o, 2, rng, (c, r) => {
    const radius = c === 0 ? 0.5 * Math.sqrt(r.next()) : Math.sqrt(r.uniform(0.49, 1));
    const t = r.uniform(0, 2 * Math.PI);
    return [radius * Math.cos(t), radius * Math.sin(t)];
  });
}

/** Gap kept clear on each side of the XOR axes, so that noise-free data is separable. */
export const XOR_MARGIN = 0.05;

/**
 * Uniform in [-1, 1]² minus a thin band around the axes; class 1 where x1·x2 > 0
 * (quadrants I and III), class 0 elsewhere. The quadrant is drawn per class to keep balance.
 */
export function generateXor(o: ClassificationOptions, rng: Rng): Generated {
  return points2d(o, 2, rng, (c, r) => {
    const a = r.uniform(XOR_MARGIN, 1);
    const b = r.uniform(XOR_MARGIN, 1);
    const s1 = r.next() < 0.5 ? -1 : 1;
    const s2 = c === 1 ? s1 : -s1;
    return [s1 * a, s2 * b];
  });
}

/** Radius of the circle the blob centres sit on, and the blobs' own spread. */
const BLOB_RADIUS = 0.6;
const BLOB_SPREAD = 0.1;

/**
 * `classes` Gaussian blobs with centres evenly spaced on a circle of radius 0.6. Each blob has
 * an intrinsic std of 0.1 so that noise 0 still gives clouds rather than single points; the
 * noise parameter adds jitter on top.
 */
export function generateBlobs(o: MultiClassOptions, rng: Rng): Generated {
  const k = o.classes;
  return points2d(o, k, rng, (c, r) => {
    const t = (2 * Math.PI * c) / k;
    return [
      BLOB_RADIUS * Math.cos(t) + BLOB_SPREAD * r.normal(),
      BLOB_RADIUS * Math.sin(t) + BLOB_SPREAD * r.normal(),
    ];
  });
}

/**
 * Two interleaving half moons (as scikit-learn's make_moons), centred and scaled by 1/1.5 so
 * that x1 spans [-1, 1] and x2 spans [-0.5, 0.5]. Class 0 is the upper moon.
 */
export function generateMoons(o: ClassificationOptions, rng: Rng): Generated {
  return points2d(o, 2, rng, (c, r) => {
    const t = r.uniform(0, Math.PI);
    // make_moons spans x in [-1, 2], y in [-0.5, 1]: shift by its centre (0.5, 0.25).
    const [a, b] = c === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    return [(a - 0.5) / 1.5, (b - 0.25) / 1.5];
  });
}

/** x uniform in [-1, 1], y = f*(x) + noise · N(0, 1). */
export function generateRegression(o: RegressionOptions, rng: Rng): Generated {
  const n = o.samples;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = rng.uniform(-1, 1);
    x[i] = xi;
    y[i] = regressionTarget(o.fn, xi) + o.noise * rng.normal();
  }
  return { x, y, n };
}

/**
 * Generates the synthetic source named by `p.source` with `rng`. Throws for MNIST, which is
 * loaded rather than generated.
 */
export function generateSynthetic(p: DatasetParams, rng: Rng): Generated {
  const o: MultiClassOptions = {
    samples: p.samples,
    noise: p.noise,
    classes: p.classes,
    encoding: p.targetEncoding,
  };
  switch (p.source) {
    case 'spirals':
      return generateSpirals(o, rng);
    case 'circles':
      return generateCircles(o, rng);
    case 'xor':
      return generateXor(o, rng);
    case 'blobs':
      return generateBlobs(o, rng);
    case 'moons':
      return generateMoons(o, rng);
    case 'regression':
      return generateRegression({ samples: p.samples, noise: p.noise, fn: p.fn }, rng);
    case 'mnist':
      throw new Error('MNIST is loaded, not generated: use buildDataset with the MNIST digits');
  }
}
