/**
 * Shared by the course's comparisons (skip connections, width, initialization): variants of
 * the user's graph made by editing the document (never by a second model definition), each
 * trained from its initial weights, and the 2-D filter-normalized loss surface around each
 * minimum on the same grid, as Li et al. 2018 draw them side by side (§6, Figures 5–6).
 */
import { z } from 'zod';
import { createRng } from '../data/rng.ts';
import { kindDef } from '../graph/catalogue.ts';
import { edgeId, type GraphDocument } from '../graph/document.ts';
import { int, num } from '../graph/params.ts';
import type { Trainer } from '../train/trainer.ts';
import { evaluateAlong, filterNormalizedDirection, linspace, round7 } from './directions.ts';
import type { ExperimentContext } from './framework.ts';

type Graph = Pick<GraphDocument, 'nodes' | 'edges'>;

/** Settings every comparison of surfaces shares. */
export const surfaceSettings = {
  epochs: int({ label: 'Epochs', help: 'Epochs of every run (0 = the optimizer’s).', default: 0, min: 0, max: 10_000 }),
  grid: int({ label: 'Grid', help: 'Each surface is grid × grid points.', default: 21, min: 3, max: 51 }),
  from: num({ label: 'From', help: 'Start of α and β (filter-normalized directions: ±1 is a step as large as each filter).', default: -1, min: -100, max: 100 }),
  to: num({ label: 'To', help: 'End of α and β.', default: 1, min: -100, max: 100 }),
  samples: int({ label: 'Samples', help: 'Training examples each point is evaluated on (a seeded subset, the same for every variant).', default: 1000, min: 1, max: 1_000_000 }),
};

const cells = z.array(z.number().nullable()).max(51 * 51);

/** One trained variant and the surface around its minimum. */
export const variantSurface = z.strictObject({
  label: z.string().max(200),
  /** Trainable weights of the variant. */
  parameters: z.number().int().min(0),
  steps: z.number().int().min(0),
  trainLoss: z.number().nullable(),
  valLoss: z.number().nullable(),
  /** 1 − validation accuracy (classification), or null. */
  testError: z.number().nullable(),
  /** Loss at the minimum itself (the surface's centre). */
  centerLoss: z.number(),
  /** Loss per grid point, row-major like the landscape's; null where not computed. */
  loss: cells,
  accuracy: cells.nullable(),
});
export type VariantSurface = z.infer<typeof variantSurface>;

/** The result of a comparison of surfaces: one grid, one surface per variant. */
export const surfacesData = z
  .strictObject({
    xs: z.array(z.number()).max(51),
    ys: z.array(z.number()).max(51),
    variants: z.array(variantSurface).max(8),
    samples: z.number().int().min(1),
  })
  .superRefine((d, ctx) => {
    d.variants.forEach((v, i) => {
      if (v.loss.length !== d.xs.length * d.ys.length) ctx.addIssue({ code: 'custom', message: `the grid has ${d.xs.length * d.ys.length} points but variant ${i + 1} has ${v.loss.length} losses`, path: ['variants', i, 'loss'] });
    });
  });
export type SurfacesData = z.infer<typeof surfacesData>;

/**
 * Train each variant from its initial weights (the graph's seed: the same data order for
 * all) and evaluate the 2-D surface around its minimum, with directions and examples drawn
 * from the experiment's seed. Progress: three units per variant (training, surface, done).
 */
export async function compareSurfaces(ctx: ExperimentContext, variants: { label: string; doc: Graph }[], s: { epochs: number; grid: number; from: number; to: number; samples: number }): Promise<SurfacesData> {
  const tf = ctx.tf;
  const root = createRng(ctx.seed);
  const subsetSeed = root.int(2 ** 31 - 1);
  const directionSeed = root.int(2 ** 31 - 1);
  const xs = linspace(s.from, s.to, s.grid);
  const ys = linspace(s.from, s.to, s.grid);
  const coords = ys.flatMap((b) => xs.map((a) => [a, b]));
  const done: VariantSurface[] = [];
  let samples = 1;
  const total = variants.length * 2;
  const snapshot = (current?: VariantSurface): SurfacesData => ({ xs: xs.map(round7), ys: ys.map(round7), variants: [...done, ...(current ? [current] : [])].map((v) => ({ ...v, loss: [...v.loss], accuracy: v.accuracy ? [...v.accuracy] : null })), samples });
  for (const [i, v] of variants.entries()) {
    await ctx.checkpoint();
    const t = ctx.trainer({ doc: v.doc, weights: null, options: s.epochs > 0 ? { epochs: s.epochs } : {} });
    const record = await ctx.train(t);
    ctx.progress(2 * i + 1, total);
    const entry = await summary(t, v.label, record.epochs[record.epochs.length - 1]?.trainLoss ?? null, coords.length);
    const set = t.evaluationSet(s.samples, subsetSeed);
    samples = set.n;
    const theta = t.cloneTrainable();
    const rng = createRng(directionSeed);
    const dirs = [filterNormalizedDirection(tf, theta, rng), filterNormalizedDirection(tf, theta, rng)];
    try {
      const center = tf.tidy(() => t.evaluateOn(set, theta).loss);
      entry.centerLoss = round7((await center.data())[0]!);
      center.dispose();
      await evaluateAlong(ctx, t, set, theta, dirs, coords, (n, values) => {
        for (const { index, value } of values) {
          entry.loss[index] = round7(value.loss);
          if (entry.accuracy) entry.accuracy[index] = value.accuracy === null ? null : round7(value.accuracy);
        }
        ctx.progress(2 * i + 1 + n / coords.length, total, snapshot(entry));
      });
      done.push(entry);
    } finally {
      for (const x of [set.x, set.y, ...theta, ...dirs.flat()]) x.dispose();
    }
  }
  return snapshot();
}

/** A trained variant's figures, with an empty surface of `cells` points. */
async function summary(t: Trainer, label: string, trainLoss: number | null, cellCount: number): Promise<VariantSurface> {
  const val = await t.validate();
  return {
    label,
    parameters: t.program.trainable.reduce((n, w) => n + w.variable.size, 0),
    steps: t.step,
    trainLoss: trainLoss === null ? null : round7(trainLoss),
    valLoss: val.loss === null ? null : round7(val.loss),
    testError: val.accuracy === null ? null : round7(1 - val.accuracy),
    centerLoss: 0,
    loss: new Array(cellCount).fill(null),
    accuracy: t.plan.task === 'classification' ? new Array(cellCount).fill(null) : null,
  };
}

/**
 * Strict local minima of a surface on its grid (row-major, `nx` columns): points lower than
 * every computed neighbour of the 8 around them. A convex bowl has one; Li et al. call the
 * surfaces of deep nets without skips "chaotic" for their many, which this counts.
 */
export function localMinima(loss: readonly (number | null)[], nx: number, ny: number): number {
  let count = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = loss[j * nx + i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      let lowest = true;
      for (let dj = -1; dj <= 1 && lowest; dj++) {
        for (let di = -1; di <= 1; di++) {
          if ((di || dj) && i + di >= 0 && i + di < nx && j + dj >= 0 && j + dj < ny) {
            const w = loss[(j + dj) * nx + i + di];
            if (w !== null && w !== undefined && w <= v) {
              lowest = false;
              break;
            }
          }
        }
      }
      if (lowest) count++;
    }
  }
  return count;
}

/** Lines for the terminal: one per variant. */
export function describeSurfaces(d: SurfacesData): string[] {
  return d.variants.map((v) => {
    const finite = v.loss.filter((x): x is number => x !== null && Number.isFinite(x));
    const shape = finite.length ? `surface max ${Math.max(...finite).toPrecision(4)}, ${localMinima(v.loss, d.xs.length, d.ys.length)} local minima` : 'no surface';
    return `${v.label.padEnd(28)} ${v.testError !== null ? `test error ${(v.testError * 100).toFixed(1)}%` : `val loss ${v.valLoss?.toFixed(4) ?? '—'}`}  loss at minimum ${v.centerLoss.toPrecision(4)}, ${shape}  (${v.parameters} weights, ${v.steps} steps)`;
  });
}

// ---------------------------------------------------------------------------------------------
// Variants of a graph, by editing the document

/** Ids of the nodes upstream of `id` (its ancestors), `id` excluded. */
function ancestors(doc: Graph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const n = stack.pop()!;
    for (const e of doc.edges) {
      if (e.target === n && !seen.has(e.source)) {
        seen.add(e.source);
        stack.push(e.source);
      }
    }
  }
  return seen;
}

/**
 * The residual Adds of a graph: Add nodes with two inputs where one input's source is upstream
 * of the other's (x + F(x): the skip carries x past the layers of F). Each comes with its skip
 * edge and the edge of the branch F(x).
 */
export function residualAdds(doc: Graph): { add: string; skip: GraphDocument['edges'][number]; branch: GraphDocument['edges'][number] }[] {
  const found: ReturnType<typeof residualAdds> = [];
  for (const n of doc.nodes) {
    if (n.kind !== 'add') continue;
    const ins = doc.edges.filter((e) => e.target === n.id);
    if (ins.length !== 2) continue;
    const [a, b] = ins as [GraphDocument['edges'][number], GraphDocument['edges'][number]];
    if (ancestors(doc, b.source).has(a.source)) found.push({ add: n.id, skip: a, branch: b });
    else if (ancestors(doc, a.source).has(b.source)) found.push({ add: n.id, skip: b, branch: a });
  }
  return found;
}

/**
 * The graph without its skip connections (Li et al.'s ResNet-NS): every residual Add is
 * removed and what it fed is fed by the branch F(x) alone, so the layers and their weights
 * stay the same and only the short paths go.
 */
export function withoutSkips(doc: Graph): Graph {
  let out: Graph = doc;
  for (const { add, branch } of residualAdds(doc)) {
    const feeds = out.edges.filter((e) => e.source === add);
    out = {
      nodes: out.nodes.filter((n) => n.id !== add),
      edges: [
        ...out.edges.filter((e) => e.source !== add && e.target !== add),
        ...feeds.map((e) => ({ ...e, id: edgeId(branch.source, branch.sourcePort, e.target, e.targetPort), source: branch.source, sourcePort: branch.sourcePort })),
      ],
    };
  }
  return out;
}

/** The width parameter of a node's kind (Dense: units, Conv2D: filters), if it has one. */
const widthOf = (kind: string): string | undefined => kindDef(kind)?.widthParam;

/**
 * Ids of the output layers: the first layers with a width found walking back from the loss's
 * prediction (through activations, normalization, Dropout): the task fixes their size.
 */
function outputLayers(doc: Graph): Set<string> {
  const lossIds = new Set(doc.nodes.filter((n) => kindDef(n.kind)?.role === 'loss').map((n) => n.id));
  const found = new Set<string>();
  const stack = doc.edges.filter((e) => lossIds.has(e.target) && e.targetPort === 'pred').map((e) => e.source);
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = doc.nodes.find((n) => n.id === id);
    if (!node) continue;
    if (widthOf(node.kind)) {
      found.add(id);
      continue;
    }
    for (const e of doc.edges) if (e.target === id) stack.push(e.source);
  }
  return found;
}

/**
 * The graph k times as wide: the width of every hidden layer (Dense units, Conv2D filters:
 * the kinds' `widthParam`) times k, the output layer as it is (the task fixes it), as Li et
 * al. widen ResNets by k.
 */
export function withWidth(doc: Graph, k: number): Graph {
  const keep = outputLayers(doc);
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const param = widthOf(n.kind);
      const value = param === undefined ? undefined : n.params[param];
      return keep.has(n.id) || param === undefined || typeof value !== 'number' ? n : { ...n, params: { ...n.params, [param]: value * k } };
    }),
  };
}

/** Whether the graph has hidden layers whose width `withWidth` changes. */
export function widenable(doc: Graph): boolean {
  const keep = outputLayers(doc);
  return doc.nodes.some((n) => !keep.has(n.id) && widthOf(n.kind) !== undefined);
}

/** Whether a node's kind has an initializer choice (Dense, Maxout, Conv2D). */
export const hasInitializer = (kind: string): boolean => 'initializer' in (kindDef(kind)?.params ?? {});

/** The graph with every layer that has an initializer (Dense, Maxout, Conv2D) set to this one. */
export function withInitializer(doc: Graph, initializer: string, sigma?: number): Graph {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => (hasInitializer(n.kind) ? { ...n, params: { ...n.params, initializer, ...(sigma === undefined ? {} : { sigma }) } } : n)),
  };
}
