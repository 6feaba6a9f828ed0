/** Graphs for the benchmarks. */
import { GraphBuilder } from '../core/graph/builder.ts';
import type { GraphDocument } from '../core/graph/document.ts';

/** A deep residual MLP with `blocks` blocks of 6 nodes (Dense, BatchNorm, ReLU, Dense, Add, ReLU). */
export function bigGraph(blocks: number): GraphDocument {
  const g = new GraphBuilder(`${blocks * 6 + 6}-node residual MLP`);
  g.add('dataset', 'data', { source: 'spirals' });
  let prev = g.chain('data.x', [['dense', 'stem', { units: 32 }], ['relu', 'stem_relu']]);
  for (let b = 0; b < blocks; b++) {
    const out = g.chain(prev, [
      ['dense', `b${b}_fc1`, { units: 32 }],
      ['batchNorm', `b${b}_bn`],
      ['relu', `b${b}_relu1`],
      ['dense', `b${b}_fc2`, { units: 32 }],
    ]);
    g.add('add', `b${b}_add`).wire(out, `b${b}_add.in`).wire(prev, `b${b}_add.in`);
    prev = g.chain(`b${b}_add.out`, [['relu', `b${b}_relu2`]]);
  }
  prev = g.chain(prev, [['dense', 'head', { units: 2 }]]);
  g.add('softmaxCrossEntropy', 'loss').wire(prev, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
  return g.build();
}

