import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../core/graph/builder.ts';
import type { WeightsBlock } from '../../core/graph/document.ts';
import type { FromWorker, ToWorker } from '../../renderer/train/protocol.ts';
import { createRunStore, TrainingClient } from '../../renderer/train/run.ts';

/** A stand-in for the training worker: records what the UI sends and lets the test answer. */
class FakeWorker {
  sent: ToWorker[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  postMessage(m: ToWorker) {
    this.sent.push(structuredClone(m));
  }
  terminate() {
    this.terminated = true;
  }
  emit(m: FromWorker) {
    this.onmessage?.({ data: m } as MessageEvent<FromWorker>);
  }
  crash(message: string) {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }
}

const weights: WeightsBlock = { step: 40, epoch: 2, backend: 'webgpu', savedAt: '2026-11-28T00:00:00.000Z', tensors: {} };
const doc = new GraphBuilder('t').build();
const assets = { mnistUrl: 'http://x/mnist-10k.bin', wasmUrls: {} };

function setup() {
  const workers: FakeWorker[] = [];
  const client = new TrainingClient(createRunStore(), assets, () => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  return { client, workers, state: () => client.store.getState() };
}

describe('training client', () => {
  it('a chosen WASM thread count goes with every request; changing it replaces the idle worker, and is refused while a run is live', () => {
    const { client, workers, state } = setup();
    client.start(doc, null);
    const first = workers[0]!.sent[0] as Extract<ToWorker, { type: 'start' }>;
    expect(first.wasmThreads).toBeUndefined(); // Auto: the worker picks the default
    workers[0]!.emit({ type: 'started', mode: 'train', backend: 'wasm', threads: 1, fallbacks: [], totalSteps: 10, epochs: 1, points: null, task: 'classification', classes: 2 });
    client.setThreads(2);
    expect(state().threadsPreference).toBeNull(); // not while live
    workers[0]!.emit({ type: 'event', event: { type: 'done', status: 'completed', run: null as never } } as FromWorker);
    expect(state().status).toBe('finished');
    client.setThreads(2);
    expect(state().threadsPreference).toBe(2);
    expect(workers[0]!.terminated).toBe(false); // replaced on its next use, not before
    client.start(doc, null);
    expect(workers[0]!.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect((workers[1]!.sent.find((m) => m.type === 'start') as Extract<ToWorker, { type: 'start' }>).wasmThreads).toBe(2);
    workers[1]!.emit({ type: 'event', event: { type: 'done', status: 'completed', run: null as never } } as FromWorker);
    client.setThreads(null);
    client.start(doc, null);
    expect(workers).toHaveLength(3);
    expect((workers[2]!.sent.find((m) => m.type === 'start') as Extract<ToWorker, { type: 'start' }>).wasmThreads).toBeUndefined();
  });

  it('a crashed worker keeps the last good weights; the next run starts a new worker from them, on any backend', () => {
    const { client, workers, state } = setup();
    client.start(doc, null);
    const w = workers[0]!;
    w.emit({ type: 'started', mode: 'train', backend: 'webgpu', threads: null, fallbacks: [], totalSteps: 100, epochs: 5, points: null, task: 'classification', classes: 2 });
    expect(state().status).toBe('running');
    w.emit({ type: 'checkpoint', weights });
    w.crash('GPU process exited');
    expect(w.terminated).toBe(true);
    expect(state().status).toBe('failed');
    expect(state().error).toMatch(/GPU process exited.*graph is unchanged.*last good weights are kept/);
    expect(state().checkpoint).toEqual(weights);

    client.setBackend('wasm');
    client.start(doc, state().checkpoint);
    expect(workers).toHaveLength(2);
    const start = workers[1]!.sent[0] as Extract<ToWorker, { type: 'start' }>;
    expect(start.type).toBe('start');
    expect(start.backend).toBe('wasm');
    expect(start.weights).toEqual(weights);
  });

  it('a lost GPU device is reported and ends the run, keeping the weights', () => {
    const { client, workers, state } = setup();
    client.start(doc, null);
    workers[0]!.emit({ type: 'checkpoint', weights });
    workers[0]!.emit({ type: 'error', message: 'the GPU device was lost (destroyed: gone)', fatal: true });
    expect(state().status).toBe('failed');
    expect(state().error).toMatch(/device was lost/);
    expect(state().checkpoint).toEqual(weights);
  });

  it('pause is confirmed by the worker, step only acts while paused, and the learning rate goes to the live run', () => {
    const { client, workers, state } = setup();
    client.start(doc, null);
    const w = workers[0]!;
    w.emit({ type: 'started', mode: 'train', backend: 'cpu', threads: 1, fallbacks: ['webgpu: no adapter'], totalSteps: 10, epochs: 1, points: null, task: 'regression', classes: 0 });
    expect(state().fallbacks).toEqual(['webgpu: no adapter']);
    expect(state().threads).toBe(1);
    client.step(); // not paused: ignored
    expect(w.sent.map((m) => m.type)).toEqual(['start']);
    client.pause();
    expect(state().status).toBe('paused');
    expect(state().pausedAt).toBeNull();
    w.emit({ type: 'event', event: { type: 'paused', step: 7 } });
    expect(state().pausedAt).toBe(7);
    client.step();
    client.setLearningRate(0.5);
    client.resume();
    expect(w.sent.map((m) => m.type)).toEqual(['start', 'pause', 'step', 'setLearningRate', 'resume']);
    expect(state().status).toBe('running');
  });

  it('keeps every finished run, and reset forgets the weights but not the runs', () => {
    const { client, workers, state } = setup();
    client.start(doc, null);
    const w = workers[0]!;
    w.emit({ type: 'checkpoint', weights });
    const run = { id: 'r1', startedAt: 'now', status: 'completed' as const, backend: 'cpu', seed: 1, settings: {}, epochs: [], stepLoss: [] };
    w.emit({ type: 'event', event: { type: 'done', status: 'completed', run } });
    expect(state().status).toBe('finished');
    expect(state().runs).toEqual([run]);
    client.resetWeights();
    expect(state().checkpoint).toBeNull();
    expect(state().runs).toEqual([run]);
  });

  it('the edges’ histogram choice is kept across a new run and a reset', () => {
    const { client, state } = setup();
    expect(state().histogramMode).toBe('weights');
    client.setHistogramMode('gradients');
    client.start(doc, null);
    expect(state().histogramMode).toBe('gradients');
    client.stop();
    client.resetWeights();
    expect(state().histogramMode).toBe('gradients');
  });
});
