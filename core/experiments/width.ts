/**
 * Width and the loss landscape (Li et al. 2018 §6, "wider models are well behaved"): the
 * graph at widths k = 1, 2, 4 (every hidden Dense's units and every Conv2D's filters times k,
 * the output layer as it is, the depth the same), each trained from its initial weights; their
 * 2-D filter-normalized surfaces side by side on one grid, with their test errors.
 */
import { shape } from '../graph/params.ts';
import { rangeProblem } from './directions.ts';
import { defineExperiment } from './framework.ts';
import { compareSurfaces, describeSurfaces, surfaceSettings, surfacesData, widenable, withWidth } from './variants.ts';

const settings = {
  widths: shape({ label: 'Widths', help: 'The factors k the hidden layers are widened by, one run each (1 = the graph as it is).', default: [1, 2, 4] }),
  ...surfaceSettings,
};

export const width = defineExperiment({
  name: 'width',
  title: 'Width',
  summary: 'The graph at widths k = 1, 2, 4 (hidden units and filters times k), each trained from its initial weights: their 2-D loss surfaces side by side.',
  settings,
  dataVersion: 1,
  data: surfacesData,
  check(doc, s) {
    const range = rangeProblem(s);
    if (range) return range;
    if (!s.widths.length || s.widths.length > 8 || s.widths.some((k) => !Number.isInteger(k) || k < 1 || k > 64)) return `Widths must be 1 to 8 whole factors from 1 to 64, got [${s.widths.join(', ')}]`;
    if (!widenable(doc)) return 'the graph has no hidden Dense or Conv2D layer to widen (only its output layer)';
    return null;
  },
  weightsNote: (s) => `Trains the graph at widths ×${s.widths.join(', ×')} from their initial weights: the trained weights in the file are not used`,
  run: (ctx, s) => compareSurfaces(ctx, s.widths.map((k) => ({ label: `width ×${k}`, doc: withWidth(ctx.doc, k) })), s),
  describe: describeSurfaces,
});
