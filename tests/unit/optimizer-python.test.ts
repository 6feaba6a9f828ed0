/**
 * Every optimizer and penalty kind carries its Python beside its TF.js rule, and the two are
 * the same computation: the exported train.py runs the kinds' own Python, so a kind's Python
 * that drifts from its rule (another formula, another float32 order, a slot in another
 * order) breaks the exported training's match with Gradflow. The tables loop over the
 * catalogue, so a new optimizer or penalty kind without Python fails here by name.
 * (tests/unit/export-pytorch.test.ts compares whole training runs.)
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { catalogue, kindDef } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { defaultParams } from '../../core/graph/params.ts';
import type { AnyKindDef, TF } from '../../core/graph/types.ts';
import { exportPytorch } from '../../core/io/export/pytorch.ts';
import { optimizerPy, penaltyTermsPy, PY_SCALARS } from '../../core/io/export/pytorch-train.ts';
import { initialWeights } from '../../core/io/weights.ts';
import { createOptimizer, optimizerSettings } from '../../core/train/optimizers.ts';
import { havePython, python } from './helpers/python.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const optimizerKinds = catalogue.filter((d) => d.role === 'optimizer');
const penaltyKinds = catalogue.filter((d) => d.role === 'penalty');

describe('every optimizer and penalty kind has its Python (the exported train.py runs it)', () => {
  it.each(optimizerKinds.map((d) => [d.kind, d] as const))('%s has a torch form of its update rule', (_kind, def) => {
    expect(def.optimizer?.torch?.update, `${def.title}: write its rule's Python (optimizer.torch) beside its TF.js step in core/graph/kinds/`).toBeTruthy();
    expect(() => optimizerPy(def)).not.toThrow();
  });

  it.each(penaltyKinds.map((d) => [d.kind, d] as const))('%s has a torchPenalty form of its term', (_kind, def) => {
    expect(def.torchPenalty, `${def.title}: write its term's Python (torchPenalty) beside its TF.js penalty in core/graph/kinds/`).toBeTruthy();
    expect(() => penaltyTermsPy([def])).not.toThrow();
  });
});

/** Hyper-parameters away from the defaults (and a large δ), so a swapped or ignored one shows. */
const HYPER = { momentum: 0.8, rho: 0.85, beta1: 0.7, beta2: 0.95, epsilon: 1e-3 };
/** λ per step: it changes (schedules), and stays the same for two steps (the cached scalar). */
const RATES = [0.1, 0.05, 0.05, 0.02, 0.3];
const SHAPES = [[3, 4], [5]];

interface OptimizerCase {
  kind: string;
  python: string;
  hyper: Record<string, number | string>;
  init: { shape: number[]; values: number[] }[];
  steps: { lr: number; grads: number[][] }[];
}

/** Seeded weights and gradients for every optimizer kind (some gradient entries exactly 0). */
function optimizerCase(def: AnyKindDef, seed: number): OptimizerCase {
  const rng = createRng(seed);
  const values = (shape: number[], zeros: boolean) =>
    Array.from(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (zeros && i % 4 === 1 ? 0 : rng.normal())));
  return {
    kind: def.kind,
    python: optimizerPy(def),
    hyper: { ...optimizerSettings(def.kind, HYPER) },
    init: SHAPES.map((shape) => ({ shape, values: values(shape, false) })),
    steps: RATES.map((lr) => ({ lr, grads: SHAPES.map((s) => values(s, true)) })),
  };
}

/** The TF.js rule (core/train/optimizers.ts running the kind's step) on a case: the weights after each step and the final state. */
function runTfjs(c: OptimizerCase): { weights: number[][][]; state: number[][][] } {
  const before = tf.memory().numTensors;
  // tidy frees the initial values; the variables (which tidy never tracks) keep their own.
  const vars = tf.tidy(() => c.init.map((w, i) => tf.variable(tf.tensor(w.values, w.shape), true, `python-rule-${c.kind}-${i}`)));
  const opt = createOptimizer(tf as unknown as TF, optimizerSettings(c.kind, HYPER));
  const weights: number[][][] = [];
  for (const step of c.steps) {
    tf.tidy(() => opt.apply(vars, step.grads.map((g, i) => tf.tensor(g, c.init[i]!.shape)), step.lr));
    weights.push(vars.map((v) => Array.from(v.dataSync())));
  }
  const slots = kindDef(c.kind)!.optimizer!.slots;
  const byName = new Map(opt.getState().map((s) => [s.name, Array.from(s.tensor.dataSync())]));
  const state = vars.map((v) => slots.map((slot) => byName.get(`${v.name}/${slot}`)!));
  opt.dispose();
  vars.forEach((v) => v.dispose());
  expect(tf.memory().numTensors).toBe(before);
  return { weights, state };
}

/** Runs each case's GradflowOptimizer (the class train.py has) in one Python process. */
const OPTIMIZER_DRIVER = `import json, math, sys, torch
cases = json.load(sys.stdin)
out = {}
for c in cases:
    ns = {"torch": torch, "math": math}
    exec(c["scalars"], ns)
    exec(c["python"], ns)
    params = [torch.tensor(w["values"], dtype=torch.float32).reshape(w["shape"]) for w in c["init"]]
    opt = ns["GradflowOptimizer"](params, c["hyper"])
    weights = []
    for step in c["steps"]:
        opt.step([torch.tensor(g, dtype=torch.float32).reshape(p.shape) for g, p in zip(step["grads"], params)], step["lr"])
        weights.append([p.flatten().tolist() for p in params])
    out[c["kind"]] = {"weights": weights, "state": [[s.flatten().tolist() for s in slots] for slots in opt.state]}
json.dump(out, sys.stdout)
`;

describe.skipIf(!havePython())('an optimizer kind’s Python is its TF.js rule, bit for bit (Debian python3-torch)', () => {
  // Kinds without Python fail the table above by name; here only those that have it run.
  const cases = optimizerKinds.filter((d) => d.optimizer?.torch).map((d, i) => optimizerCase(d, 11 + i));
  let fromPython: Record<string, { weights: number[][][]; state: number[][][] }> = {};
  beforeAll(() => {
    fromPython = JSON.parse(python(['-c', OPTIMIZER_DRIVER], { input: JSON.stringify(cases.map((c) => ({ ...c, scalars: PY_SCALARS }))) }));
  });

  // Both sides round every op to float32 (TF.js's cpu backend computes each op in float64 and
  // stores float32, which for + − × ÷ √ gives the float32 result), so the same ops in the same
  // order agree exactly; another order differs in the last bits and shows up here.
  it.each(cases.map((c) => [c.kind, c] as const))('%s: five steps with a changing λ give the same weights and state in Python as in TF.js', (kind, c) => {
    const expected = runTfjs(c);
    const got = fromPython[kind]!;
    expect(got.weights).toHaveLength(RATES.length);
    got.weights.forEach((w, step) => expect(w, `weights after step ${step + 1}`).toEqual(expected.weights[step]));
    expect(got.state, `state slots ${kindDef(kind)!.optimizer!.slots.join(', ') || '(none)'}`).toEqual(expected.state);
  });
});

/** Each penalty kind's term in Python for weight tensors, with its default params, a larger α and α = 0. */
const PENALTY_DRIVER = `import json, math, sys, torch
c = json.load(sys.stdin)
ns = {"torch": torch, "math": math}
exec(c["python"], ns)
terms = ns["PENALTY_TERMS"]
out = []
for p in c["cases"]:
    t = terms[p["kind"]](torch.tensor(p["w"], dtype=torch.float32), p["params"])
    out.append(None if t is None else t.item())
json.dump(out, sys.stdout)
`;

describe.skipIf(!havePython())('a penalty kind’s Python is its TF.js term (Debian python3-torch)', () => {
  it('gives the same term for every penalty kind, and None where the kind adds none', () => {
    const rng = createRng(5);
    const w = Array.from(Float32Array.from({ length: 300 }, () => rng.normal()));
    const withPython = penaltyKinds.filter((d) => d.torchPenalty !== undefined);
    const cases = withPython.flatMap((d) => {
      const params = defaultParams(d.params) as Record<string, unknown>;
      return [params, ...('alpha' in params ? [{ ...params, alpha: 0.3 }, { ...params, alpha: 0 }] : [])].map((p) => ({ kind: d.kind, def: d, params: p, w }));
    });
    const got = JSON.parse(python(['-c', PENALTY_DRIVER], { input: JSON.stringify({ python: penaltyTermsPy(withPython), cases: cases.map(({ def: _, ...c }) => c) }) })) as (number | null)[];
    const before = tf.memory().numTensors;
    cases.forEach((c, i) => {
      let expected: number | null = null;
      tf.tidy(() => {
        const t = c.def.penalty!(tf as unknown as TF, tf.tensor1d(c.w), c.params);
        expected = t === null ? null : t.dataSync()[0]!;
      });
      const what = `${c.def.title} with ${JSON.stringify(c.params)}`;
      if (expected === null) expect(got[i], what).toBeNull();
      // The sums are reduced in another order by torch than by TF.js: float32 rounding apart.
      else expect(Math.abs(got[i]! - expected) / Math.abs(expected), what).toBeLessThan(1e-6);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(cases.some((c) => c.params.alpha === 0)).toBe(true);
  });
});

describe('the PyTorch export names an optimizer or penalty whose kind has no Python', () => {
  function graph(): GraphDocument {
    const g = new GraphBuilder('no python');
    g.add('dataset', 'data', { source: 'xor', samples: 50, batchSize: 10, seed: 1 });
    const out = g.chain('data.x', [['dense', 'out', { units: 2 }]]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add(penaltyKinds[0]!.kind, 'decay', {}).wire('loss.loss', 'decay.loss');
    g.add(optimizerKinds[0]!.kind, 'opt', {}).wire('decay.loss', 'opt.loss');
    return g.build();
  }

  it('refuses it by node and kind, and exports once the kind has it', async () => {
    const doc = graph();
    const [opt, pen] = [kindDef(optimizerKinds[0]!.kind)!, kindDef(penaltyKinds[0]!.kind)!];
    const [torch, torchPenalty] = [opt.optimizer!.torch, pen.torchPenalty];
    try {
      // The catalogue's kinds all have Python (above): take it away from two of them.
      delete opt.optimizer!.torch;
      delete pen.torchPenalty;
      const r = await exportPytorch(doc, { weights: initialWeights(doc), trained: false });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.errors).toContain(`${opt.title} 'opt' cannot be exported to PyTorch: the ${opt.title} kind has no PyTorch form`);
        expect(r.errors).toContain(`${pen.title} 'decay' cannot be exported to PyTorch: the ${pen.title} kind has no PyTorch form`);
      }
    } finally {
      opt.optimizer!.torch = torch;
      pen.torchPenalty = torchPenalty;
    }
    const r = await exportPytorch(doc, { weights: initialWeights(doc), trained: false });
    expect(r.ok).toBe(true);
  });
});
