/** Graphs and trained weights shared by the experiments' tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import type { ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import { loadGraph } from '../../core/io/load.ts';
import { createRng } from '../../core/data/rng.ts';
import { Trainer } from '../../core/train/trainer.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function example(name: string): GraphDocument {
  const r = loadGraph(readFileSync(join(ROOT, 'examples', `${name}.nngraph`)));
  if (!r.ok) throw r.error;
  return r.document;
}

/** The document with weights trained for `steps` optimizer steps (and nothing else changed). */
export async function trained(tf: TF, doc: GraphDocument, steps: number): Promise<GraphDocument> {
  const t = Trainer.create(tf, doc, { maxSteps: steps, instrument: false });
  await t.run();
  const weights = await t.exportWeights();
  t.dispose();
  return { ...doc, weights };
}

/** A small classifier: moons → Dense(h) → ReLU → [BatchNorm] → Dense(2) → softmax cross-entropy. */
export function smallNet(o: { hidden?: number; batchNorm?: boolean; samples?: number; optimizer?: Record<string, ParamValue> } = {}): GraphDocument {
  const g = new GraphBuilder('small net');
  g.add('dataset', 'data', { source: 'moons', samples: o.samples ?? 200, noise: 0.1, validationFraction: 0.2, batchSize: 32, seed: 3 });
  const layers: [string, string, Record<string, ParamValue>?][] = [['dense', 'fc1', { units: o.hidden ?? 8 }], ['relu', 'act']];
  if (o.batchNorm) layers.push(['batchNorm', 'bn']);
  layers.push(['dense', 'fc2', { units: 2 }]);
  const out = g.chain('data.x', layers);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.02, epochs: 20, ...o.optimizer }).wire('loss.loss', 'optimizer.loss');
  return g.build();
}

/**
 * y = Xw (+ b) with MSE on a table of three correlated features, full batch, SGD: a model
 * whose Hessian is known in closed form, 2X̃ᵀX̃/n (X̃ with a column of ones when `bias`).
 */
export function linearRegression(bias: boolean): GraphDocument {
  const rng = createRng(11);
  const rows = ['a,b,c,t'];
  for (let i = 0; i < 60; i++) {
    const a = rng.normal();
    const b = 0.8 * a + 0.5 * rng.normal();
    const c = 2 * rng.normal() + 1;
    rows.push(`${a},${b},${c},${a - 2 * b + 0.5 * c + 0.1 * rng.normal()}`);
  }
  const g = new GraphBuilder('linear regression');
  g.add('tableDataset', 'data', { data: rows.join('\n'), fileName: 'lr.csv', features: ['a', 'b', 'c'], label: 't', task: 'regression', normalization: 'none', validationFraction: 0, batchSize: 0 });
  g.add('dense', 'fc', { units: 1, bias }).wire('data.x', 'fc.in');
  g.add('meanSquaredError', 'loss').wire('fc.out', 'loss.pred').wire('data.y', 'loss.target');
  g.add('sgd', 'opt', { learningRate: 0.01, epochs: 1 }).wire('loss.loss', 'opt.loss');
  return g.build();
}
