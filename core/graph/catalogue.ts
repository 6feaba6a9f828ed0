/**
 * The node catalogue: every kind Gradflow knows, defined once. The palette, the inspector,
 * validation, shape inference, the file schema and the compiler all read it from here.
 */
import * as activations from './kinds/activations.ts';
import * as conv from './kinds/conv.ts';
import * as data from './kinds/data.ts';
import * as layers from './kinds/layers.ts';
import * as losses from './kinds/losses.ts';
import * as normalization from './kinds/normalization.ts';
import * as optimizers from './kinds/optimizers.ts';
import * as regularization from './kinds/regularization.ts';
import * as table from './kinds/table.ts';
import type { GraphNode } from './document.ts';
import { CATEGORIES, type AnyKindDef, type Category } from './types.ts';

const ALL: AnyKindDef[] = [
  data.dataset,
  table.tableDataset,
  data.input,
  layers.dense,
  layers.rbf,
  layers.maxout,
  conv.conv2dKind,
  conv.maxPool2d,
  conv.avgPool2d,
  conv.globalAvgPool2d,
  layers.flatten,
  layers.reshape,
  layers.add,
  layers.concat,
  activations.relu,
  activations.leakyRelu,
  activations.prelu,
  activations.absRect,
  activations.sigmoid,
  activations.tanh,
  activations.softmax,
  activations.linear,
  activations.softplus,
  activations.elu,
  regularization.dropout,
  regularization.dropConnect,
  regularization.gaussianNoise,
  regularization.l1,
  regularization.l2,
  regularization.labelSmoothing,
  regularization.labelNoise,
  regularization.earlyStopping,
  normalization.batchNorm,
  normalization.layerNorm,
  losses.softmaxCE,
  losses.binaryCE,
  losses.mse,
  optimizers.sgd,
  optimizers.momentum,
  optimizers.nesterov,
  optimizers.adagrad,
  optimizers.rmsprop,
  optimizers.adam,
];

const BY_KIND: ReadonlyMap<string, AnyKindDef> = new Map(ALL.map((d) => [d.kind, d]));
if (BY_KIND.size !== ALL.length) throw new Error('node catalogue: duplicate kind');

/** All node kinds, in palette order. */
export const catalogue: readonly AnyKindDef[] = ALL;

/** The definition of a kind, or undefined for a kind this version does not know. */
export function kindDef(kind: string): AnyKindDef | undefined {
  return BY_KIND.get(kind);
}

/** Kinds grouped by category, in palette order. */
export function kindsByCategory(): { category: Category; kinds: AnyKindDef[] }[] {
  return CATEGORIES.map((category) => ({ category, kinds: ALL.filter((d) => d.category === category) }));
}

const TABLE_KINDS = ALL.filter((d) => d.data?.holdsImportedTable);
if (TABLE_KINDS.length !== 1) throw new Error('node catalogue: exactly one data kind must hold imported tables');

/** The data kind an imported CSV/JSON table goes into (DataSourceDef.holdsImportedTable). */
export const TABLE_KIND: AnyKindDef = TABLE_KINDS[0]!;

/**
 * The DropConnect rate masking a node's kernel: the rate of the node wired into its `in` port
 * when that node is a DropConnect (its kind has `dropConnectRate`) and this kind accepts one;
 * 0 otherwise (validation reports a DropConnect anywhere else). The compiler and the
 * exporters both ask here, so training and an exported model mask the same kernels.
 */
export function dropConnectRateOf(def: AnyKindDef, feeder: GraphNode | undefined): number {
  const feederDef = feeder && kindDef(feeder.kind);
  return feeder && feederDef?.dropConnectRate && def.acceptsDropConnect ? feederDef.dropConnectRate(feeder.params) : 0;
}
