/** `gradflow train FILE`: train a graph in Node and report like a person would want to read it. */
import { parseArgs } from 'node:util';
import { parseBytes } from '../compile/memory.ts';
import { echo, terminalSafe } from '../graph/text.ts';
import { APP_VERSION, type GraphDocument, type RunRecord } from '../graph/document.ts';
import { masksFromBlock } from '../io/masks.ts';
import { saveGraph } from '../io/save.ts';
import { NotTrainableError, Trainer, type Progress, type TrainEvent } from '../train/trainer.ts';
import { printedHelp, soleArgument, UsageError, type Io } from './main.ts';
import { checkNodeBackend, dataResourcesFor, nodeTfOrReport, readTrainableGraph, threadsOption } from './node-runtime.ts';
import { writeAtomic } from './files.ts';

const HELP = `Usage: gradflow train FILE [options]

Trains the graph in FILE and prints per-epoch loss and accuracy.

  --epochs N         override the optimizer's number of epochs
  --steps N          stop after N optimizer steps
  --backend B        cpu, wasm or webgpu (default: wasm, falling back to cpu; webgpu
                     through Dawn's Node bindings, on the machine's GPU driver)
  --threads T        the WASM backend's thread pool, 1 to 8 (default: as tfjs picks,
                     logical CPUs / 2, so 1 on a 2-CPU machine)
  --seed S           override the Dataset's seed
  --out RUN.json     write the run: settings, backend, per-epoch and per-step metrics
  --save FILE        write the graph with its trained weights and this run
  --read-every N     read losses back (and check them for NaN) every N steps (default 10)
  --fresh            start from new initial weights even if FILE holds trained ones
                     (by default training continues from them)
  --memory-limit M   refuse graphs whose training needs more memory than M, e.g. 8GB or 8GiB
                     (default 4GB; gradflow check shows the estimate)`;

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number ≥ ${min}, got '${v}'`);
  return n;
}

export async function runTrain(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      epochs: { type: 'string' },
      steps: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      save: { type: 'string' },
      'read-every': { type: 'string' },
      fresh: { type: 'boolean' },
      'memory-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (printedHelp(values, HELP, io)) return 0;
  const path = soleArgument(positionals, 'train');
  const epochs = positiveInt('--epochs', values.epochs);
  const steps = positiveInt('--steps', values.steps);
  const seed = positiveInt('--seed', values.seed, 0);
  const readEvery = positiveInt('--read-every', values['read-every']);
  const memoryLimit = values['memory-limit'] === undefined ? undefined : parseBytes(values['memory-limit']);
  if (memoryLimit === null) throw new UsageError(`--memory-limit must be a size such as 8GiB, 512MiB or 2GB, got '${echo(values['memory-limit']!)}'`);
  checkNodeBackend(values.backend, ['cpu', 'wasm', 'webgpu']);
  const wasmThreads = threadsOption(values.threads);
  // The progress bar draws with \r and ESC[K itself; everything else printed may carry a
  // file's text (names, messages) and goes through terminalSafe.
  const terminal = io;
  io = { ...io, out: (t) => terminal.out(terminalSafe(t)), err: (t) => terminal.err(terminalSafe(t)) };
  const doc = await readTrainableGraph(path, io, 'cannot train');
  if (!doc) return 1;
  const runtime = await nodeTfOrReport(values.backend, io, { wasmThreads });
  if (!runtime) return 1;
  const { tf, choice, adapter } = runtime;
  io.out(`Training ${echo(doc.metadata.name || path)} on ${choice.backend}${adapter ? `, adapter ${adapter}` : ''}${choice.fallbacks.length ? ` (${choice.fallbacks.join('; ')})` : ''}\n`);

  let trainer: Trainer;
  try {
    const resources = await dataResourcesFor(doc);
    trainer = Trainer.create(tf, doc, {
      ...(seed !== undefined ? { seed } : {}),
      ...(epochs !== undefined ? { epochs } : {}),
      ...(steps !== undefined ? { maxSteps: steps } : {}),
      ...(readEvery !== undefined ? { readEvery } : {}),
      ...(memoryLimit !== undefined ? { memoryLimit } : {}),
      ...resources,
      ...(doc.masks ? { masks: masksFromBlock(doc.masks) } : {}),
      backend: choice.backend,
      onEvent: (e) => report(e),
    });
  } catch (e) {
    if (e instanceof NotTrainableError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    io.err(`error: ${(e as Error).message}\n`);
    return 1;
  }

  if (doc.weights && !values.fresh) {
    try {
      trainer.importWeights(doc.weights);
      io.out(`Continuing from the trained weights in ${path} (step ${doc.weights.step}); use --fresh to start over\n`);
    } catch (e) {
      io.err(`error: ${(e as Error).message} (use --fresh to train from new weights)\n`);
      trainer.dispose();
      return 1;
    }
  }

  const bar = new ProgressLine(terminal);
  function report(e: TrainEvent): void {
    switch (e.type) {
      case 'progress':
        bar.update(e.progress);
        break;
      case 'epoch': {
        const r = e.record;
        const pct = (v: number | null) => (v === null ? '' : `${(v * 100).toFixed(1)}%`);
        const cols = [
          `epoch ${String(r.epoch).padStart(String(trainer.epochs).length)}/${trainer.epochs}`,
          `loss ${r.trainLoss.toFixed(4)}`,
          r.valLoss !== null ? `val_loss ${r.valLoss.toFixed(4)}` : '',
          r.trainAccuracy !== null ? `acc ${pct(r.trainAccuracy)}` : '',
          r.valAccuracy !== null ? `val_acc ${pct(r.valAccuracy)}` : '',
          `${r.seconds.toFixed(1)}s`,
        ].filter(Boolean);
        bar.println(cols.join('  '));
        break;
      }
      case 'fault':
        bar.clear();
        io.err(`error: ${e.fault.message}\n`);
        break;
      case 'done':
        break;
      case 'instrumentation':
        break;
    }
  }

  // Ctrl+C stops after the current step and still writes what was asked for.
  const onSigint = () => trainer.stop();
  process.once('SIGINT', onSigint);
  let run: RunRecord;
  try {
    run = await trainer.run();
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar.clear();
  const final = await trainer.validate();
  const last = run.epochs[run.epochs.length - 1];
  const summary =
    run.status === 'failed'
      ? 'training failed'
      : `${run.status === 'completed' ? 'done' : run.status === 'early-stopped' ? `early-stopped after epoch ${last?.epoch}` : 'stopped'} after ${trainer.step} steps` +
        (final.loss !== null ? `: validation loss ${final.loss.toFixed(4)}` : '') +
        (final.accuracy !== null ? `, validation accuracy ${(final.accuracy * 100).toFixed(1)}%` : '');
  io.out(`${summary}\n`);

  if (values.out) {
    const out = {
      file: path,
      gradflow: APP_VERSION,
      backend: choice.backend,
      backendFallbacks: choice.fallbacks,
      // The WASM pool size (1 for cpu, null for webgpu): it changes speed, never the numbers.
      threads: runtime.threads,
      status: run.status,
      ...(run.message ? { message: run.message } : {}),
      seed: run.seed,
      settings: run.settings,
      steps: trainer.step,
      epochs: run.epochs,
      stepLoss: run.stepLoss,
      final: { valLoss: final.loss, valAccuracy: final.accuracy },
    };
    await writeAtomic(values.out, `${JSON.stringify(out, null, 2)}\n`);
    io.out(`wrote ${values.out}\n`);
  }
  if (values.save) {
    const saved: GraphDocument = {
      ...doc,
      metadata: { ...doc.metadata, modified: new Date().toISOString(), appVersion: APP_VERSION },
      weights: await trainer.exportWeights(),
      runs: [...(doc.runs ?? []), run],
    };
    await writeAtomic(values.save, saveGraph(saved));
    io.out(`wrote ${values.save}\n`);
  }
  trainer.dispose();
  return run.status === 'failed' ? 1 : 0;
}

/** A progress bar on a terminal; nothing between epochs when output goes to a file or pipe. */
class ProgressLine {
  private shown = false;
  constructor(private readonly io: Io) {}
  update(p: Progress): void {
    if (!this.io.isTTY) return;
    const width = 24;
    const done = p.totalSteps ? Math.min(1, p.step / p.totalSteps) : 0;
    const filled = Math.round(done * width);
    const eta = Number.isFinite(p.etaSeconds) ? `${Math.round(p.etaSeconds)}s` : '?';
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} ${Math.round(p.samplesPerSecond)} samples/s ETA ${eta}`;
    this.io.out(`\r${line}\u001b[K`);
    this.shown = true;
  }
  println(text: string): void {
    this.clear();
    this.io.out(`${text}\n`);
  }
  clear(): void {
    if (this.shown) this.io.out('\r\u001b[K');
    this.shown = false;
  }
}
