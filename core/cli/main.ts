/** The `gradflow` command line: check, train, experiment, bench, export. */
import { echo, terminalSafe } from '../graph/text.ts';
import { runCheck } from './check.ts';

export const USAGE = `Usage: gradflow <command> [options]

Commands:
  check FILE [--json]           Validate a graph file: shapes, parameters, problems.
  train FILE [options]          Train a graph (see gradflow train --help).
  experiment NAME FILE [options]  Run an experiment (loss landscape...) on a graph
                                (see gradflow experiment --help).
  bench [--backend B] [--steps N]  Measure training speed on the MNIST MLP.
  export FILE --to onnx|pytorch [--out PATH]  Export the model with its weights (see --help).
  import MODEL.onnx [--out F]   Turn an ONNX model into an editable graph with its weights.
  import-weights FILE W.npz     Load weights trained by the exported PyTorch project.

Run gradflow <command> --help for the options of a command.`;

/** Thrown for mistakes in how the command was called; printed without a stack trace. */
export class UsageError extends Error {}

/**
 * Every command takes -h/--help: when it was given, print the command's help and say so (the
 * command then exits 0 without doing anything else).
 */
export function printedHelp(values: { help?: unknown }, help: string, io: Io): boolean {
  if (!values.help) return false;
  io.out(`${help}\n`);
  return true;
}

/** The one argument a command reads (a FILE; import's MODEL), or a usage error naming the command when there is none or more. */
export function soleArgument(positionals: readonly string[], command: string, name = 'FILE', needs = `a ${name}`): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `${command} takes one ${name}` : `${command} needs ${needs}`);
  return positionals[0]!;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal (progress bars) or a pipe/file (plain lines). */
  isTTY: boolean;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: !!process.stdout.isTTY,
};

/** Run the CLI; returns the exit code (0 ok, 1 invalid input or failed run, 2 usage). */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        return await runCheck(rest, io);
      case 'train': {
        const { runTrain } = await import('./train.ts');
        return await runTrain(rest, io);
      }
      case 'export': {
        const { runExport } = await import('./export.ts');
        return await runExport(rest, io);
      }
      case 'experiment': {
        const { runExperimentCommand } = await import('./experiment.ts');
        return await runExperimentCommand(rest, io);
      }
      case 'import': {
        const { runImport } = await import('./import.ts');
        return await runImport(rest, io);
      }
      case 'import-weights': {
        const { runImportWeights } = await import('./import-weights.ts');
        return await runImportWeights(rest, io);
      }
      case 'bench': {
        const { runBench } = await import('./bench.ts');
        return await runBench(rest, io);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        if (command === undefined) {
          io.err(`${USAGE}\n`);
          return 2;
        }
        io.out(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`gradflow: ${(e as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    // Anything else is our bug, whatever file caused it: say so plainly, as a bug report, and
    // keep the stack trace out of the way (it says nothing to a user, and a hostile file's
    // text could ride along in it) unless the reporter asks for it.
    io.err(internalErrorReport(e, process.env.GRADFLOW_DEBUG === '1'));
    return 70;
  }
}

/** How an unexpected exception reads: a bug report with what to send, the stack only on request. */
export function internalErrorReport(e: unknown, withStack: boolean): string {
  const message = echo(e instanceof Error ? e.message : String(e), 300);
  const stack = withStack && e instanceof Error && e.stack ? `\n${terminalSafe(e.stack)}` : '';
  return (
    `gradflow: internal error: ${message}\n` +
    'This is a bug in Gradflow, not a mistake in your file or command. Please report it with the command you ran and the file it read' +
    `${withStack ? '.' : ' (run it again with GRADFLOW_DEBUG=1 to add the details).'}${stack}\n`
  );
}

