/** `gradflow experiment NAME FILE`: run an experiment (core/experiments) on a graph in Node. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { APP_VERSION, type GraphDocument } from '../graph/document.ts';
import { describeRange, type ParamSpecs } from '../graph/params.ts';
import { saveGraph } from '../io/save.ts';
import { ExperimentCancelled, ExperimentControl, ExperimentError, parseSettings, runExperiment, settingFromText, withResult, type ExperimentDef, type ExperimentResult } from '../experiments/framework.ts';
import { EXPERIMENTS, experimentDef } from '../experiments/registry.ts';
import { NotTrainableError } from '../train/trainer.ts';
import { printedHelp, soleArgument, UsageError, type Io } from './main.ts';
import { checkNodeBackend, dataResourcesFor, nodeTfOrReport, readTrainableGraph } from './node-runtime.ts';
import { writeAtomic } from './files.ts';

const COMMON = `  --backend B        cpu, wasm or webgpu (default: wasm, falling back to cpu; webgpu
                     through Dawn's Node bindings, on the machine's GPU driver)
  --seed S           seed of the experiment's random choices (default 1)
  --initial          run on the graph's initial weights, not the trained ones in FILE
  --out RESULT.json  write the result: settings, seed, backend and data
  --save FILE        write the graph with this result added to its experiments`;

function listHelp(): string {
  const width = Math.max(...EXPERIMENTS.map((e) => e.name.length));
  return `Usage: gradflow experiment NAME FILE [options] [--out RESULT.json] [--save FILE]

Runs an experiment on the graph in FILE (on its trained weights when it has them).

Experiments:
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`).join('\n')}

Options of every experiment:
${COMMON}

Run gradflow experiment NAME --help for the settings of one.`;
}

/** The flag of a setting: camelCase becomes kebab-case (biasAndBN -> --bias-and-bn). */
export function flagOf(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

function experimentHelp(def: ExperimentDef): string {
  const specs = def.settings as ParamSpecs;
  const lines = Object.entries(specs).map(([key, spec]) => {
    // A setting that is on by default is turned off with --no-<flag> (parseArgs' allowNegative).
    const flag = spec.type === 'boolean' ? `--${spec.default ? 'no-' : ''}${flagOf(key)}` : `--${flagOf(key)} ${spec.type === 'enum' ? spec.options.join('|') : 'N'}`;
    return `  ${flag.padEnd(24)} ${spec.help} (${describeRange(spec)}; default ${JSON.stringify(spec.default)})`;
  });
  return `Usage: gradflow experiment ${def.name} FILE [options]

${def.title}: ${def.summary}

Settings:
${lines.join('\n')}

Options:
${COMMON}`;
}

export async function runExperimentCommand(args: string[], io: Io): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(`${listHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  const def = experimentDef(name);
  if (!def) throw new UsageError(`unknown experiment '${name}' (there are: ${EXPERIMENTS.map((e) => e.name).join(', ')})`);
  const specs = def.settings as ParamSpecs;
  const options: NonNullable<ParseArgsConfig['options']> = {
    backend: { type: 'string' },
    seed: { type: 'string' },
    initial: { type: 'boolean' },
    out: { type: 'string' },
    save: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [key, spec] of Object.entries(specs)) options[flagOf(key)] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, allowNegative: true });
  if (printedHelp(values, experimentHelp(def), io)) return 0;
  const path = soleArgument(positionals, `experiment ${name}`);
  const seedText = values.seed as string | undefined;
  const seed = seedText === undefined ? 1 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got '${seedText}'`);
  const backend = values.backend as string | undefined;
  checkNodeBackend(backend, ['cpu', 'wasm', 'webgpu']);
  const settings: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const v = values[flagOf(key)];
    if (v !== undefined) settings[key] = typeof v === 'string' ? settingFromText(spec, v) : v;
  }

  const doc = await readTrainableGraph(path, io, 'cannot run: the graph does not compile');
  if (!doc) return 1;
  // Settings and the graph are checked before anything is printed, so the lines about the
  // weights below never precede a refusal.
  const parsed = parseSettings(def, settings);
  const refusal = parsed.ok ? def.check(doc, parsed.settings) : parsed.error;
  if (refusal !== null || !parsed.ok) {
    io.err(`error: ${refusal}\n`);
    return 1;
  }
  const runtime = await nodeTfOrReport(backend, io);
  if (!runtime) return 1;
  const { tf, choice, adapter } = runtime;
  const weights = values.initial ? null : (doc.weights ?? null);
  io.out(`${def.title} of ${doc.metadata.name || path} on ${choice.backend}${adapter ? `, adapter ${adapter}` : ''}${choice.fallbacks.length ? ` (${choice.fallbacks.join('; ')})` : ''}, seed ${seed}\n`);
  const note = def.weightsNote?.(parsed.settings) ?? (def.trainsFromScratch ? 'Trains the graph from its initial weights (trained weights in the file are not used)' : null);
  if (note) io.out(`${note}\n`);
  else if (!weights) io.out(values.initial ? 'On the initial weights (--initial)\n' : `${path} has no trained weights: running on the initial weights (train it first with gradflow train --save)\n`);
  else io.out(`On the trained weights in ${path} (step ${weights.step})\n`);

  const control = new ExperimentControl();
  const onSigint = () => control.cancel();
  process.once('SIGINT', onSigint);
  const bar = new Bar(io);
  let result: ExperimentResult;
  try {
    const resources = await dataResourcesFor(doc);
    result = await runExperiment(def, {
      tf,
      doc,
      settings,
      seed,
      backend: choice.backend,
      weights,
      control,
      ...resources,
      onProgress: (p) => bar.update(p.done, p.total),
    });
  } catch (e) {
    bar.clear();
    if (e instanceof ExperimentError || e instanceof NotTrainableError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ExperimentCancelled) {
      io.err('cancelled before any result\n');
      return 1;
    }
    io.err(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar.clear();
  for (const line of def.describe(result.data, result.settings as never)) io.out(`${line}\n`);
  io.out(`${result.status === 'cancelled' ? 'cancelled' : 'done'} in ${result.seconds.toFixed(1)}s\n`);

  if (values.out) {
    const out = { file: path, gradflow: APP_VERSION, backendFallbacks: choice.fallbacks, ...result };
    await writeAtomic(values.out as string, `${JSON.stringify(out, null, 2)}\n`);
    io.out(`wrote ${values.out}\n`);
  }
  if (values.save) {
    const withIt: GraphDocument = withResult({ ...doc, metadata: { ...doc.metadata, modified: new Date().toISOString(), appVersion: APP_VERSION } }, result);
    // An experiment that changes the graph (the lottery ticket's masks) applies its result too.
    const saved = def.apply ? def.apply(withIt, result.data) : withIt;
    await writeAtomic(values.save as string, saveGraph(saved));
    io.out(`wrote ${values.save}\n`);
  }
  return 0;
}

/** A progress bar on a terminal; silent when the output goes to a file or a pipe. */
class Bar {
  private shown = false;
  private readonly started = Date.now();
  constructor(private readonly io: Io) {}
  update(done: number, total: number): void {
    if (!this.io.isTTY) return;
    const width = 24;
    const f = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(f * width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? `${Math.round((elapsed * (total - done)) / done)}s` : '?';
    this.io.out(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ETA ${eta}\u001b[K`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.io.out('\r\u001b[K');
    this.shown = false;
  }
}
