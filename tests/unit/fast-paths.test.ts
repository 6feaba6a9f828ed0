/**
 * The fast training paths compute exactly what plain TensorFlow.js computes: for every kind
 * they touch (Dense with and without bias, Dense fused with ReLU, Maxout, RBF units), the
 * forward values and the gradients w.r.t. inputs and weights match tfjs's own ops and their
 * built-in gradients, on the cpu backend and on wasm (where the gradient takes the explicit-
 * transpose path). Float32 tolerance: the products are the same, only the order of additions
 * inside the kernels may differ.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/compile/plan.ts';
import { Program } from '../../core/compile/program.ts';
import { createRng, type Rng } from '../../core/data/rng.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { kindDef } from '../../core/graph/catalogue.ts';
import { matMulFast, usesExplicitTransposes, type MatMulOptions } from '../../core/graph/kinds/matmul.ts';
import { defaultParams } from '../../core/graph/params.ts';
import type { ForwardContext, Tensor } from '../../core/graph/types.ts';

tf.enableProdMode();

const TOL = 2e-5;

function randn(rng: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape, 'float32');
}

function expectClose(actual: Tensor, expected: Tensor, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!) / (1 + Math.abs(e[i]!)));
  expect(worst, what).toBeLessThan(TOL);
}

/** Value and gradients of Σ f(ts)·R w.r.t. every tensor in ts, R fixed: every output element weighs in. */
function valueAndGrads(f: (...ts: Tensor[]) => Tensor, ts: Tensor[], r: Tensor): Tensor[] {
  return tf.tidy(() => {
    const out = f(...ts);
    const { grads } = tf.valueAndGrads((...xs: Tensor[]) => tf.sum(tf.mul(f(...xs), r)) as tf.Scalar)(ts);
    return [out, ...grads];
  });
}

interface MatMulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  bias: boolean;
  relu: boolean;
}

// Shapes where each of the two ways of transposing is the cheaper one, with and without bias
// and ReLU, above the size where WASM transposes explicitly (2¹⁷ multiply-adds), and one below.
const MATMUL_CASES: MatMulCase[] = [
  { name: 'batch 64, 64 → 40, bias + ReLU', m: 64, k: 64, n: 40, bias: true, relu: true },
  { name: 'batch 64, 64 → 40, bias', m: 64, k: 64, n: 40, bias: true, relu: false },
  { name: 'batch 64, 64 → 40, no bias', m: 64, k: 64, n: 40, bias: false, relu: false },
  { name: 'batch 8, 40 → 500 (wide output), ReLU without bias', m: 8, k: 40, n: 500, bias: false, relu: true },
  { name: 'batch 256, 40 → 16 (tall batch), bias + ReLU', m: 256, k: 40, n: 16, bias: true, relu: true },
  { name: 'batch 16, 30 → 20 (small: transposed kernels)', m: 16, k: 30, n: 20, bias: true, relu: true },
];

// Sizes above the explicit-transpose threshold, so on wasm every kind takes that path.
const KIND_CASES = [
  { kind: 'dense', params: { units: 40 }, fused: false },
  { kind: 'dense', params: { units: 40, bias: false }, fused: false },
  { kind: 'dense', params: { units: 40 }, fused: true },
  { kind: 'maxout', params: { units: 20, pieces: 3 }, fused: false },
  { kind: 'rbf', params: { units: 40, width: 4 }, fused: false },
] as const;

/** The plain tfjs computation of each kind, with tfjs's own gradients (the reference). */
const REFERENCE: Record<string, (p: Record<string, unknown>, x: Tensor, w: Record<string, Tensor>, fused: boolean) => Tensor> = {
  dense: (p, x, w, fused) => {
    const z = tf.matMul(x as tf.Tensor2D, w.kernel as tf.Tensor2D);
    const zb = p.bias === false ? z : tf.add(z, w.bias!);
    return fused ? tf.relu(zb) : zb;
  },
  maxout: (p, x, w) => tf.max(tf.reshape(tf.add(tf.matMul(x as tf.Tensor2D, w.kernel as tf.Tensor2D), w.bias!), [-1, p.units as number, p.pieces as number]), 2),
  rbf: (_p, x, w) => {
    const diff = tf.sub(tf.expandDims(x, 2), tf.expandDims(w.centers!, 0)); // [batch, in, units]
    return tf.exp(tf.neg(tf.mul(tf.sum(tf.square(diff), 1), tf.exp(w.logBeta!))));
  },
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fast affine paths on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      await tf.ready();
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it(`takes the ${backend === 'wasm' ? 'explicit-transpose' : 'transposed-kernel'} gradient on ${backend} for all but small products`, () => {
      for (const c of MATMUL_CASES) expect(usesExplicitTransposes(tf, c.m * c.k * c.n), c.name).toBe(backend === 'wasm' && !c.name.includes('small'));
    });

    it.each(MATMUL_CASES)('matMulFast, $name: values and gradients equal tfjs (fused) matMul', (c) => {
      const rng = createRng(11);
      const before = tf.memory().numTensors;
      const a = randn(rng, [c.m, c.k]);
      const b = randn(rng, [c.k, c.n]);
      const bias = randn(rng, [c.n]);
      const r = randn(rng, [c.m, c.n]);
      const ins = [a, b, ...(c.bias ? [bias] : [])];
      const opts = (ts: Tensor[]): MatMulOptions => ({ ...(c.bias ? { bias: ts[2]! } : {}), ...(c.relu ? { activation: 'relu' as const } : {}) });
      const fast = valueAndGrads((...ts) => matMulFast(tf, ts[0]!, ts[1]!, opts(ts)), ins, r);
      const plain = valueAndGrads((...ts) => {
        const z = tf.matMul(ts[0] as tf.Tensor2D, ts[1] as tf.Tensor2D);
        const zb = c.bias ? tf.add(z, ts[2]!) : z;
        return c.relu ? tf.relu(zb) : zb;
      }, ins, r);
      const names = ['value', 'd/da', 'd/db', 'd/dbias'];
      fast.forEach((t, i) => expectClose(t, plain[i]!, names[i]!));
      // Without a gradient into a, the weight gradients are unchanged.
      const noA = valueAndGrads((...ts) => matMulFast(tf, a, ts[0]!, { ...opts([a, ...ts]), ...(c.bias ? { bias: ts[1]! } : {}), gradA: false }), ins.slice(1), r);
      noA.forEach((t, i) => expectClose(t, plain[i === 0 ? 0 : i + 1]!, `${names[i === 0 ? 0 : i + 1]!} (gradA: false)`));
      tf.dispose([...fast, ...plain, ...noA, a, b, bias, r]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it.each(KIND_CASES)('$kind $params (fused ReLU: $fused): forward and gradients equal the plain tfjs computation', (c) => {
      const def = kindDef(c.kind)!;
      const params = { ...defaultParams(def.params), ...c.params } as Record<string, unknown>;
      const inShape = [64];
      const batch = 64;
      const specs = def.weights!(params, { in: [inShape] });
      const rng = createRng(3);
      const before = tf.memory().numTensors;
      const x = randn(rng, [batch, ...inShape]);
      const ws = specs.map((s) => tf.tidy(() => tf.mul(randn(rng, s.shape), 0.5)));
      const units = params.units as number;
      const r = randn(rng, [batch, units]);
      expect(usesExplicitTransposes(tf, batch * inShape[0]! * specs[0]!.shape[1]!)).toBe(backend === 'wasm');
      for (const gradX of [true, false]) {
        const ctxFor = (wts: Tensor[]): ForwardContext<Record<string, unknown>> => ({
          tf,
          params,
          training: true,
          weights: Object.fromEntries(specs.map((s, i) => [s.name, wts[i]!])),
          seed: () => 1,
          setState: () => {},
          dropConnectRate: 0,
          outputShapes: { out: [units] },
          inputShapes: { in: [inShape] },
          needsGradient: () => gradX,
        });
        const run = (xx: Tensor, wts: Tensor[]) => (c.fused ? def.forwardFused!(ctxFor(wts), { in: [xx] }, 'relu') : def.forward!(ctxFor(wts), { in: [xx] })).out!;
        const ref = (xx: Tensor, wts: Tensor[]) => REFERENCE[c.kind]!(params, xx, Object.fromEntries(specs.map((s, i) => [s.name, wts[i]!])), c.fused);
        const ins = gradX ? [x, ...ws] : ws;
        const split = (ts: Tensor[]): [Tensor, Tensor[]] => (gradX ? [ts[0]!, ts.slice(1)] : [x, ts]);
        const fast = valueAndGrads((...ts) => run(...split(ts)), ins, r);
        const plain = valueAndGrads((...ts) => ref(...split(ts)), ins, r);
        fast.forEach((t, i) => expectClose(t, plain[i]!, `${c.kind} ${i === 0 ? 'value' : `gradient ${i}`} (gradient into x: ${gradX})`));
        tf.dispose([...fast, ...plain]);
      }
      tf.dispose([x, ...ws, r]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('Program skips the input gradient of the first layer only: weight and probe gradients equal the unfused plain graph', async () => {
      const g = new GraphBuilder('fast program');
      g.add('dataset', 'data', { source: 'blobs', samples: 40, classes: 3, seed: 2 });
      const out = g.chain('data.x', [
        ['dense', 'fc1', { units: 8, initializer: 'heNormal' }],
        ['relu', 'r1'],
        ['maxout', 'mx', { units: 6, pieces: 2 }],
        ['rbf', 'rb', { units: 5 }],
        ['dense', 'fc2', { units: 3 }],
      ]);
      g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
      g.add('sgd', 'opt').wire('loss.loss', 'opt.loss');
      const compiled = compilePlan(g.build());
      if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
      const plan = compiled.plan;
      const program = new Program(tf, plan, createRng(9));
      const rng = createRng(4);
      const before = tf.memory().numTensors;
      const x = randn(rng, [10, 2]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3).toFloat());
      const vars = program.trainable.map((w) => w.variable);
      const edge = plan.instrumentedEdges.find((e) => e.source === 'data')!;
      const gradsOf = (withProbe: boolean, fuse: boolean) =>
        tf.tidy(() => {
          const probe = tf.zeros(x.shape);
          const probes = withProbe ? new Map([[edge.edgeId, probe]]) : undefined;
          const f = (...ts: Tensor[]) => program.forward({ x, y, training: true, seed: () => 1, weights: ts.slice(0, vars.length), ...(probes ? { probes } : {}), fuse }).objective as tf.Scalar;
          const { value, grads } = tf.valueAndGrads(f)([...vars, ...(withProbe ? [probe] : [])]);
          return [value, ...grads];
        });
      // The reference: tfjs's own matMul gradients, through the plain ops of every kind.
      const plain = tf.tidy(() => {
        const probe = tf.zeros(x.shape);
        const f = (...ts: Tensor[]) => {
          const [k1, b1, k2, b2, c, lb, k3, b3] = ts;
          const h1 = tf.relu(REFERENCE.dense!({}, tf.add(x, ts[8]!), { kernel: k1!, bias: b1! }, false));
          const h2 = REFERENCE.maxout!({ units: 6, pieces: 2 }, h1, { kernel: k2!, bias: b2! }, false);
          const h3 = REFERENCE.rbf!({}, h2, { centers: c!, logBeta: lb! }, false);
          const z = REFERENCE.dense!({}, h3, { kernel: k3!, bias: b3! }, false);
          return tf.losses.softmaxCrossEntropy(y, z) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)([...vars, probe]);
        return [value, ...grads];
      });
      expect(program.trainable.map((w) => `${w.nodeId}.${w.name}`)).toEqual(['fc1.kernel', 'fc1.bias', 'mx.kernel', 'mx.bias', 'rb.centers', 'rb.logBeta', 'fc2.kernel', 'fc2.bias']);
      for (const fuse of [true, false]) {
        const fast = gradsOf(false, fuse);
        fast.forEach((t, i) => expectClose(t, plain[i]!, `fuse ${fuse}: ${i === 0 ? 'loss' : program.trainable[i - 1]!.variable.name}`));
        const probed = gradsOf(true, fuse);
        probed.forEach((t, i) => expectClose(t, plain[i]!, `probe on the input, fuse ${fuse}: ${i === 0 ? 'loss' : i <= vars.length ? program.trainable[i - 1]!.variable.name : 'probe'}`));
        tf.dispose([...fast, ...probed]);
      }
      // One product fewer without the probe: dL/dx of the first layer, which nothing needs.
      const products = async (withProbe: boolean) => {
        const p = await tf.profile(() => tf.dispose(gradsOf(withProbe, true)));
        return p.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul').length;
      };
      expect(await products(true)).toBe((await products(false)) + 1);
      tf.dispose([...plain, x, y]);
      expect(tf.memory().numTensors).toBe(before);
      program.dispose();
    });
  });
}
