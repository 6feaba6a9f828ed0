/**
 * The trainer's pieces that experiments reuse on their own: early stopping, the run log,
 * fault messages and weights in and out of the document's block. The trainer's own tests
 * (trainer.test.ts) check them inside whole runs; these pin each piece's contract.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/compile/plan.ts';
import { Program } from '../../core/compile/program.ts';
import { createRng } from '../../core/data/rng.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { TF } from '../../core/graph/types.ts';
import { assignWeightsBlock, readWeightsBlock } from '../../core/io/program-weights.ts';
import { EarlyStopper } from '../../core/train/early-stopping.ts';
import { kernelFault, nonFiniteFault } from '../../core/train/faults.ts';
import { RunLog } from '../../core/train/run-log.ts';

const TFNS = tf as unknown as TF;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('EarlyStopper', () => {
  const weights = () => [tf.scalar(1)];

  it('stops after `patience` epochs without an improvement of minDelta, with the best epoch’s weights', () => {
    const before = tf.memory().numTensors;
    const es = new EarlyStopper({ patience: 2, minDelta: 0.1, restoreBest: true });
    expect(es.update(1.0, weights)).toBeNull();
    expect(es.update(0.8, () => [tf.scalar(8)])).toBeNull(); // an improvement of 0.2
    expect(es.update(0.75, weights)).toBeNull(); // 0.05 < minDelta: not an improvement
    const best = es.update(0.79, weights);
    expect(best).not.toBeNull();
    expect(best!.map((t) => t.dataSync()[0])).toEqual([8]);
    es.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps no copies without restoreBest', () => {
    const before = tf.memory().numTensors;
    const es = new EarlyStopper({ patience: 1, minDelta: 0, restoreBest: false });
    let copies = 0;
    expect(es.update(1, () => (copies++, weights()))).toBeNull();
    expect(es.update(2, weights)).toEqual([]);
    expect(copies).toBe(0);
    es.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('RunLog', () => {
  it('averages the step losses of each epoch and keeps every step', () => {
    const log = new RunLog();
    expect(log.takeEpochLoss()).toBeNaN();
    for (const v of [1, 2, 3]) log.addStepLoss(v);
    expect(log.lastLoss).toBe(3);
    expect(log.takeEpochLoss()).toBe(2);
    log.addStepLoss(5);
    expect(log.takeEpochLoss()).toBe(5);
  });
});

describe('faults', () => {
  it('name the value, the step, its epoch and the node', () => {
    const f = nonFiniteFault(7, 3, Infinity, 'loss', { nodeId: 'fc1', what: 'the kernel of Dense fc1' });
    expect(f).toMatchObject({ step: 7, epoch: 3, nodeId: 'fc1' });
    expect(f.message).toMatch(/^the loss became Infinity at step 7 \(epoch 3\); the first non-finite values are in the kernel of Dense fc1\./);
    expect(nonFiniteFault(1, 5, NaN, 'weights', null).message).toMatch(/^the weights became NaN or Infinity at step 1 \(epoch 1\)\. /);
  });

  it('translate a missing kernel and nothing else', () => {
    expect(kernelFault(new Error("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"), 4, 2)?.message).toBe(
      'the operation Conv2DBackpropFilter is not available on the wasm backend, so this graph cannot train there: choose another backend',
    );
    expect(kernelFault(new Error('out of memory'), 4, 2)).toBeNull();
  });
});

describe('weights in and out of the document block', () => {
  const doc = () => {
    const g = new GraphBuilder('weights io');
    g.add('dataset', 'data', { source: 'xor', samples: 64 });
    const out = g.chain('data.x', [['dense', 'fc1', { units: 3 }], ['tanh', 'act'], ['dense', 'out', { units: 2 }]]);
    g.add('softmaxCrossEntropy', 'loss').wire(out, 'loss.pred').wire('data.y', 'loss.target');
    g.add('sgd', 'opt').wire('loss.loss', 'opt.loss');
    return g.build();
  };
  let program: Program;
  beforeAll(() => {
    const compiled = compilePlan(doc());
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    program = new Program(TFNS, compiled.plan, createRng(3));
  });
  afterAll(() => program.dispose());

  it('reads every weight and loads it back; a block of another graph changes nothing and names the node', async () => {
    const block = await readWeightsBlock(program, { step: 5, epoch: 1, backend: 'cpu' });
    expect(block).toMatchObject({ step: 5, epoch: 1, backend: 'cpu' });
    expect(Object.keys(block.tensors).sort()).toEqual(['fc1', 'out']);
    const kernel = program.weight('fc1', 'kernel')!.variable;
    const saved = Array.from(kernel.dataSync());
    kernel.assign(tf.zerosLike(kernel));
    assignWeightsBlock(program, block);
    expect(Array.from(kernel.dataSync())).toEqual(saved);
    const stale = { ...block, tensors: { ...block.tensors, out: {} } };
    kernel.assign(tf.zerosLike(kernel));
    expect(() => assignWeightsBlock(program, stale)).toThrow(/the saved weights have no kernel for Dense 'out'/);
    expect(Array.from(kernel.dataSync()).every((v) => v === 0)).toBe(true);
  });
});
