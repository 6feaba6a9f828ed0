/**
 * Writes the example graphs in examples/. Run: npx tsx scripts/make-examples.ts
 * The files are committed; this script documents how they were made and keeps them consistent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../core/data/rng.ts';
import { tableToCsv } from '../core/data/table.ts';
import { GraphBuilder } from '../core/graph/builder.ts';
import type { GraphDocument } from '../core/graph/document.ts';
import type { ParamValue } from '../core/graph/params.ts';
import { saveGraph } from '../core/io/save.ts';

type Layer = [kind: string, id: string, params?: Record<string, ParamValue>];

/** Dataset -> layers -> loss (with y) -> [extra loss-path nodes] -> optimizer. */
function classifier(
  name: string,
  description: string,
  data: Record<string, ParamValue>,
  layers: Layer[],
  loss: string,
  optimizer: [string, Record<string, ParamValue>],
  lossPath: Layer[] = [],
): GraphDocument {
  const g = new GraphBuilder(name, description);
  g.add('dataset', 'data', data, { label: 'Data' });
  const out = g.chain('data.x', layers);
  g.add(loss, 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  let prev = 'loss.loss';
  for (const [kind, id, params] of lossPath) {
    g.add(kind, id, params ?? {}).wire(prev, `${id}.loss`);
    prev = `${id}.loss`;
  }
  g.add(optimizer[0], 'optimizer', optimizer[1]).wire(prev, 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

/**
 * Left-to-right columns by depth, one row of columns however long the chain: every wire then
 * runs from left to right. (Wrapping long chains onto a second band drew a wire from the end
 * of the first band back across the canvas to the start of the second.) Nodes at the same
 * depth stack downwards. tests/unit/layout.test.ts checks every example and Tidy up for it.
 */
function layout(doc: GraphDocument): void {
  const depth = new Map<string, number>();
  for (const n of doc.nodes) {
    const ins = doc.edges.filter((e) => e.target === n.id).map((e) => depth.get(e.source) ?? 0);
    depth.set(n.id, ins.length ? Math.max(...ins) + 1 : 0);
  }
  const rows = new Map<number, number>();
  for (const n of doc.nodes) {
    const d = depth.get(n.id)!;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    n.position = { x: d * 240, y: row * 140 };
  }
}

const mnist = { source: 'mnist', samples: 10000, validationFraction: 0.2, batchSize: 128, seed: 1 };
const mlp = (between: (i: number) => Layer[]): Layer[] => [
  ['flatten', 'flatten'],
  ['dense', 'fc1', { units: 256, initializer: 'heNormal' }],
  ...between(1),
  ['dense', 'fc2', { units: 128, initializer: 'heNormal' }],
  ...between(2),
  ['dense', 'fc3', { units: 10, initializer: 'glorotUniform' }],
];
const relu = (i: number): Layer[] => [['relu', `relu${i}`]];

function residual(): GraphDocument {
  const g = new GraphBuilder('Deep MLP with skip connections', 'Two residual blocks on the two-moons data: each block adds its input back to its output, so the gradient has a short path to the first layers.');
  g.add('dataset', 'data', { source: 'moons', samples: 600, noise: 0.1, batchSize: 32, seed: 3 }, { label: 'Data' });
  let prev = g.chain('data.x', [
    ['dense', 'stem', { units: 32, initializer: 'heNormal' }],
    ['relu', 'stem_relu'],
  ]);
  for (const b of [1, 2]) {
    const out = g.chain(prev, [
      ['dense', `b${b}_fc1`, { units: 32, initializer: 'heNormal' }],
      ['relu', `b${b}_relu1`],
      ['dense', `b${b}_fc2`, { units: 32, initializer: 'heNormal' }],
    ]);
    g.add('add', `b${b}_add`).wire(out, `b${b}_add.in`).wire(prev, `b${b}_add.in`);
    prev = g.chain(`b${b}_add.out`, [['relu', `b${b}_relu2`]]);
  }
  prev = g.chain(prev, [['dense', 'head', { units: 2 }]]);
  g.add('softmaxCrossEntropy', 'loss').wire(prev, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.005, epochs: 60 }).wire('loss.loss', 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

/**
 * A deep MLP for the course's landscape comparisons (Li et al. 2018 §6): a stem, `blocks`
 * blocks of two 16-unit Dense layers (12 Dense in all with the stem and the head), with or
 * without a residual Add around each block. The skip-connection experiment trains it with
 * and without the Adds; the width and initialization experiments run on the plain one.
 */
function deepMlp(skips: boolean): GraphDocument {
  const blocks = 5;
  const g = new GraphBuilder(
    skips ? 'Deep residual MLP (12 Dense)' : 'Deep ReLU MLP (12 Dense)',
    skips
      ? 'Twelve Dense layers on the two-moons data, with a skip connection around every pair: run the skip-connections experiment (gradflow experiment skipConnections FILE, or Experiments in the app) to compare its loss surface with the same net without skips.'
      : 'Twelve Dense layers of ReLU units on the two-moons data, one long path: run the width and initialization experiments on it (gradflow experiment width FILE / initialization FILE, or Experiments in the app).',
  );
  g.add('dataset', 'data', { source: 'moons', samples: 600, noise: 0.15, batchSize: 32, seed: 3 }, { label: 'Data' });
  let prev = g.chain('data.x', [
    ['dense', 'stem', { units: 16, initializer: 'heNormal' }],
    ['relu', 'stem_relu'],
  ]);
  for (let b = 1; b <= blocks; b++) {
    const out = g.chain(prev, [
      ['dense', `b${b}_fc1`, { units: 16, initializer: 'heNormal' }],
      ['relu', `b${b}_relu1`],
      ['dense', `b${b}_fc2`, { units: 16, initializer: 'heNormal' }],
    ]);
    if (skips) {
      g.add('add', `b${b}_add`).wire(out, `b${b}_add.in`).wire(prev, `b${b}_add.in`);
      prev = g.chain(`b${b}_add.out`, [['relu', `b${b}_relu2`]]);
    } else prev = g.chain(out, [['relu', `b${b}_relu2`]]);
  }
  prev = g.chain(prev, [['dense', 'head', { units: 2 }]]);
  g.add('softmaxCrossEntropy', 'loss').wire(prev, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.003, epochs: 20 }).wire('loss.loss', 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

/**
 * LeNet-5 (LeCun et al. 1998) as it is taught today: two 5×5 convolutions with ReLU and 2×2
 * max pooling, then three fully connected layers. Only the MNIST digits' channel axis is added.
 */
const LENET: Layer[] = [
  ['reshape', 'image', { shape: [28, 28, 1] }],
  // Wider than LeNet-5's 6 and 16 maps: with 8,000 training digits 6/16 stops at about
  // 97.8 % on the 2,000 held out, 16/32 reached 98.3 % in the same 15 epochs (README).
  ['conv2d', 'conv1', { filters: 16, kernelSize: [5, 5], padding: 'same' }],
  ['relu', 'relu1'],
  ['maxPool2d', 'pool1', { poolSize: [2, 2], stride: 2 }],
  ['conv2d', 'conv2', { filters: 32, kernelSize: [5, 5] }],
  ['relu', 'relu2'],
  ['maxPool2d', 'pool2', { poolSize: [2, 2], stride: 2 }],
  ['flatten', 'flatten'],
  ['dense', 'fc1', { units: 120, initializer: 'heNormal' }],
  ['relu', 'relu3'],
  // 8,000 training digits are few for 120k weights: Dropout keeps the dense layers from memorizing them.
  ['dropout', 'dropout', { rate: 0.5 }],
  ['dense', 'fc2', { units: 84, initializer: 'heNormal' }],
  ['relu', 'relu4'],
  ['dense', 'fc3', { units: 10, initializer: 'glorotUniform' }],
];

/**
 * A small residual CNN on MNIST, or the same network without its skip connections (the
 * comparison of Li et al. 2018's loss landscapes): a strided stem, two blocks of two 3×3
 * convolutions, global average pooling and a linear classifier.
 */
function residualCnn(skips: boolean): GraphDocument {
  const g = new GraphBuilder(
    skips ? 'Residual CNN on MNIST' : 'Plain CNN on MNIST (no skips)',
    skips
      ? 'Two residual blocks of 3×3 convolutions: each block adds its input to its output, so the gradient has a short path back to the first layers. Compare with the same network without skips.'
      : 'The residual CNN with its skip connections removed: the same layers and parameters, one long path. Compare its training and loss landscape with the residual one.',
  );
  g.add('dataset', 'data', mnist, { label: 'Data' });
  let prev = g.chain('data.x', [
    ['reshape', 'image', { shape: [28, 28, 1] }],
    ['conv2d', 'stem', { filters: 16, kernelSize: [5, 5], stride: 2, padding: 'same' }],
    ['relu', 'stem_relu'],
  ]);
  for (const b of [1, 2]) {
    const out = g.chain(prev, [
      ['conv2d', `b${b}_conv1`, { filters: 16, kernelSize: [3, 3], padding: 'same' }],
      ['relu', `b${b}_relu1`],
      ['conv2d', `b${b}_conv2`, { filters: 16, kernelSize: [3, 3], padding: 'same' }],
    ]);
    if (skips) {
      g.add('add', `b${b}_add`).wire(out, `b${b}_add.in`).wire(prev, `b${b}_add.in`);
      prev = g.chain(`b${b}_add.out`, [['relu', `b${b}_relu2`]]);
    } else prev = g.chain(out, [['relu', `b${b}_relu2`]]);
  }
  prev = g.chain(prev, [
    ['globalAvgPool2d', 'gap'],
    ['dense', 'head', { units: 10 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(prev, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.003, epochs: 5 }).wire('loss.loss', 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

function regression(): GraphDocument {
  const g = new GraphBuilder('1-D regression of f*(x) = sin(πx)', 'A small tanh network fits a noisy sine with mean squared error: a linear output unit gives the mean of a Gaussian.');
  g.add('dataset', 'data', { source: 'regression', fn: 'sin', samples: 300, noise: 0.05, batchSize: 32, seed: 5 }, { label: 'Data' });
  const out = g.chain('data.x', [
    ['dense', 'fc1', { units: 32, initializer: 'glorotNormal' }],
    ['tanh', 'tanh1'],
    ['dense', 'fc2', { units: 32, initializer: 'glorotNormal' }],
    ['tanh', 'tanh2'],
    ['dense', 'out', { units: 1 }],
  ]);
  g.add('meanSquaredError', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.01, epochs: 150 }).wire('loss.loss', 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

/**
 * Per-species means and standard deviations of Fisher's iris measurements (cm): sepal
 * length, sepal width, petal length, petal width.
 */
const IRIS_SPECIES: [name: string, mean: number[], std: number[]][] = [
  ['setosa', [5.006, 3.428, 1.462, 0.246], [0.352, 0.379, 0.174, 0.105]],
  ['versicolor', [5.936, 2.77, 4.26, 1.326], [0.516, 0.314, 0.47, 0.198]],
  ['virginica', [6.588, 2.974, 5.552, 2.026], [0.636, 0.322, 0.552, 0.275]],
];

/**
 * 150 synthetic flowers, 50 per species, drawn from independent Gaussians with the iris
 * statistics above and rounded to millimetres: data like the real set, made here rather
 * than downloaded. Stored in a Table dataset as an imported CSV would be.
 */
function irisLike(): GraphDocument {
  const rng = createRng(1936);
  const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'];
  const rows: string[][] = [];
  for (const [species, mean, std] of IRIS_SPECIES) {
    for (let i = 0; i < 50; i++) rows.push([...mean.map((m, f) => Math.max(0.1, m + std[f]! * rng.normal()).toFixed(1)), species]);
  }
  const data = tableToCsv({ columns, rows: rows.length, cells: columns.map((_, c) => rows.map((r) => r[c]!)) });
  const g = new GraphBuilder(
    'Iris-like flowers (a table)',
    "Your own data: a Table dataset holds a CSV of 150 flowers (synthetic, drawn with the per-species means and spreads of Fisher's iris data). Four measurements are the features, the species is the label; import your own CSV or JSON file the same way.",
  );
  g.add(
    'tableDataset',
    'data',
    { fileName: 'iris-like.csv', features: columns.slice(0, 4), label: 'species', task: 'classification', normalization: 'standardize', validationFraction: 0.2, batchSize: 16, seed: 1, data },
    { label: 'Flowers' },
  );
  const out = g.chain('data.x', [
    ['dense', 'hidden', { units: 16, initializer: 'heNormal' }],
    ['relu', 'relu'],
    ['dense', 'out', { units: 3 }],
  ]);
  g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'optimizer', { learningRate: 0.01, epochs: 60 }).wire('loss.loss', 'optimizer.loss');
  layout(g.doc);
  return g.build();
}

export const EXAMPLES: Record<string, GraphDocument> = {
  xor: classifier(
    'XOR',
    'The problem a linear model cannot solve: one hidden layer of tanh units learns it.',
    { source: 'xor', samples: 400, noise: 0.05, batchSize: 32, seed: 1 },
    [
      ['dense', 'hidden', { units: 8, initializer: 'glorotUniform' }],
      ['tanh', 'tanh'],
      ['dense', 'out', { units: 2 }],
    ],
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.03, epochs: 60 }],
  ),
  'spirals-deep-mlp': classifier(
    'Spirals with a deep MLP',
    'Two interleaved spirals need several layers of ReLU units; He initialization keeps the signal alive through the depth.',
    { source: 'spirals', samples: 800, noise: 0.05, classes: 2, batchSize: 32, seed: 2 },
    [
      ['dense', 'fc1', { units: 32, initializer: 'heNormal' }],
      ['relu', 'relu1'],
      ['dense', 'fc2', { units: 32, initializer: 'heNormal' }],
      ['relu', 'relu2'],
      ['dense', 'fc3', { units: 32, initializer: 'heNormal' }],
      ['relu', 'relu3'],
      ['dense', 'out', { units: 2 }],
    ],
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.01, epochs: 150 }],
  ),
  'mnist-mlp': classifier(
    'MNIST MLP',
    'The classic 784-256-128-10 multilayer perceptron on MNIST digits: ReLU units, softmax cross-entropy, Adam.',
    mnist,
    mlp(relu),
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.001, epochs: 5 }],
  ),
  'mnist-batchnorm': classifier(
    'MNIST with BatchNorm',
    'The MNIST MLP with BatchNorm before each non-linearity: compare its loss curve with the plain MLP.',
    mnist,
    mlp((i) => [['batchNorm', `bn${i}`], ...relu(i)]),
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.001, epochs: 5 }],
  ),
  'mnist-dropout': classifier(
    'MNIST with Dropout',
    'Dropout after each hidden layer drops units with probability 0.5 while training.',
    mnist,
    mlp((i) => [...relu(i), ['dropout', `dropout${i}`, { rate: 0.5 }]]),
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.001, epochs: 5 }],
  ),
  'mnist-dropconnect': classifier(
    'MNIST with DropConnect',
    'DropConnect drops single weights of the next Dense layer instead of whole units (Wan et al. 2013).',
    mnist,
    mlp((i) => [...relu(i), ['dropConnect', `dropconnect${i}`, { rate: 0.5 }]]),
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.001, epochs: 5 }],
  ),
  'mnist-lenet-300-100': classifier(
    'LeNet-300-100 (lottery tickets)',
    'The fully connected network of Frankle & Carbin (2019): 784-300-100-10 with ReLU, Adam at 1.2e-3, mini-batches of 60. Run the lottery-ticket experiment on it (gradflow experiment lottery FILE --preset quick, or Experiments in the app) to prune it round by round and compare winning tickets with random reinitialization and random pruning.',
    { ...mnist, batchSize: 60 },
    [
      ['flatten', 'flatten'],
      ['dense', 'fc1', { units: 300, initializer: 'glorotNormal' }],
      ['relu', 'relu1'],
      ['dense', 'fc2', { units: 100, initializer: 'glorotNormal' }],
      ['relu', 'relu2'],
      ['dense', 'fc3', { units: 10, initializer: 'glorotNormal' }],
    ],
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.0012, epochs: 2 }],
  ),
  'mnist-batchnorm-experiment': classifier(
    'BatchNorm experiment: deep MLP on MNIST',
    'Santurkar et al. (2018) on a deep MLP: five Dense(100) → BatchNorm → ReLU blocks on MNIST, SGD at 0.1, two epochs. Run the BatchNorm experiment on it (Experiments panel, or gradflow experiment batchnorm FILE): it trains Standard (BatchNorm bypassed), +BatchNorm and +Noisy BatchNorm from the same start and plots a layer input distribution, ICS ‖G − G′‖ and cos(G, G′), the loss variation, gradient predictiveness and β-smoothness along the gradient, gᵀHg/gᵀg and a learning-rate sweep. Measured (seed 1, wasm): with BatchNorm the landscape is smoother, as in the paper (max β 10–18 against 8–30 without, gᵀHg/gᵀg 1–4 against 1–31) and rate 1 trains (95.4 %) where Standard diverges. Where it disagrees: BatchNorm lowered ICS here (cos(G, G′) of fc5 0.78–0.94 against −0.44–0.95 without), and Noisy BatchNorm, whose input distributions do move, trained worse (79.3 % against 90.0 % validation), not as well as BatchNorm; on the shallower MNIST with BatchNorm example BatchNorm raised max β (36.8 against 24.4), as PyHessian reports for shallow nets.',
    mnist,
    [
      ['flatten', 'flatten'],
      ...[1, 2, 3, 4, 5].flatMap((i): Layer[] => [
        ['dense', `fc${i}`, { units: 100, initializer: 'heNormal' }],
        ['batchNorm', `bn${i}`],
        ['relu', `relu${i}`],
      ]),
      ['dense', 'out', { units: 10, initializer: 'glorotUniform' }],
    ],
    'softmaxCrossEntropy',
    ['sgd', { learningRate: 0.1, epochs: 2 }],
  ),
  'residual-mlp': residual(),
  'residual-deep-mlp': deepMlp(true),
  'deep-relu-mlp': deepMlp(false),
  'mnist-lenet': classifier(
    'LeNet-5 CNN on MNIST',
    'A LeNet-5-style convolutional network: 5×5 convolutions (16, then 32 filters) with ReLU and max pooling learn local strokes, then three dense layers (with Dropout) classify; Adam with a cosine learning-rate schedule. The Reshape gives each 28×28 digit its channel axis, [28, 28, 1].',
    { ...mnist, batchSize: 64 },
    LENET,
    'softmaxCrossEntropy',
    ['adam', { learningRate: 0.002, epochs: 15, schedule: 'cosine', minLearningRate: 0 }],
  ),
  'mnist-resnet': residualCnn(true),
  'mnist-plain-cnn': residualCnn(false),
  'regression-sin': regression(),
  'iris-like': irisLike(),
};

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = join(here, '..', 'examples');
  mkdirSync(dir, { recursive: true });
  for (const [name, doc] of Object.entries(EXAMPLES)) {
    writeFileSync(join(dir, `${name}.nngraph`), saveGraph(doc));
    console.log(`examples/${name}.nngraph`);
  }
}
