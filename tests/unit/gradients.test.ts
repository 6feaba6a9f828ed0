/**
 * Gradients must be right: every node kind's forward is differentiated by TensorFlow.js and
 * compared with finite differences of the same forward on a small case, w.r.t. its inputs
 * and its trainable weights; then one whole small graph is compared end to end through the
 * compiled Program (weights passed as an override and zero probes on the edges, as the
 * trainer does), and the L1/L2 penalties are checked against their formulas.
 *
 * Numerics. Everything runs in float32 on the cpu backend. The finite differences use the
 * five-point stencil
 *     f'(x) ≈ [8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))] / 12h,   h = 2⁻⁶,
 * whose truncation error is O(h⁴) ≈ 6e-8·f⁽⁵⁾, so the error left is the float32 rounding
 * of f divided by h. Base values lie on a 2⁻¹⁰ grid so that x ± h and x ± 2h are exact in
 * float32 (the step really is h), and the per-kind objective Σ out·R (R fixed and random)
 * is summed in float64 on the host. Kinks (ReLU, |x|, leaky ReLU, PReLU, maxout's argmax,
 * ELU's second derivative) are kept more than 2h away from every evaluation point.
 * A component passes when |analytic − numeric| ≤ ATOL + RTOL·|numeric|.
 *
 * Finite differences only show that the gradient is the gradient of the forward, not that the
 * forward is right, so every kind also has a case whose outputs are checked against a float64
 * formula, and the whole graph against a float64 reimplementation (value and gradients). A
 * comparison with PyTorch would be the other independent reference; torch is not a
 * dependency of this project, so the float64 reimplementation stands in for it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePlan, type Plan } from '../../core/compile/plan.ts';
import { Program } from '../../core/compile/program.ts';
import { createRng, type Rng } from '../../core/data/rng.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { catalogue, kindDef } from '../../core/graph/catalogue.ts';
import { defaultParams, type ParamSpecs, type ParamValue } from '../../core/graph/params.ts';
import type { AnyKindDef, ForwardContext, NodeRole, Shape, Tensor, WeightSpec } from '../../core/graph/types.ts';

tf.enableProdMode();

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Finite-difference step: a power of two, so that grid values ± h, ± 2h are exact. */
const H = 2 ** -6;
/** Base values are rounded to this grid. */
const GRID = 2 ** -10;
/**
 * Tolerances against finite differences of the float32 forward. What is left after the
 * stencil is the float32 rounding of the objective (relative ~1e-7) divided by h: ~1e-5 for
 * objectives of size ~1–10, more where the loss is ~100 (extreme logits, h = 2⁻⁴ there). The
 * worst seen on these cases is 4.2e-5 (binary cross-entropy at ±100), 1.6e-5 otherwise, 7.6e-6
 * on the whole graph (run with GRAD_REPORT=1 to print the worst per case). A real bug (a
 * missing chain-rule path, a wrong factor, a term left out) is O(0.1–1), far above.
 */
const ATOL = 2e-4;
const RTOL = 2e-3;
/**
 * Tolerances against closed-form or float64-reference gradients (no finite-difference noise
 * in them, only the float32 rounding of the analytic gradient: seen ≤ 1e-7).
 */
const EXACT_ATOL = 1e-5;
const EXACT_RTOL = 1e-4;
/** Forward values vs the float64 reference formulas: float32 rounding only. */
const REF_ATOL = 1e-5;
const REF_RTOL = 1e-5;
/** Batch size of the per-kind cases (≥ 2 so that BatchNorm's batch statistics mean something). */
const N = 4;
/** The seed every random op gets in training-mode cases: the same mask/noise in every evaluation. */
const FIXED_SEED = 4242;

const REPORT = process.env.GRAD_REPORT === '1';

const snap = (v: number) => Math.round(v / GRID) * GRID;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

type Gen = (r: Rng) => number;
const normal =
  (sd = 1, mean = 0): Gen =>
  (r) =>
    mean + sd * r.normal();
const uniform =
  (lo: number, hi: number): Gen =>
  (r) =>
    r.uniform(lo, hi);
/** |v| in [lo, hi] with a random sign: keeps values off a kink at 0. */
const away =
  (lo = 0.25, hi = 1.5): Gen =>
  (r) =>
    (r.next() < 0.5 ? -1 : 1) * r.uniform(lo, hi);

function oneHotRows(n: number, k: number, r: Rng): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = r.int(k);
    for (let j = 0; j < k; j++) out.push(j === c ? 1 : 0);
  }
  return out;
}

/** Largest |a − n| over components; the components beyond atol + rtol·|n| go to `failures`. */
function compare(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string, failures: string[], atol = ATOL, rtol = RTOL): number {
  let worst = 0;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    const err = Math.abs(a - n);
    worst = Math.max(worst, err);
    if (!(err <= atol + rtol * Math.abs(n))) failures.push(`${what}[${i}]: analytic ${a}, finite differences ${n} (|diff| ${err.toExponential(2)})`);
  }
  return worst;
}

/** Five-point central difference of `f` w.r.t. every component of `base`, in float64. */
function numericGradient(f: (v: Float32Array) => number, base: Float32Array, h = H): Float64Array {
  const g = new Float64Array(base.length);
  const v = Float32Array.from(base);
  for (let i = 0; i < base.length; i++) {
    const x = base[i]!;
    const at = (d: number) => {
      v[i] = x + d;
      const y = f(v);
      v[i] = x;
      return y;
    };
    const p1 = at(h);
    const m1 = at(-h);
    const p2 = at(2 * h);
    const m2 = at(-2 * h);
    g[i] = (8 * (p1 - m1) - (p2 - m2)) / (12 * h);
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// Per-kind cases: def.forward called directly with a hand-made ForwardContext.

interface Evaluated {
  /** Values of the differentiated arguments and the constants, by key (port, port#i, weight name). */
  values: Record<string, Float32Array>;
  outputs: Record<string, Float32Array>;
  /** Analytic gradients by key. */
  grads: Record<string, Float32Array>;
  /** Names passed to ctx.setState. */
  stateWrites: string[];
}

interface GradCase {
  name: string;
  kind: string;
  params?: Record<string, ParamValue>;
  /** Per-sample shapes of the tensors wired into each input port (several for `multiple` ports). */
  inputs: Record<string, Shape[]>;
  training: boolean;
  dropConnectRate?: number;
  batch?: number;
  /** Value generators by key (input port, `port#i` for multiple ports, weight name). */
  gen?: Record<string, Gen>;
  /** Fixed values by key. */
  values?: Record<string, number[]>;
  /** Redraw the values until this holds (keeps kinks away from the evaluation points). */
  accept?: (v: Record<string, Float32Array>) => boolean;
  h?: number;
  /** What the case must look like (e.g. a mask that drops some but not all). */
  check?: (e: Evaluated) => void;
  /** Float64 reference of the outputs by port (the loss as one value), from the kind's formula. */
  reference?: (v: Record<string, Float32Array>, p: Record<string, ParamValue>) => Record<string, number[]>;
  /** Closed-form gradients in float64, compared with the analytic ones too. */
  expected?: (v: Record<string, Float32Array>) => Record<string, number[]>;
}

/** Maxout: the best piece of every unit must beat the second by a margin, at every evaluation point. */
const maxoutMargin = (units: number, pieces: number, inWidth: number, batch: number) => (v: Record<string, Float32Array>) => {
  const x = v.in!;
  const k = v.kernel!;
  const b = v.bias!;
  const m = units * pieces;
  let maxX = 1;
  for (const t of x) maxX = Math.max(maxX, Math.abs(t));
  for (let n = 0; n < batch; n++) {
    for (let u = 0; u < units; u++) {
      const z: number[] = [];
      for (let p = 0; p < pieces; p++) {
        const j = u * pieces + p;
        let s = b[j]!;
        for (let i = 0; i < inWidth; i++) s += x[n * inWidth + i]! * k[i * m + j]!;
        z.push(s);
      }
      z.sort((a, c) => c - a);
      // Each of the two pieces can move by 2h·max(|x|, |W|·1) when one value moves by 2h.
      if (z[0]! - z[1]! < 6 * H * maxX) return false;
    }
  }
  return true;
};

const countZeros = (a: ArrayLike<number>) => Array.from(a).filter((t) => t === 0).length;

/** Logits where naive formulas overflow or lose everything: ±30 and ±100 next to ordinary ones. */
const EXTREME_LOGITS_3 = [30, -30, 0.5, -100, 100, 0.25, 30, 29.5, -30, 0.125, -0.375, 100];
const EXTREME_TARGETS_3 = [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0];

// Float64 reference forwards, written from the formulas in the kinds' descriptions. The finite
// differences check that the gradient is the gradient of the forward; these check that the
// forward is the function it claims to be (a dropped term leaves both consistent).
type V = Record<string, Float32Array>;
type P = Record<string, ParamValue>;
const num = (p: P, k: string) => p[k] as number;
const ew = (a: ArrayLike<number>, f: (t: number, i: number) => number): number[] => Array.from(a, f);
/** x [n×k] · W [k×m] (· scale), plus b [m] when given. */
function affine(x: ArrayLike<number>, w: ArrayLike<number>, k: number, m: number, b?: ArrayLike<number>, scale = 1): number[] {
  const n = x.length / k;
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < m; j++) {
      let s = b ? b[j]! : 0;
      for (let i = 0; i < k; i++) s += x[r * k + i]! * w[i * m + j]! * scale;
      out.push(s);
    }
  }
  return out;
}
/** Rows along the last axis (width d). */
const rowsOf = (a: ArrayLike<number>, d: number): number[][] => Array.from({ length: a.length / d }, (_, r) => Array.from({ length: d }, (_, j) => a[r * d + j]!));
function concatLast(parts: ArrayLike<number>[], widths: number[]): number[] {
  const rows = parts.map((p, i) => rowsOf(p, widths[i]!));
  return rows[0]!.flatMap((_, r) => rows.flatMap((rs) => rs[r]!));
}
function softmaxRows(z: ArrayLike<number>, k: number): number[] {
  return rowsOf(z, k).flatMap((row) => {
    const m = Math.max(...row);
    const e = row.map((t) => Math.exp(t - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((t) => t / s);
  });
}
const logSumExp = (row: number[]) => {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((a, t) => a + Math.exp(t - m), 0));
};
const sigmoid64 = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const mean = (a: number[]) => a.reduce((s, t) => s + t, 0) / a.length;
/** γ (x − μ)/√(σ² + ε) + β per feature (last axis), with μ, σ² given per feature. */
function normalize(x: ArrayLike<number>, f: number, mu: ArrayLike<number>, v: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): number[] {
  return ew(x, (t, i) => ((t - mu[i % f]!) / Math.sqrt(v[i % f]! + eps)) * gamma[i % f]! + beta[i % f]!);
}
/** BatchNorm with batch statistics: μ and the biased σ² of each feature over every other axis. */
function batchNormTrain(x: ArrayLike<number>, f: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): number[] {
  const cols = Array.from({ length: f }, (_, j) => rowsOf(x, f).map((r) => r[j]!));
  const mu = cols.map(mean);
  const v = cols.map((c, j) => mean(c.map((t) => (t - mu[j]!) ** 2)));
  return normalize(x, f, mu, v, gamma, beta, eps);
}
function layerNormRef(x: ArrayLike<number>, f: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): number[] {
  return rowsOf(x, f).flatMap((row) => {
    const mu = mean(row);
    const v = mean(row.map((t) => (t - mu) ** 2));
    return row.map((t, j) => ((t - mu) / Math.sqrt(v + eps)) * gamma[j]! + beta[j]!);
  });
}
function maxoutRef(v: V, inWidth: number, units: number, pieces: number, keep = 1): number[] {
  const z = affine(v.in!, v.kernel!, inWidth, units * pieces, v.bias!, keep);
  return rowsOf(z, units * pieces).flatMap((row) => Array.from({ length: units }, (_, u) => Math.max(...row.slice(u * pieces, (u + 1) * pieces))));
}
const softmaxCERef = (z: ArrayLike<number>, y: ArrayLike<number>, k: number) => {
  const zr = rowsOf(z, k);
  const yr = rowsOf(y, k);
  return -mean(zr.map((row, r) => row.reduce((s, t, j) => s + yr[r]![j]! * (t - logSumExp(row)), 0)));
};
/** −[y log σ(z) + (1 − y) log(1 − σ(z))], averaged, with log σ(z) = −log(1 + e^−z) computed stably. */
const bceRef = (z: ArrayLike<number>, y: ArrayLike<number>) => {
  const logSig = (t: number) => (t >= 0 ? -Math.log1p(Math.exp(-t)) : t - Math.log1p(Math.exp(t)));
  return mean(ew(z, (t, i) => -(y[i]! * logSig(t) + (1 - y[i]!) * logSig(-t))));
};

/** Shuffled, distinct values 1/8 apart (on the grid), so no two values in a pooling window are within 2h of each other. */
function distinctValues(n: number, r: Rng): number[] {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) / 8);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
}
/** TensorFlow's padding: output ⌈in/s⌉ (same) or ⌊(in − k)/s⌋ + 1 (valid); same pads the odd pixel after. */
function windowGeometry(inp: number, k: number, s: number, padding: string): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.floor((inp - k) / s) + 1, before: 0 };
  const out = Math.ceil(inp / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - inp, 0) / 2) };
}
/** Conv2D in float64: NHWC input [n, h, w, c], kernel [kh, kw, c, f] (scaled), bias [f], dilation d. */
function convRef(v: V, [n, h, w, c]: number[], [kh, kw, f]: number[], s: number, padding: string, d = 1, scale = 1): number[] {
  const x = v.in!;
  const k = v.kernel!;
  const gh = windowGeometry(h!, (kh! - 1) * d + 1, s, padding);
  const gw = windowGeometry(w!, (kw! - 1) * d + 1, s, padding);
  const out: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let i = 0; i < gh.out; i++)
      for (let j = 0; j < gw.out; j++)
        for (let o = 0; o < f!; o++) {
          let sum = v.bias ? v.bias[o]! : 0;
          for (let u = 0; u < kh!; u++)
            for (let t = 0; t < kw!; t++) {
              const r = i * s - gh.before + u * d;
              const q = j * s - gw.before + t * d;
              if (r < 0 || r >= h! || q < 0 || q >= w!) continue;
              for (let ci = 0; ci < c!; ci++) sum += x[((b * h! + r) * w! + q) * c! + ci]! * k[((u * kw! + t) * c! + ci) * f! + o]! * scale;
            }
          out.push(sum);
        }
  return out;
}
/** Max or average pooling in float64 over the window's pixels inside the image. */
function poolRef(x: ArrayLike<number>, [n, h, w, c]: number[], [ph, pw]: number[], s: number, padding: string, op: 'max' | 'avg'): number[] {
  const gh = windowGeometry(h!, ph!, s, padding);
  const gw = windowGeometry(w!, pw!, s, padding);
  const out: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let i = 0; i < gh.out; i++)
      for (let j = 0; j < gw.out; j++)
        for (let ci = 0; ci < c!; ci++) {
          const seen: number[] = [];
          for (let u = 0; u < ph!; u++)
            for (let t = 0; t < pw!; t++) {
              const r = i * s - gh.before + u;
              const q = j * s - gw.before + t;
              if (r >= 0 && r < h! && q >= 0 && q < w!) seen.push(x[((b * h! + r) * w! + q) * c! + ci]!);
            }
          out.push(op === 'max' ? Math.max(...seen) : mean(seen));
        }
  return out;
}

const CASES: GradCase[] = [
  // Layers
  {
    name: 'dense with bias',
    kind: 'dense',
    params: { units: 3 },
    inputs: { in: [[4]] },
    training: true,
    reference: (v) => ({ out: affine(v.in!, v.kernel!, 4, 3, v.bias!) }),
  },
  {
    name: 'dense without bias',
    kind: 'dense',
    params: { units: 2, bias: false },
    inputs: { in: [[3]] },
    training: false,
    reference: (v) => ({ out: affine(v.in!, v.kernel!, 3, 2) }),
  },
  {
    name: 'dense, DropConnect at inference (mean network p·W)',
    kind: 'dense',
    params: { units: 3 },
    inputs: { in: [[3]] },
    training: false,
    dropConnectRate: 0.4,
    reference: (v) => ({ out: affine(v.in!, v.kernel!, 3, 3, v.bias!, 0.6) }),
  },
  {
    name: 'dense, DropConnect in training (fixed mask)',
    kind: 'dense',
    params: { units: 3 },
    inputs: { in: [[4]] },
    training: true,
    dropConnectRate: 0.5,
    check: (e) => {
      // dL/dW_ij = M_ij Σ_n x_ni R_nj: the masked weights have exactly zero gradient.
      const zeros = countZeros(e.grads.kernel!);
      expect(zeros, 'some weights dropped').toBeGreaterThan(0);
      expect(zeros, 'some weights kept').toBeLessThan(e.grads.kernel!.length);
    },
  },
  {
    name: 'rbf',
    kind: 'rbf',
    params: { units: 3 },
    inputs: { in: [[2]] },
    training: true,
    gen: { in: normal(0.6), centers: normal(0.6), logBeta: normal(0.3) },
    reference: (v) => ({
      out: Array.from({ length: N * 3 }, (_, idx) => {
        const [r, j] = [Math.floor(idx / 3), idx % 3];
        let d2 = 0;
        for (let i = 0; i < 2; i++) d2 += (v.in![r * 2 + i]! - v.centers![i * 3 + j]!) ** 2;
        return Math.exp(-Math.exp(v.logBeta![j]!) * d2);
      }),
    }),
  },
  {
    name: 'maxout',
    kind: 'maxout',
    params: { units: 2, pieces: 3 },
    inputs: { in: [[3]] },
    training: true,
    gen: { in: uniform(-1, 1), kernel: normal(0.8), bias: normal(0.5) },
    accept: maxoutMargin(2, 3, 3, N),
    reference: (v) => ({ out: maxoutRef(v, 3, 2, 3) }),
    check: (e) => {
      // Different pieces win for different units/samples: every piece gets some gradient.
      const g = e.grads.bias!;
      expect(countZeros(g), 'pieces that never win').toBeLessThan(g.length);
    },
  },
  {
    name: 'maxout, DropConnect in training (fixed mask)',
    kind: 'maxout',
    params: { units: 2, pieces: 2 },
    inputs: { in: [[3]] },
    training: true,
    dropConnectRate: 0.3,
    gen: { in: uniform(-1, 1), kernel: normal(0.8), bias: normal(0.8) },
  },
  {
    name: 'maxout, DropConnect at inference',
    kind: 'maxout',
    params: { units: 2, pieces: 2 },
    inputs: { in: [[3]] },
    training: false,
    dropConnectRate: 0.3,
    gen: { in: uniform(-1, 1), kernel: normal(0.8), bias: normal(0.8) },
    accept: (v) => maxoutMargin(2, 2, 3, N)({ ...v, kernel: Float32Array.from(v.kernel!, (t) => 0.7 * t) }),
    reference: (v) => ({ out: maxoutRef(v, 3, 2, 2, 0.7) }),
  },
  { name: 'flatten [2,3] → [6]', kind: 'flatten', inputs: { in: [[2, 3]] }, training: true, reference: (v) => ({ out: Array.from(v.in!) }) },
  { name: 'reshape [6] → [2,3]', kind: 'reshape', params: { shape: [2, 3] }, inputs: { in: [[6]] }, training: true, reference: (v) => ({ out: Array.from(v.in!) }) },
  { name: 'reshape [2,3] → [-1]', kind: 'reshape', params: { shape: [-1] }, inputs: { in: [[2, 3]] }, training: false },
  {
    name: 'add of three',
    kind: 'add',
    inputs: { in: [[3], [3], [3]] },
    training: true,
    reference: (v) => ({ out: ew(v['in#0']!, (t, i) => t + v['in#1']![i]! + v['in#2']![i]!) }),
  },
  {
    name: 'concat [2] + [3]',
    kind: 'concat',
    inputs: { in: [[2], [3]] },
    training: true,
    reference: (v) => ({ out: concatLast([v['in#0']!, v['in#1']!], [2, 3]) }),
  },
  {
    name: 'concat [2,1] + [2,2]',
    kind: 'concat',
    inputs: { in: [[2, 1], [2, 2]] },
    training: false,
    reference: (v) => ({ out: concatLast([v['in#0']!, v['in#1']!], [1, 2]) }),
  },

  // Convolutions and pooling (NHWC), against direct float64 loops over the windows.
  {
    name: 'conv2d 3×3 valid, stride 1, bias',
    kind: 'conv2d',
    params: { filters: 3, kernelSize: [3, 3] },
    inputs: { in: [[5, 5, 2]] },
    batch: 2,
    training: true,
    gen: { in: normal(0.8), kernel: normal(0.5), bias: normal(0.5) },
    reference: (v) => ({ out: convRef(v, [2, 5, 5, 2], [3, 3, 3], 1, 'valid') }),
  },
  {
    name: 'conv2d 2×3 same, stride 2, no bias (odd padding after)',
    kind: 'conv2d',
    params: { filters: 2, kernelSize: [2, 3], stride: 2, padding: 'same', bias: false },
    inputs: { in: [[5, 6, 2]] },
    batch: 2,
    training: false,
    gen: { in: normal(0.8), kernel: normal(0.5) },
    reference: (v) => ({ out: convRef(v, [2, 5, 6, 2], [2, 3, 2], 2, 'same') }),
  },
  {
    name: 'conv2d 3×3 valid, stride 2 leaving the last row unread',
    kind: 'conv2d',
    params: { filters: 2, kernelSize: [3, 3], stride: 2 },
    inputs: { in: [[6, 6, 2]] },
    batch: 2,
    training: true,
    gen: { in: normal(0.8), kernel: normal(0.5), bias: normal(0.5) },
    reference: (v) => ({ out: convRef(v, [2, 6, 6, 2], [3, 3, 2], 2, 'valid') }),
  },
  {
    name: 'conv2d 3×3 same, dilation 2',
    kind: 'conv2d',
    params: { filters: 2, kernelSize: [3, 3], padding: 'same', dilation: 2 },
    inputs: { in: [[6, 5, 1]] },
    batch: 2,
    training: true,
    gen: { in: normal(0.8), kernel: normal(0.5), bias: normal(0.5) },
    reference: (v) => ({ out: convRef(v, [2, 6, 5, 1], [3, 3, 2], 1, 'same', 2) }),
  },
  {
    name: 'conv2d, DropConnect at inference (mean network p·W)',
    kind: 'conv2d',
    params: { filters: 2, kernelSize: [2, 2] },
    inputs: { in: [[3, 3, 2]] },
    batch: 2,
    training: false,
    dropConnectRate: 0.25,
    reference: (v) => ({ out: convRef(v, [2, 3, 3, 2], [2, 2, 2], 1, 'valid', 1, 0.75) }),
  },
  {
    name: 'conv2d, DropConnect in training (fixed mask)',
    kind: 'conv2d',
    params: { filters: 3, kernelSize: [2, 2] },
    inputs: { in: [[3, 3, 2]] },
    batch: 2,
    training: true,
    dropConnectRate: 0.5,
    check: (e) => {
      const zeros = countZeros(e.grads.kernel!);
      expect(zeros, 'some kernel weights dropped').toBeGreaterThan(0);
      expect(zeros, 'some kernel weights kept').toBeLessThan(e.grads.kernel!.length);
    },
  },
  {
    name: 'maxPool2d 2×2 valid, stride 2',
    kind: 'maxPool2d',
    inputs: { in: [[4, 4, 2]] },
    batch: 2,
    training: true,
    // Distinct values 1/8 apart: the winner of every window stays the winner within ±2h.
    values: { in: distinctValues(2 * 4 * 4 * 2, createRng(31)) },
    reference: (v) => ({ out: poolRef(v.in!, [2, 4, 4, 2], [2, 2], 2, 'valid', 'max') }),
  },
  {
    name: 'maxPool2d 3×3 same, stride 2 (overlapping windows)',
    kind: 'maxPool2d',
    params: { poolSize: [3, 3], padding: 'same' },
    inputs: { in: [[5, 5, 1]] },
    batch: 2,
    training: false,
    values: { in: distinctValues(2 * 5 * 5, createRng(32)) },
    reference: (v) => ({ out: poolRef(v.in!, [2, 5, 5, 1], [3, 3], 2, 'same', 'max') }),
  },
  {
    name: 'avgPool2d 2×2 valid, stride 2',
    kind: 'avgPool2d',
    inputs: { in: [[4, 4, 2]] },
    batch: 2,
    training: true,
    reference: (v) => ({ out: poolRef(v.in!, [2, 4, 4, 2], [2, 2], 2, 'valid', 'avg') }),
  },
  {
    name: 'avgPool2d 3×2 same, stride 2 (mean of the pixels inside the image)',
    kind: 'avgPool2d',
    params: { poolSize: [3, 2], padding: 'same' },
    inputs: { in: [[5, 5, 2]] },
    batch: 2,
    training: false,
    reference: (v) => ({ out: poolRef(v.in!, [2, 5, 5, 2], [3, 2], 2, 'same', 'avg') }),
  },
  {
    name: 'globalAvgPool2d [3,4,2] → [2]',
    kind: 'globalAvgPool2d',
    inputs: { in: [[3, 4, 2]] },
    training: true,
    reference: (v) => ({ out: poolRef(v.in!, [N, 3, 4, 2], [3, 4], 1, 'valid', 'avg') }),
  },

  // Activations (inputs kept off the kinks)
  { name: 'relu', kind: 'relu', inputs: { in: [[5]] }, training: true, gen: { in: away() }, reference: (v) => ({ out: ew(v.in!, (t) => Math.max(0, t)) }) },
  {
    name: 'leaky relu',
    kind: 'leakyRelu',
    params: { alpha: 0.2 },
    inputs: { in: [[5]] },
    training: true,
    gen: { in: away() },
    reference: (v, p) => ({ out: ew(v.in!, (t) => Math.max(0, t) + num(p, 'alpha') * Math.min(0, t)) }),
  },
  {
    name: 'prelu',
    kind: 'prelu',
    inputs: { in: [[4]] },
    training: true,
    gen: { in: away(), alpha: uniform(0.05, 0.6) },
    reference: (v) => ({ out: ew(v.in!, (t, i) => Math.max(0, t) + v.alpha![i % 4]! * Math.min(0, t)) }),
  },
  {
    name: 'prelu on [2,3] (α per last axis)',
    kind: 'prelu',
    inputs: { in: [[2, 3]] },
    training: false,
    gen: { in: away(), alpha: uniform(0.05, 0.6) },
    reference: (v) => ({ out: ew(v.in!, (t, i) => Math.max(0, t) + v.alpha![i % 3]! * Math.min(0, t)) }),
  },
  { name: 'abs', kind: 'abs', inputs: { in: [[5]] }, training: true, gen: { in: away() }, reference: (v) => ({ out: ew(v.in!, Math.abs) }) },
  { name: 'sigmoid', kind: 'sigmoid', inputs: { in: [[5]] }, training: true, gen: { in: normal(1.5) }, reference: (v) => ({ out: ew(v.in!, sigmoid64) }) },
  { name: 'tanh', kind: 'tanh', inputs: { in: [[5]] }, training: true, gen: { in: normal(1.2) }, reference: (v) => ({ out: ew(v.in!, Math.tanh) }) },
  { name: 'softmax', kind: 'softmax', inputs: { in: [[4]] }, training: true, gen: { in: normal(1.5) }, reference: (v) => ({ out: softmaxRows(v.in!, 4) }) },
  { name: 'linear', kind: 'linear', inputs: { in: [[3]] }, training: true, reference: (v) => ({ out: Array.from(v.in!) }) },
  {
    name: 'softplus',
    kind: 'softplus',
    inputs: { in: [[5]] },
    training: true,
    gen: { in: normal(2) },
    reference: (v) => ({ out: ew(v.in!, (t) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)))) }),
  },
  ...[1, 0.5].flatMap((alpha): GradCase[] => {
    const reference = (v: V) => ({ out: ew(v.in!, (t) => (t > 0 ? t : alpha * Math.expm1(t))) });
    return [
      { name: `elu α = ${alpha}`, kind: 'elu', params: { alpha }, inputs: { in: [[5]] }, training: true, gen: { in: away() }, reference },
      {
        name: `elu α = ${alpha} at large |z| (e^z overflows float32 above 88)`,
        kind: 'elu',
        params: { alpha },
        inputs: { in: [[2]] },
        training: true,
        values: { in: [100, -100, 90, -30, 0.5, -0.5, 1000, -2] },
        reference,
      },
    ];
  }),

  // Regularization on the data path
  {
    name: 'dropout at inference (× p)',
    kind: 'dropout',
    params: { rate: 0.3 },
    inputs: { in: [[5]] },
    training: false,
    reference: (v) => ({ out: ew(v.in!, (t) => 0.7 * t) }),
  },
  {
    name: 'dropout in training (fixed mask)',
    kind: 'dropout',
    params: { rate: 0.5 },
    inputs: { in: [[5]] },
    training: true,
    gen: { in: away() },
    check: (e) => {
      // Each unit is either dropped (0) or kept as it is (no rescaling: × p happens at test time).
      const out = e.outputs.out!;
      out.forEach((t, i) => expect([0, e.values.in![i]]).toContain(t));
      const zeros = countZeros(out);
      expect(zeros, 'some units dropped').toBeGreaterThan(0);
      expect(zeros, 'some units kept').toBeLessThan(out.length);
    },
  },
  { name: 'dropConnect node at inference (identity)', kind: 'dropConnect', inputs: { in: [[3]] }, training: false, reference: (v) => ({ out: Array.from(v.in!) }) },
  { name: 'dropConnect node in training (identity)', kind: 'dropConnect', inputs: { in: [[3]] }, training: true, reference: (v) => ({ out: Array.from(v.in!) }) },
  { name: 'gaussian noise at inference', kind: 'gaussianNoise', params: { sigma: 0.5 }, inputs: { in: [[4]] }, training: false, reference: (v) => ({ out: Array.from(v.in!) }) },
  {
    name: 'gaussian noise in training (fixed noise)',
    kind: 'gaussianNoise',
    params: { sigma: 0.5 },
    inputs: { in: [[4]] },
    training: true,
    check: (e) => expect(Array.from(e.outputs.out!)).not.toEqual(Array.from(e.values.in!)),
  },
  // Regularization on the target path
  { name: 'label smoothing at inference', kind: 'labelSmoothing', params: { epsilon: 0.2 }, inputs: { y: [[3]] }, training: false, reference: (v) => ({ y: Array.from(v.y!) }) },
  {
    name: 'label smoothing in training',
    kind: 'labelSmoothing',
    params: { epsilon: 0.2 },
    inputs: { y: [[3]] },
    training: true,
    values: { y: oneHotRows(N, 3, createRng(3)) },
    reference: (v) => ({ y: ew(v.y!, (t) => t * 0.8 + 0.2 / 3) }),
  },
  {
    name: 'label smoothing in training, binary [1]',
    kind: 'labelSmoothing',
    params: { epsilon: 0.2 },
    inputs: { y: [[1]] },
    training: true,
    values: { y: [0, 1, 1, 0] },
    reference: (v) => ({ y: ew(v.y!, (t) => t * 0.8 + 0.2 / 2) }),
  },
  { name: 'label noise at inference', kind: 'labelNoise', params: { probability: 0.5 }, inputs: { y: [[3]] }, training: false, reference: (v) => ({ y: Array.from(v.y!) }) },
  {
    name: 'label noise in training (fixed replacement)',
    kind: 'labelNoise',
    params: { probability: 0.5 },
    inputs: { y: [[3]] },
    batch: 8,
    training: true,
    values: { y: oneHotRows(8, 3, createRng(4)) },
    check: (e) => {
      // Replaced rows do not depend on y (zero gradient) and hold a one-hot class.
      const g = e.grads.y!;
      let replaced = 0;
      for (let r = 0; r < 8; r++) {
        const row = [0, 1, 2].map((j) => e.outputs.y![3 * r + j]!);
        expect(row.sort()).toEqual([0, 0, 1]);
        if (g[3 * r] === 0 && g[3 * r + 1] === 0 && g[3 * r + 2] === 0) replaced++;
      }
      expect(replaced, 'some labels replaced').toBeGreaterThan(0);
      expect(replaced, 'some labels kept').toBeLessThan(8);
    },
  },
  {
    name: 'label noise in training, binary [1] (fixed replacement)',
    kind: 'labelNoise',
    params: { probability: 0.5 },
    inputs: { y: [[1]] },
    batch: 8,
    training: true,
  },

  // Normalization
  {
    name: 'batchNorm in training (batch statistics)',
    kind: 'batchNorm',
    inputs: { in: [[3]] },
    batch: 5,
    training: true,
    gen: { in: normal(1.5, 0.3) },
    reference: (v, p) => ({ out: batchNormTrain(v.in!, 3, v.gamma!, v.beta!, num(p, 'epsilon')) }),
    check: (e) => expect(e.stateWrites.sort()).toEqual(['movingMean', 'movingVariance']),
  },
  {
    name: 'batchNorm in training on [2,3] (statistics over batch and rows)',
    kind: 'batchNorm',
    params: { epsilon: 0.01 },
    inputs: { in: [[2, 3]] },
    batch: 3,
    training: true,
    reference: (v, p) => ({ out: batchNormTrain(v.in!, 3, v.gamma!, v.beta!, num(p, 'epsilon')) }),
  },
  {
    name: 'batchNorm in training on an image [3,3,2] (per channel, over batch and space)',
    kind: 'batchNorm',
    inputs: { in: [[3, 3, 2]] },
    batch: 3,
    training: true,
    gen: { in: normal(1.5, 0.3) },
    reference: (v, p) => ({ out: batchNormTrain(v.in!, 2, v.gamma!, v.beta!, num(p, 'epsilon')) }),
  },
  {
    name: 'batchNorm at inference (running statistics)',
    kind: 'batchNorm',
    inputs: { in: [[3]] },
    training: false,
    reference: (v, p) => ({ out: normalize(v.in!, 3, v.movingMean!, v.movingVariance!, v.gamma!, v.beta!, num(p, 'epsilon')) }),
    check: (e) => expect(e.stateWrites).toEqual([]),
  },
  {
    name: 'layerNorm',
    kind: 'layerNorm',
    inputs: { in: [[4]] },
    training: true,
    gen: { in: normal(1.5, 0.5) },
    reference: (v, p) => ({ out: layerNormRef(v.in!, 4, v.gamma!, v.beta!, num(p, 'epsilon')) }),
  },
  {
    name: 'layerNorm on [2,3]',
    kind: 'layerNorm',
    params: { epsilon: 0.01 },
    inputs: { in: [[2, 3]] },
    training: false,
    reference: (v, p) => ({ out: layerNormRef(v.in!, 3, v.gamma!, v.beta!, num(p, 'epsilon')) }),
  },

  // Losses: the gradient w.r.t. pred must be (softmax − y)/N, (σ − y)/size, 2(pred − y)/size.
  {
    name: 'softmax cross-entropy',
    kind: 'softmaxCrossEntropy',
    inputs: { pred: [[3]], target: [[3]] },
    training: true,
    gen: { pred: normal(2) },
    values: { target: oneHotRows(N, 3, createRng(5)) },
    reference: (v) => ({ loss: [softmaxCERef(v.pred!, v.target!, 3)] }),
    expected: (v) => ({ pred: softmaxRows(v.pred!, 3).map((t, i) => (t - v.target![i]!) / N) }),
  },
  {
    name: 'softmax cross-entropy at extreme logits (±30, ±100)',
    kind: 'softmaxCrossEntropy',
    inputs: { pred: [[3]], target: [[3]] },
    training: true,
    values: { pred: EXTREME_LOGITS_3, target: [1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0] },
    h: 2 ** -4,
    reference: (v) => ({ loss: [softmaxCERef(v.pred!, v.target!, 3)] }),
    expected: (v) => ({ pred: softmaxRows(v.pred!, 3).map((t, i) => (t - v.target![i]!) / N) }),
  },
  {
    name: 'binary cross-entropy',
    kind: 'binaryCrossEntropy',
    inputs: { pred: [[1]], target: [[1]] },
    training: true,
    gen: { pred: away(0.25, 3) },
    values: { target: [0, 1, 1, 0] },
    reference: (v) => ({ loss: [bceRef(v.pred!, v.target!)] }),
    expected: (v) => ({ pred: ew(v.pred!, (z, i) => (sigmoid64(z) - v.target![i]!) / N) }),
  },
  {
    name: 'binary cross-entropy, 3 outputs, soft targets',
    kind: 'binaryCrossEntropy',
    inputs: { pred: [[3]], target: [[3]] },
    training: true,
    gen: { pred: away(0.25, 3), target: uniform(0, 1) },
    reference: (v) => ({ loss: [bceRef(v.pred!, v.target!)] }),
    expected: (v) => ({ pred: ew(v.pred!, (z, i) => (sigmoid64(z) - v.target![i]!) / (3 * N)) }),
  },
  {
    name: 'binary cross-entropy at extreme logits (±30, ±100)',
    kind: 'binaryCrossEntropy',
    inputs: { pred: [[3]], target: [[3]] },
    training: true,
    values: { pred: EXTREME_LOGITS_3, target: EXTREME_TARGETS_3 },
    h: 2 ** -4,
    reference: (v) => ({ loss: [bceRef(v.pred!, v.target!)] }),
    expected: (v) => ({ pred: ew(v.pred!, (z, i) => (sigmoid64(z) - v.target![i]!) / (3 * N)) }),
  },
  {
    name: 'mean squared error',
    kind: 'meanSquaredError',
    inputs: { pred: [[2]], target: [[2]] },
    training: true,
    reference: (v) => ({ loss: [mean(ew(v.pred!, (t, i) => (t - v.target![i]!) ** 2))] }),
    expected: (v) => ({ pred: ew(v.pred!, (t, i) => (2 * (t - v.target![i]!)) / (2 * N)) }),
  },
  {
    name: 'mean squared error, large values',
    kind: 'meanSquaredError',
    inputs: { pred: [[1]], target: [[1]] },
    training: true,
    values: { pred: [30, -30, 100, -100], target: [0, 1, -1, 0.5] },
    h: 2 ** -4,
    reference: (v) => ({ loss: [mean(ew(v.pred!, (t, i) => (t - v.target![i]!) ** 2))] }),
    expected: (v) => ({ pred: ew(v.pred!, (t, i) => (2 * (t - v.target![i]!)) / N) }),
  },
];

/** Kinds without a forward, skipped by role: they are not on the data path. */
const NO_FORWARD_ROLES: readonly NodeRole[] = ['dataset', 'input', 'optimizer', 'penalty', 'earlyStopping'];

interface Prepared {
  def: AnyKindDef;
  params: Record<string, ParamValue>;
  /** Differentiated arguments: input tensors, then trainable weights. */
  args: { key: string; shape: number[]; values: Float32Array }[];
  /** Non-trainable weights (running statistics). */
  constants: { key: string; shape: number[]; values: Float32Array }[];
  ports: { key: string; port: string }[];
  weightSpecs: WeightSpec[];
  outputShapes: Record<string, Shape>;
  inputShapes: Record<string, Shape[]>;
  batch: number;
}

function defaultWeightGen(spec: WeightSpec): Gen {
  switch (spec.init.name) {
    case 'ones':
      return uniform(0.5, 1.5);
    case 'constant':
      return normal(0.2, spec.init.value ?? 0);
    default:
      return normal(0.7);
  }
}

function prepare(c: GradCase, seed: number): Prepared {
  const def = kindDef(c.kind);
  if (!def) throw new Error(`unknown kind ${c.kind}`);
  const params = { ...defaultParams(def.params as ParamSpecs), ...c.params };
  const batch = c.batch ?? N;
  const inferred = def.infer({
    params,
    inputs: Object.fromEntries(Object.entries(c.inputs).map(([port, shapes]) => [port, { shapes }])),
    name: `'${c.name}'`,
  });
  const errors = (inferred.issues ?? []).filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(`case '${c.name}' is invalid: ${errors.map((e) => e.message).join('; ')}`);
  const outputShapes: Record<string, Shape> = {};
  for (const [port, s] of Object.entries(inferred.outputs)) {
    if (!s) throw new Error(`case '${c.name}': output ${port} has unknown shape`);
    outputShapes[port] = s;
  }
  const weightSpecs = def.weights?.(params, c.inputs) ?? [];
  const ports: { key: string; port: string; shape: number[] }[] = [];
  for (const [port, shapes] of Object.entries(c.inputs)) {
    shapes.forEach((s, i) => ports.push({ key: shapes.length > 1 ? `${port}#${i}` : port, port, shape: [batch, ...s] }));
  }
  const keys = [...ports.map((p) => p.key), ...weightSpecs.map((w) => w.name)];
  if (new Set(keys).size !== keys.length) throw new Error(`case '${c.name}': a weight is named like an input port`);

  const rng = createRng(seed);
  const draw = (key: string, shape: number[], gen: Gen): Float32Array => {
    const fixed = c.values?.[key];
    if (fixed) {
      if (fixed.length !== size(shape)) throw new Error(`case '${c.name}': ${key} needs ${size(shape)} values`);
      return Float32Array.from(fixed, snap);
    }
    return Float32Array.from({ length: size(shape) }, () => snap(gen(rng)));
  };
  for (let attempt = 0; ; attempt++) {
    const all: Record<string, Float32Array> = {};
    const args: Prepared['args'] = [];
    const constants: Prepared['constants'] = [];
    for (const p of ports) {
      const v = draw(p.key, p.shape, c.gen?.[p.key] ?? c.gen?.[p.port] ?? normal(1));
      all[p.key] = v;
      args.push({ key: p.key, shape: p.shape, values: v });
    }
    for (const w of weightSpecs) {
      const v = draw(w.name, w.shape, c.gen?.[w.name] ?? defaultWeightGen(w));
      all[w.name] = v;
      (w.trainable ? args : constants).push({ key: w.name, shape: w.shape, values: v });
    }
    if (!c.accept || c.accept(all)) {
      return { def, params, args, constants, ports, weightSpecs, outputShapes, inputShapes: c.inputs, batch };
    }
    if (attempt > 200) throw new Error(`case '${c.name}': no values satisfy accept()`);
  }
}

interface ForwardMode {
  training: boolean;
  seed: () => number;
  dropConnectRate: number;
}

/** Run the kind's forward on argument tensors; returns its outputs and the state it wrote. */
function forwardOn(p: Prepared, mode: ForwardMode, argTensors: Tensor[], stateWrites: string[] = []): Record<string, Tensor> {
  const inputs: Record<string, Tensor[]> = {};
  p.ports.forEach((port, i) => (inputs[port.port] ??= []).push(argTensors[i]!));
  const weights: Record<string, Tensor> = {};
  p.args.slice(p.ports.length).forEach((a, i) => (weights[a.key] = argTensors[p.ports.length + i]!));
  for (const cst of p.constants) weights[cst.key] = tf.tensor(cst.values, cst.shape);
  const ctx: ForwardContext<Record<string, ParamValue>> = {
    tf,
    params: p.params,
    training: mode.training,
    weights,
    seed: mode.seed,
    setState: (name) => {
      if (!p.weightSpecs.some((w) => w.name === name && !w.trainable)) throw new Error(`setState('${name}'): not a state tensor of this kind`);
      stateWrites.push(name);
    },
    dropConnectRate: mode.dropConnectRate,
    outputShapes: p.outputShapes,
    inputShapes: p.inputShapes,
  };
  return p.def.forward!(ctx, inputs);
}

const inferenceSeed = () => {
  throw new Error('inference must not draw random numbers');
};

function modeOf(c: GradCase): ForwardMode {
  return { training: c.training, seed: c.training ? () => FIXED_SEED : inferenceSeed, dropConnectRate: c.dropConnectRate ?? 0 };
}

function outputValues(p: Prepared, mode: ForwardMode, values: Float32Array[]): Record<string, Float32Array> {
  return tf.tidy(() => {
    const outs = forwardOn(
      p,
      mode,
      p.args.map((a, i) => tf.tensor(values[i]!, a.shape)),
    );
    return Object.fromEntries(Object.entries(outs).map(([port, t]) => [port, Float32Array.from(t.dataSync())]));
  });
}

function checkCase(c: GradCase, index: number): void {
  const p = prepare(c, 1000 + index);
  const mode = modeOf(c);
  const base = p.args.map((a) => a.values);
  const valuesByKey: Record<string, Float32Array> = {};
  for (const a of [...p.args, ...p.constants]) valuesByKey[a.key] = a.values;

  // The forward agrees with shape inference; outputs are finite.
  const baseOut = tf.tidy(() => {
    const outs = forwardOn(
      p,
      mode,
      p.args.map((a) => tf.tensor(a.values, a.shape)),
    );
    return Object.fromEntries(Object.entries(outs).map(([port, t]) => [port, { shape: t.shape, values: Float32Array.from(t.dataSync()) }]));
  });
  for (const port of p.def.outputs) {
    const o = baseOut[port.name];
    expect(o, `output ${port.name}`).toBeDefined();
    expect(o!.shape, `shape of ${port.name}`).toEqual(port.type === 'loss' ? [] : [p.batch, ...p.outputShapes[port.name]!]);
    expect(Array.from(o!.values).every(Number.isFinite), `${port.name} is finite`).toBe(true);
  }

  // The forward is the function it claims to be.
  if (c.reference) {
    const bad: string[] = [];
    for (const [port, ref] of Object.entries(c.reference(valuesByKey, p.params))) {
      const got = baseOut[port]!.values;
      expect(got.length, `${port}: number of values`).toBe(ref.length);
      ref.forEach((r, i) => {
        if (!(Math.abs(got[i]! - r) <= REF_ATOL + REF_RTOL * Math.abs(r))) bad.push(`${port}[${i}]: forward ${got[i]}, formula ${r}`);
      });
    }
    if (bad.length) throw new Error(`${c.name}: the forward differs from its formula:\n  ${bad.slice(0, 12).join('\n  ')}`);
  }

  // The objective: Σ_ports Σ out ⊙ R, with R fixed and random (1 for a scalar loss).
  const rRng = createRng(7000 + index);
  const R: Record<string, Float32Array> = {};
  for (const [port, o] of Object.entries(baseOut)) {
    R[port] = o.shape.length === 0 ? Float32Array.of(1) : Float32Array.from(o.values, () => snap(rRng.normal()));
  }
  const objective64 = (outs: Record<string, Float32Array>) => {
    let s = 0;
    for (const [port, v] of Object.entries(outs)) for (let i = 0; i < v.length; i++) s += v[i]! * R[port]![i]!;
    return s;
  };

  // Analytic gradients.
  const stateWrites: string[] = [];
  const grads = tf.tidy(() => {
    const xs = p.args.map((a) => tf.tensor(a.values, a.shape));
    const f = (...ts: Tensor[]): tf.Scalar => {
      stateWrites.length = 0;
      const outs = forwardOn(p, mode, ts, stateWrites);
      const terms = Object.entries(outs).map(([port, t]) => tf.sum(tf.mul(t, tf.tensor(R[port]!, t.shape))));
      return tf.addN(terms) as tf.Scalar;
    };
    return tf.grads(f)(xs).map((g) => Float32Array.from(g.dataSync()));
  });
  const gradsByKey: Record<string, Float32Array> = {};
  p.args.forEach((a, i) => (gradsByKey[a.key] = grads[i]!));
  for (const [key, g] of Object.entries(gradsByKey)) expect(Array.from(g).every(Number.isFinite), `d/d${key} is finite`).toBe(true);

  c.check?.({ values: valuesByKey, outputs: Object.fromEntries(Object.entries(baseOut).map(([k, o]) => [k, o.values])), grads: gradsByKey, stateWrites });

  // Finite differences, argument by argument.
  const failures: string[] = [];
  const worst: Record<string, number> = {};
  p.args.forEach((a, i) => {
    const numeric = numericGradient(
      (v) => {
        const vals = base.slice();
        vals[i] = v;
        return objective64(outputValues(p, mode, vals));
      },
      a.values,
      c.h ?? H,
    );
    worst[a.key] = compare(grads[i]!, numeric, `d/d${a.key}`, failures);
  });
  if (c.expected) {
    for (const [key, e] of Object.entries(c.expected(valuesByKey))) {
      worst[`${key} (closed form)`] = compare(gradsByKey[key]!, e, `d/d${key} vs closed form`, failures, EXACT_ATOL, EXACT_RTOL);
    }
  }
  if (REPORT) console.log(`${c.name}: worst |analytic − numeric| ${JSON.stringify(Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, Number(v.toExponential(2))])))}`);
  if (failures.length) throw new Error(`${c.name}: ${failures.length} gradient component(s) disagree:\n  ${failures.slice(0, 12).join('\n  ')}`);
}

describe('per-kind gradients vs finite differences', () => {
  it('every kind with a forward has a gradient case; the others are skipped by role', () => {
    for (const def of catalogue) {
      const cases = CASES.filter((c) => c.kind === def.kind);
      if (def.forward) {
        expect(cases.length, `kind '${def.kind}' has a forward but no gradient case: add one to CASES in tests/unit/gradients.test.ts`).toBeGreaterThan(0);
        expect(NO_FORWARD_ROLES, `kind '${def.kind}' (role ${def.role})`).not.toContain(def.role);
      } else {
        expect(NO_FORWARD_ROLES, `kind '${def.kind}' has no forward and role '${def.role}'`).toContain(def.role);
      }
    }
    for (const c of CASES) expect(kindDef(c.kind)?.forward, `case '${c.name}'`).toBeDefined();
    for (const def of catalogue) {
      if (!def.forward) continue;
      expect(
        CASES.some((c) => c.kind === def.kind && c.reference),
        `kind '${def.kind}' needs a case with a float64 reference of its forward`,
      ).toBe(true);
    }
  });

  it('stochastic or mode-dependent kinds are checked in both modes (training with a fixed seed)', () => {
    for (const def of catalogue) {
      if (!def.forward) continue;
      const cases = CASES.filter((c) => c.kind === def.kind);
      const first = cases[0];
      if (!first) continue; // reported by the test above
      const p = prepare({ ...first, dropConnectRate: 0 }, 1);
      const values = p.args.map((a) => a.values);
      let seeds = 0;
      const counting = () => (seeds++, FIXED_SEED);
      const train = outputValues(p, { training: true, seed: counting, dropConnectRate: 0 }, values);
      const seedsWithout = seeds;
      const infer = outputValues(p, { training: false, seed: inferenceSeed, dropConnectRate: 0 }, values);
      const differs = Object.keys(train).some((k) => Array.from(train[k]!).some((v, i) => Math.abs(v - infer[k]![i]!) > 1e-6));
      const has = (training: boolean, dc: boolean) => cases.some((c) => c.training === training && (c.dropConnectRate ?? 0) > 0 === dc);
      if (seeds > 0 || differs) {
        expect(has(true, false), `'${def.kind}' behaves differently in training: add a training-mode case`).toBe(true);
        expect(has(false, false), `'${def.kind}' behaves differently in training: add an inference-mode case`).toBe(true);
      }
      // Layers that a DropConnect node can mask.
      seeds = 0;
      outputValues(p, { training: true, seed: counting, dropConnectRate: 0.5 }, values);
      const dcInfer = outputValues(p, { training: false, seed: inferenceSeed, dropConnectRate: 0.5 }, values);
      const dcDiffers = Object.keys(dcInfer).some((k) => Array.from(dcInfer[k]!).some((v, i) => Math.abs(v - infer[k]![i]!) > 1e-6));
      if (seeds > seedsWithout || dcDiffers) {
        expect(has(true, true), `'${def.kind}' uses DropConnect: add a training-mode DropConnect case`).toBe(true);
        expect(has(false, true), `'${def.kind}' uses DropConnect: add an inference-mode DropConnect case`).toBe(true);
      }
    }
  });

  CASES.forEach((c, i) => {
    it(`${c.kind}: ${c.name}`, () => checkCase(c, i));
  });
});

// ---------------------------------------------------------------------------------------------
// The compiled program: penalties, and one whole graph end to end.

function compile(g: GraphBuilder): Plan {
  const r = compilePlan(g.build());
  if (!r.ok) throw new Error(`graph does not compile: ${r.errors.join('; ')}`);
  return r.plan;
}

/** XOR-like points in [-1, 1]² and one-hot labels, on the grid. */
function xorBatch(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = createRng(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const a = snap(r.uniform(-1, 1));
    const b = snap(r.uniform(-1, 1));
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[2 * i + (a * b > 0 ? 1 : 0)] = 1;
  }
  return { x, y };
}

/** Random values for every trainable weight of a program (biases nonzero too), on the grid. */
function drawWeights(program: Program, seed: number): Float32Array[] {
  const r = createRng(seed);
  return program.trainable.map((w) => {
    const gen = w.name === 'gamma' ? uniform(0.5, 1.5) : w.name === 'alpha' ? uniform(0.05, 0.5) : normal(0.7);
    return Float32Array.from({ length: w.variable.size }, () => snap(gen(r)));
  });
}

function penaltyGraph(penalties: { kind: 'l1' | 'l2'; alpha: number }[]): GraphBuilder {
  const g = new GraphBuilder('penalties');
  g.add('dataset', 'data', { source: 'xor', samples: 32, batchSize: 0 });
  const out = g.chain('data.x', [
    ['dense', 'fc1', { units: 4 }],
    ['prelu', 'act'],
    ['maxout', 'mx', { units: 3, pieces: 2 }],
    ['rbf', 'rbf', { units: 3 }],
    ['dense', 'out', { units: 2 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  let prev = 'loss.loss';
  penalties.forEach((p, i) => {
    g.add(p.kind, `pen${i}`, { alpha: p.alpha }).wire(prev, `pen${i}.loss`);
    prev = `pen${i}.loss`;
  });
  g.add('sgd', 'opt').wire(prev, 'opt.loss');
  return g;
}

describe('L1/L2 penalties through Program.forward', () => {
  const PENALIZED = ['fc1/kernel', 'mx/kernel', 'rbf/centers', 'out/kernel'];

  for (const penalties of [[{ kind: 'l2' as const, alpha: 0.3 }], [{ kind: 'l1' as const, alpha: 0.2 }], [{ kind: 'l2' as const, alpha: 0.3 }, { kind: 'l1' as const, alpha: 0.2 }]]) {
    it(penalties.map((p) => `${p.kind}(α=${p.alpha})`).join(' + '), () => {
      const plan = compile(penaltyGraph(penalties));
      const program = new Program(tf, plan, createRng(1));
      try {
        expect(program.trainable.filter((w) => w.penalized).map((w) => `${w.nodeId}/${w.name}`)).toEqual(PENALIZED);
        const { x, y } = xorBatch(6, 3);
        const wv = drawWeights(program, 11);
        const res = tf.tidy(() => {
          const xt = tf.tensor2d(x, [6, 2]);
          const yt = tf.tensor2d(y, [6, 2]);
          const ws = program.trainable.map((w, i) => tf.tensor(wv[i]!, w.variable.shape));
          const run = (training: boolean, which: 'objective' | 'dataLoss') => (...args: Tensor[]) =>
            program.forward({ x: xt, y: yt, training, seed: () => 0, weights: args })[which] as tf.Scalar;
          const fwd = program.forward({ x: xt, y: yt, training: true, seed: () => 0, weights: ws });
          const inf = program.forward({ x: xt, y: yt, training: false, seed: () => 0, weights: ws });
          return {
            objective: fwd.objective.dataSync()[0]!,
            dataLoss: fwd.dataLoss.dataSync()[0]!,
            infObjective: inf.objective.dataSync()[0]!,
            infDataLoss: inf.dataLoss.dataSync()[0]!,
            gObj: tf.grads(run(true, 'objective'))(ws).map((g) => Float32Array.from(g.dataSync())),
            gData: tf.grads(run(true, 'dataLoss'))(ws).map((g) => Float32Array.from(g.dataSync())),
          };
        });
        // The value: Σ over penalties of (α/2)ΣW² or αΣ|W|, over the penalized weights only.
        let expected = 0;
        for (const p of penalties) {
          program.trainable.forEach((w, i) => {
            if (!w.penalized) return;
            for (const v of wv[i]!) expected += p.kind === 'l2' ? (p.alpha / 2) * v * v : p.alpha * Math.abs(v);
          });
        }
        expect(expected).toBeGreaterThan(0.1);
        expect(Math.abs(res.objective - res.dataLoss - expected)).toBeLessThan(1e-5 * Math.max(1, expected));
        // Validation losses are data losses: no penalty at inference.
        expect(res.infObjective).toBe(res.infDataLoss);
        // The gradient: + αW or + α·sign(W) on the penalized weights, nothing on the others.
        const failures: string[] = [];
        program.trainable.forEach((w, i) => {
          const want = Array.from(wv[i]!, (v) =>
            w.penalized ? penalties.reduce((s, p) => s + (p.kind === 'l2' ? p.alpha * v : p.alpha * Math.sign(v)), 0) : 0,
          );
          const got = Array.from(res.gObj[i]!, (g, j) => g - res.gData[i]![j]!);
          got.forEach((g, j) => {
            if (!(Math.abs(g - want[j]!) <= 1e-5 + 1e-5 * Math.abs(want[j]!))) failures.push(`${w.nodeId}/${w.name}[${j}]: penalty gradient ${g}, expected ${want[j]}`);
          });
        });
        if (failures.length) throw new Error(failures.slice(0, 12).join('\n'));
      } finally {
        program.dispose();
      }
    });
  }

  it('α = 0 adds nothing', () => {
    const plan = compile(penaltyGraph([{ kind: 'l2', alpha: 0 }]));
    const program = new Program(tf, plan, createRng(1));
    try {
      const { x, y } = xorBatch(4, 3);
      const [obj, data] = tf.tidy(() => {
        const r = program.forward({ x: tf.tensor2d(x, [4, 2]), y: tf.tensor2d(y, [4, 2]), training: true, seed: () => 0 });
        return [r.objective.dataSync()[0]!, r.dataLoss.dataSync()[0]!];
      });
      expect(obj).toBe(data);
    } finally {
      program.dispose();
    }
  });
});

describe('a whole small graph, end to end', () => {
  /**
   * Dataset(xor) → Dense(4) → Tanh ─┬→ Dense(4) → BatchNorm → ReLU → Add → Dropout → Dense(2) → softmax CE → L2 → SGD
   *                                  └──────────────────────────────────↗
   * with label smoothing on the target path. Training mode: BatchNorm uses the batch
   * statistics, Dropout a fixed mask (constant seed).
   */
  function wholeGraph(): GraphBuilder {
    const g = new GraphBuilder('end to end');
    g.add('dataset', 'data', { source: 'xor', samples: 64, batchSize: 0 });
    g.add('dense', 'fc1', { units: 4 }).wire('data.x', 'fc1.in');
    g.add('tanh', 'h1').wire('fc1.out', 'h1.in');
    g.add('dense', 'fc2', { units: 4 }).wire('h1.out', 'fc2.in');
    g.add('batchNorm', 'bn').wire('fc2.out', 'bn.in');
    g.add('relu', 'r').wire('bn.out', 'r.in');
    g.add('add', 'skip').wire('r.out', 'skip.in').wire('h1.out', 'skip.in');
    g.add('dropout', 'drop', { rate: 0.25 }).wire('skip.out', 'drop.in');
    g.add('dense', 'out', { units: 2 }).wire('drop.out', 'out.in');
    g.add('labelSmoothing', 'smooth', { epsilon: 0.1 }).wire('data.y', 'smooth.y');
    g.add('softmaxCrossEntropy', 'loss').wire('out.out', 'loss.pred').wire('smooth.y', 'loss.target');
    g.add('l2', 'decay', { alpha: 0.05 }).wire('loss.loss', 'decay.loss');
    g.add('sgd', 'opt').wire('decay.loss', 'opt.loss');
    return g;
  }

  /**
   * An independent float64 implementation of the same graph (the stand-in for a PyTorch
   * comparison, torch not being available here): objective for given weights (by
   * node/name) and probes (by "source->target"), with Dropout's mask given.
   */
  function referenceObjective(
    x: ArrayLike<number>,
    y: ArrayLike<number>,
    w: (key: string) => ArrayLike<number>,
    probe: (edge: string) => ArrayLike<number>,
    mask: ArrayLike<number>,
    bnEpsilon: number,
  ): number {
    const P = (edge: string, a: number[]) => {
      const p = probe(edge);
      return a.map((t, i) => t + p[i]!);
    };
    const z1 = affine(P('data->fc1', Array.from(x)), w('fc1/kernel'), 2, 4, w('fc1/bias'));
    const h = P('fc1->h1', z1).map(Math.tanh);
    const z2 = affine(P('h1->fc2', h), w('fc2/kernel'), 4, 4, w('fc2/bias'));
    const bn = batchNormTrain(P('fc2->bn', z2), 4, w('bn/gamma'), w('bn/beta'), bnEpsilon);
    const r = P('bn->r', bn).map((t) => Math.max(0, t));
    const a = P('r->skip', r);
    const b = P('h1->skip', h);
    const sum = a.map((t, i) => t + b[i]!);
    const dropped = P('skip->drop', sum).map((t, i) => t * mask[i]!);
    const logits = P('out->loss', affine(P('drop->out', dropped), w('out/kernel'), 4, 2, w('out/bias')));
    const smoothed = Array.from(y, (t) => t * (1 - 0.1) + 0.1 / 2);
    let penalty = 0;
    for (const k of ['fc1/kernel', 'fc2/kernel', 'out/kernel']) for (const t of Array.from(w(k))) penalty += (0.05 / 2) * t * t;
    return softmaxCERef(logits, smoothed, 2) + penalty;
  }

  it('weight and probe gradients match finite differences and a float64 reference', () => {
    const plan = compile(wholeGraph());
    const program = new Program(tf, plan, createRng(1));
    try {
      const B = 8;
      const { x, y } = xorBatch(B, 21);
      const edges = plan.instrumentedEdges;
      const targetOf = (edgeId: string) => plan.nodes.find((n) => Object.values(n.inputs).some((ins) => ins.some((i) => i.edgeId === edgeId)))!.id;
      const edgeNames = edges.map((e) => `${e.source}->${targetOf(e.edgeId)}`);
      // The data path is instrumented, the target path (label smoothing) is not.
      expect(edgeNames.sort()).toEqual(
        ['data->fc1', 'fc1->h1', 'h1->fc2', 'fc2->bn', 'bn->r', 'r->skip', 'h1->skip', 'skip->drop', 'drop->out', 'out->loss'].sort(),
      );
      const edgeNamesInOrder = edges.map((e) => `${e.source}->${targetOf(e.edgeId)}`);
      const probeShapes = edges.map((e) => {
        const node = plan.nodes.find((n) => n.id === e.source);
        return [B, ...(node ? node.outputShapes[e.sourcePort]! : plan.dataset.info.xShape)];
      });
      const zeroProbes = probeShapes.map((sh) => new Float32Array(size(sh)));
      const seed = () => 97;
      const nW = program.trainable.length;
      const keys = program.trainable.map((w) => `${w.nodeId}/${w.name}`);

      /** Objective and some activations, for weight values and probe values. */
      const evaluate = (weights: Float32Array[], probes: Float32Array[]) =>
        tf.tidy(() => {
          const r = program.forward({
            x: tf.tensor2d(x, [B, 2]),
            y: tf.tensor2d(y, [B, 2]),
            training: true,
            seed,
            weights: program.trainable.map((w, i) => tf.tensor(weights[i]!, w.variable.shape)),
            probes: new Map(edges.map((e, i) => [e.edgeId, tf.tensor(probes[i]!, probeShapes[i]!)])),
          });
          const read = (id: string) => Float32Array.from(r.outputs.get(id)!.out!.dataSync());
          return { objective: r.objective.dataSync()[0]!, bnOut: read('bn'), skipOut: read('skip'), dropOut: read('drop') };
        });

      // Weights with the ReLU's inputs (BatchNorm's outputs) well away from 0.
      let wv: Float32Array[] = [];
      for (let s = 100; ; s++) {
        wv = drawWeights(program, s);
        if (Math.min(...Array.from(evaluate(wv, zeroProbes).bnOut, Math.abs)) > 0.2) break;
        if (s > 400) throw new Error('no weights keep the ReLU off its kink');
      }
      const base = evaluate(wv, zeroProbes);
      const signs = Array.from(base.bnOut, Math.sign).join();
      // Dropout's fixed mask: units are kept as they are or dropped.
      const mask = Array.from(base.dropOut, (t, i) => (t === 0 ? 0 : t === base.skipOut[i] ? 1 : NaN));
      expect(mask.every((m) => m === 0 || m === 1), 'dropout output is x or 0').toBe(true);
      expect(countZeros(mask), 'dropout drops some units').toBeGreaterThan(0);

      // Analytic: tf.valueAndGrads over [...weights, ...probes] from zero probes, as the trainer does.
      const analytic = tf.tidy(() => {
        const xt = tf.tensor2d(x, [B, 2]);
        const yt = tf.tensor2d(y, [B, 2]);
        const ws = program.trainable.map((w, i) => tf.tensor(wv[i]!, w.variable.shape));
        const ps = probeShapes.map((sh) => tf.zeros(sh));
        const probeMap = new Map(edges.map((e, i) => [e.edgeId, ps[i]!]));
        const f = (...args: Tensor[]) =>
          program.forward({ x: xt, y: yt, training: true, seed, weights: args.slice(0, nW), probes: probeMap }).objective as tf.Scalar;
        const { value, grads } = tf.valueAndGrads(f)([...ws, ...ps]);
        return { value: value.dataSync()[0]!, grads: grads.map((g) => Float32Array.from(g.dataSync())) };
      });
      expect(analytic.value).toBeCloseTo(base.objective, 6);
      for (const g of analytic.grads) expect(Array.from(g).every(Number.isFinite)).toBe(true);

      const failures: string[] = [];
      const worst = { fd: 0, reference: 0 };

      // 1. Float32 finite differences of the program itself.
      const guard = (r: { objective: number; bnOut: Float32Array }) => {
        if (Array.from(r.bnOut, Math.sign).join() !== signs) throw new Error('a finite-difference step crossed the ReLU kink: pick other weights');
        return r.objective;
      };
      // Every coordinate of every trainable weight.
      program.trainable.forEach((_, i) => {
        const numeric = numericGradient((v) => guard(evaluate(wv.map((t, j) => (j === i ? v : t)), zeroProbes)), wv[i]!);
        worst.fd = Math.max(worst.fd, compare(analytic.grads[i]!, numeric, `FD: d objective/d ${keys[i]}`, failures));
      });
      // Probes: d objective/d(activation on that edge only), by adding h to the activation, on a few coordinates.
      const pr = createRng(5);
      edges.forEach((_, k) => {
        const n = size(probeShapes[k]!);
        const coords = [...new Set(Array.from({ length: 6 }, () => pr.int(n)))];
        const numeric = coords.map((c) => {
          const at = (d: number) => {
            const t = new Float32Array(n);
            t[c] = d;
            return guard(evaluate(wv, zeroProbes.map((z, j) => (j === k ? t : z))));
          };
          return (8 * (at(H) - at(-H)) - (at(2 * H) - at(-2 * H))) / (12 * H);
        });
        const g = analytic.grads[nW + k]!;
        const err = compare(
          coords.map((c) => g[c]!),
          numeric,
          `FD: d objective/d probe ${edgeNamesInOrder[k]} at ${JSON.stringify(coords)}`,
          failures,
        );
        worst.fd = Math.max(worst.fd, err);
        // The gradient through an edge is not trivially zero.
        expect(Array.from(g).some((v) => v !== 0), `probe ${edgeNamesInOrder[k]}`).toBe(true);
      });

      // 2. The float64 reference: the same value, and its central differences (h = 1e-6, in
      //    float64) against every weight and every probe coordinate.
      const bnEpsilon = plan.nodes.find((n) => n.id === 'bn')!.params.epsilon as number;
      const ref = (weights: ArrayLike<number>[], probes: ArrayLike<number>[]) =>
        referenceObjective(
          x,
          y,
          (key) => weights[keys.indexOf(key)]!,
          (edge) => probes[edgeNamesInOrder.indexOf(edge)]!,
          mask,
          bnEpsilon,
        );
      const refValue = ref(wv, zeroProbes);
      expect(Math.abs(base.objective - refValue), `objective ${base.objective} vs float64 reference ${refValue}`).toBeLessThan(1e-5 * (1 + Math.abs(refValue)));
      const h64 = 1e-6;
      const refGrad = (args: ArrayLike<number>[], which: number, weightsPart: boolean) => {
        const v = Float64Array.from(args[which]!);
        return Array.from(v, (t, i) => {
          const at = (d: number) => {
            v[i] = t + d;
            const a = args.map((u, j) => (j === which ? v : u));
            const r = weightsPart ? ref(a, zeroProbes) : ref(wv, a);
            v[i] = t;
            return r;
          };
          return (at(h64) - at(-h64)) / (2 * h64);
        });
      };
      program.trainable.forEach((_, i) => {
        const err = compare(analytic.grads[i]!, refGrad(wv, i, true), `float64 reference: d objective/d ${keys[i]}`, failures, EXACT_ATOL, EXACT_RTOL);
        worst.reference = Math.max(worst.reference, err);
      });
      edges.forEach((_, k) => {
        const err = compare(analytic.grads[nW + k]!, refGrad(zeroProbes, k, false), `float64 reference: d objective/d probe ${edgeNamesInOrder[k]}`, failures, EXACT_ATOL, EXACT_RTOL);
        worst.reference = Math.max(worst.reference, err);
      });
      if (REPORT) console.log(`whole graph: objective ${base.objective} (float64 reference ${refValue}); worst |analytic − numeric| ${JSON.stringify(worst)}`);

      if (failures.length) throw new Error(`${failures.length} component(s) disagree:\n  ${failures.slice(0, 12).join('\n  ')}`);
    } finally {
      program.dispose();
    }
  });
});

describe('fused Dense+ReLU kernels', () => {
  it('give the same loss and weight gradients as the separate ops, and are planned only where safe', () => {
    const g = new GraphBuilder('fusion');
    g.add('dataset', 'data', { source: 'xor', samples: 64, seed: 3 });
    const out = g.chain('data.x', [
      ['dense', 'fc1', { units: 6, initializer: 'heNormal' }],
      ['relu', 'r1'],
      ['dense', 'fc2', { units: 5 }],
      ['relu', 'r2'],
      ['dense', 'fc3', { units: 2 }],
    ]);
    // fc2's output also feeds an Add: fusing it would hide the pre-activation from the Add.
    g.add('add', 'skip').wire('fc2.out', 'skip.in').wire('r2.out', 'skip.in');
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'opt').wire('loss.loss', 'opt.loss');
    const compiled = compilePlan(g.build());
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    expect(compiled.plan.fusions.map((f) => `${f.layer}+${f.activation}`)).toEqual(['fc1+r1']);
    const program = new Program(tf, compiled.plan, createRng(5));
    const x = tf.tensor2d([0.3, -0.7, 0.9, 0.2, -0.4, -0.5, 0.6, 0.1], [4, 2]);
    const y = tf.tensor2d([1, 0, 0, 1, 0, 1, 1, 0], [4, 2]);
    const vars = program.trainable.map((w) => w.variable);
    const run = (fuse: boolean) =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((...ws: Tensor[]) => program.forward({ x, y, training: true, seed: () => 1, weights: ws, fuse }).objective as tf.Scalar)(vars);
        return [value, ...grads].map((t) => Array.from(t.dataSync()));
      });
    const fused = run(true);
    const plain = run(false);
    fused.forEach((v, i) => v.forEach((a, j) => expect(Math.abs(a - plain[i]![j]!)).toBeLessThan(1e-6)));
    program.dispose();
    tf.dispose([x, y]);
  });
});
