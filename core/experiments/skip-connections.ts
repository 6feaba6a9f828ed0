/**
 * Skip connections and the loss landscape (Li et al. 2018 §6, the course's ResNet vs
 * ResNet-NS figure): the graph as it is, with its residual Adds, and the same graph without
 * them (every x + F(x) becomes F(x): the same layers and weights, no short paths), each
 * trained from its initial weights; their 2-D filter-normalized surfaces side by side on one
 * grid, with their test errors. Run it on a deep residual net, e.g. examples/residual-deep-mlp.nngraph.
 */
import { compareSurfaces, describeSurfaces, residualAdds, surfaceSettings, surfacesData, withoutSkips } from './variants.ts';
import { rangeProblem } from './directions.ts';
import { defineExperiment } from './framework.ts';

export const skipConnections = defineExperiment({
  name: 'skipConnections',
  title: 'Skip connections',
  summary: 'The graph with and without its residual Adds, each trained from its initial weights: their 2-D loss surfaces side by side (ResNet vs ResNet-NS).',
  settings: surfaceSettings,
  dataVersion: 1,
  data: surfacesData,
  check(doc, s) {
    const range = rangeProblem(s);
    if (range) return range;
    if (!residualAdds(doc).length) return 'the graph has no skip connection (an Add of a tensor x and a later F(x)): open examples/residual-deep-mlp.nngraph, or add residual Adds';
    return null;
  },
  weightsNote: () => 'Trains the graph with and without its skip connections from their initial weights: the trained weights in the file are not used',
  run: (ctx, s) => {
    const adds = residualAdds(ctx.doc).length;
    return compareSurfaces(
      ctx,
      [
        { label: `with skips (${adds} Add${adds === 1 ? '' : 's'})`, doc: ctx.doc },
        { label: 'without skips', doc: withoutSkips(ctx.doc) },
      ],
      s,
    );
  },
  describe: describeSurfaces,
});
