/** Data nodes: where tensors enter the graph. */
import { buildDataset, needsMnist } from '../../data/dataset.ts';
import { datasetInfo, datasetProblems } from '../../data/info.ts';
import { DATASET_SOURCES, REGRESSION_FUNCTIONS, TARGET_ENCODINGS, type DatasetParams } from '../../data/types.ts';
import { int, num, oneOf, shape } from '../params.ts';
import { defineKind, type DataSourceDef } from '../types.ts';
import { error } from './util.ts';

/** Batch size, shared by every data source: the course's GD, SGD and mini-batch SGD in one setting. */
export const batchSizeParam = int({
  label: 'Batch size',
  help: '0 = full batch (gradient descent), 1 = single-sample SGD, otherwise mini-batch SGD.',
  default: 32,
  min: 0,
  max: 100_000,
});

/**
 * A data kind's ports: no inputs; a batch's inputs on x and its targets on y. The names are
 * the contract: analysis follows features from x and targets from y, and the exporters take
 * the model's input from x.
 */
export function datasetPorts(help: { x: string; y: string }) {
  return {
    inputs: [],
    outputs: [
      { name: 'x', label: 'x', type: 'tensor' as const, help: help.x },
      { name: 'y', label: 'y', type: 'tensor' as const, help: help.y },
    ],
  };
}

const usesClasses = (p: Record<string, unknown>) => p.source === 'spirals' || p.source === 'blobs';

// Typed with the data module's params (the specs above type `source` as a plain string).
const datasetSource: DataSourceDef<DatasetParams> = {
  needs: (p) => (needsMnist(p) ? ['mnist'] : []),
  describe: (p) => ({ source: p.source, samples: p.samples }),
  build: (p, resources) => buildDataset(p, resources.mnist),
};

export const dataset = defineKind({
  kind: 'dataset',
  title: 'Dataset',
  category: 'Data',
  role: 'dataset',
  description:
    'Training data: inputs on x and targets on y. Synthetic 2-D classification sets, a 1-D regression of f*(x), or 10,000 real MNIST digits; split into training and validation sets.',
  ...datasetPorts({ x: 'Input features of a batch', y: 'Targets of the same batch (one-hot classes, 0/1, or values)' }),
  params: {
    source: oneOf({
      label: 'Source',
      help: 'Which data to use.',
      options: DATASET_SOURCES,
      default: 'spirals',
      optionLabels: {
        spirals: 'Spirals',
        circles: 'Circles',
        xor: 'XOR',
        blobs: 'Gaussian blobs',
        moons: 'Two moons',
        regression: '1-D regression of f*(x)',
        mnist: 'MNIST digits (28×28)',
      },
    }),
    samples: int({ label: 'Samples', help: 'Number of examples (MNIST: at most 10,000).', default: 500, min: 4, max: 100_000 }),
    noise: num({ label: 'Noise', help: 'Standard deviation of the Gaussian noise added to the data.', default: 0.1, min: 0, max: 10 }),
    classes: int({
      label: 'Classes',
      help: 'Number of classes (spiral arms or blobs).',
      default: 2,
      min: 2,
      max: 10,
      visibleWhen: usesClasses,
    }),
    fn: oneOf({
      label: 'f*(x)',
      help: 'The function the regression samples, on x in [-1, 1].',
      options: REGRESSION_FUNCTIONS,
      default: 'sin',
      optionLabels: {
        sin: 'sin(πx)',
        cubic: 'x³ − x/2',
        abs: '|x|',
        step: 'step at 0',
        sinc: 'sin(5x)/(5x)',
        quadratic: 'x²',
      },
      visibleWhen: (p) => p.source === 'regression',
    }),
    validationFraction: num({
      label: 'Validation fraction',
      help: 'Share of the examples held out to measure generalization (and for early stopping).',
      default: 0.2,
      min: 0,
      max: 0.9,
    }),
    batchSize: batchSizeParam,
    seed: int({ label: 'Seed', help: 'Seed of the random generator: the same seed gives the same data and run.', default: 1, min: 0, max: 2 ** 31 - 1 }),
    targetEncoding: oneOf({
      label: 'Target encoding',
      help: 'One-hot vectors (for softmax cross-entropy), or a single 0/1 value for two classes (for binary cross-entropy).',
      options: TARGET_ENCODINGS,
      default: 'onehot',
      optionLabels: { onehot: 'One-hot', binary: 'Binary 0/1' },
      visibleWhen: (p) => p.source !== 'regression',
    }),
  },
  infer(ctx) {
    const p = ctx.params as DatasetParams;
    const info = datasetInfo(p);
    const issues = datasetProblems(p).map((message) => error('param/dataset', `Dataset ${ctx.name}: ${message}`));
    return { outputs: { x: info.xShape, y: info.yShape }, issues, dataset: info };
  },
  data: datasetSource,
});

export const input = defineKind({
  kind: 'input',
  title: 'Input',
  category: 'Data',
  role: 'input',
  description: 'An input of an explicit shape, for sketching a network that is not bound to a dataset. Such a graph can be checked but not trained.',
  inputs: [],
  outputs: [{ name: 'x', label: 'x', type: 'tensor' }],
  params: {
    shape: shape({ label: 'Shape', help: 'Shape of one example, without the batch dimension, e.g. [784] or [28, 28].', default: [2] }),
  },
  infer(ctx) {
    return { outputs: { x: [...ctx.params.shape] } };
  },
  // A LayersModel's input: batch_input_shape [null, ...shape].
  fromKeras: {
    classNames: ['InputLayer'],
    read: (l) => {
      const s = l.config.batch_input_shape ?? l.config.batch_shape;
      if (!Array.isArray(s) || s.length < 2 || !s.slice(1).every((d) => typeof d === 'number' && d > 0)) throw new Error(`its batch_input_shape is ${JSON.stringify(s) ?? 'missing'}; Gradflow needs a fixed size for every dimension but the batch`);
      return { params: { shape: s.slice(1) as number[] } };
    },
  },
});
