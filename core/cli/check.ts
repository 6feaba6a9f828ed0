/** `gradflow check FILE [--json]`: validate a graph file and print its shapes and parameters. */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_MEMORY_LIMIT, describeMemory, estimateMemory, memoryProblem, type MemoryEstimate } from '../compile/memory.ts';
import { analyzeGraph, type Analysis } from '../graph/analyze.ts';
import { describeShape } from '../graph/kinds/util.ts';
import { kindDef } from '../graph/catalogue.ts';
import type { GraphDocument } from '../graph/document.ts';
import { formatBytes, formatCount, pruningSavings, type Savings } from '../graph/savings.ts';
import { echo, jsonTerminalSafe, terminalSafe } from '../graph/text.ts';
import { loadGraph, MAX_FILE_BYTES } from '../io/load.ts';
import { readFailure } from './files.ts';
import { printedHelp, soleArgument, type Io } from './main.ts';

const HELP = `Usage: gradflow check FILE [--json]

Validates FILE (.nngraph): prints each node's output shape and parameter count, the
totals, and every problem. Exits 0 when the graph is valid, 1 otherwise.

  --json   print a machine-readable report instead of the table`;

/** Read and load a graph file, or explain in one line why not. */
export async function readGraphFile(path: string): Promise<{ ok: true; document: GraphDocument; warnings: string[] } | { ok: false; message: string }> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return { ok: false, message: `${path} is a folder, not a graph file` };
    if (info.size > MAX_FILE_BYTES) return { ok: false, message: `${path}: the file is too large (${Math.round(info.size / 2 ** 20)} MiB)` };
    bytes = await readFile(path);
  } catch (e) {
    return { ok: false, message: readFailure(path, e) };
  }
  const result = loadGraph(bytes);
  if (!result.ok) return { ok: false, message: `${path}: ${result.error.message}` };
  return result;
}

export async function runCheck(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (printedHelp(values, HELP, io)) return 0;
  const path = soleArgument(positionals, 'check');
  // Everything printed passes through here: labels and messages hold a stranger's text, and
  // none of it may reach the terminal as control sequences.
  const terminal = io;
  io = { ...io, out: (t) => terminal.out(values.json ? jsonTerminalSafe(t) : terminalSafe(t)), err: (t) => terminal.err(terminalSafe(t)) };
  const loaded = await readGraphFile(path);
  if (!loaded.ok) {
    if (values.json) io.out(`${JSON.stringify({ file: path, valid: false, loadError: loaded.message }, null, 2)}\n`);
    else io.err(`error: ${loaded.message}\n`);
    return 1;
  }
  const analysis = analyzeGraph(loaded.document);
  const valid = analysis.errors === 0;
  const memory = estimateMemory(loaded.document, analysis);
  const tooBig = memoryProblem(memory);
  if (values.json) {
    io.out(`${JSON.stringify(jsonReport(path, loaded.document, analysis, loaded.warnings, memory), null, 2)}\n`);
  } else {
    io.out(table(loaded.document, analysis));
    io.out(savingsText(pruningSavings(loaded.document, analysis)));
    io.out(`Memory to train: ${describeMemory(memory)}\n`);
    if (tooBig) io.out(`warning: ${tooBig}\n`);
    for (const w of loaded.warnings) io.out(`warning: ${w}\n`);
    for (const i of analysis.issues) (i.severity === 'error' ? io.err : io.out)(`${i.severity}: ${i.message}\n`);
    io.out(valid ? `\n${path}: valid${analysis.canTrain ? '' : ` (cannot train: ${analysis.blockers.join('; ')})`}\n` : `\n${path}: ${analysis.errors} error${analysis.errors === 1 ? '' : 's'}\n`);
  }
  return valid ? 0 : 1;
}

const group = (n: number) => n.toLocaleString('en-US');

function table(doc: GraphDocument, a: Analysis): string {
  const rows: string[][] = [['node', 'kind', 'output shape', 'parameters']];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const ordered = new Set(a.order);
  for (const id of [...a.order, ...doc.nodes.map((n) => n.id).filter((id) => !ordered.has(id))]) {
    const n = byId.get(id)!;
    const na = a.nodes[id]!;
    const outs = Object.entries(na.outputs);
    const shape =
      outs.length === 0 ? '-' : outs.length === 1 ? describeShape(outs[0]![1]) : outs.map(([p, s]) => `${p}: ${describeShape(s)}`).join('  ');
    const count = na.params.trainable + na.params.nonTrainable;
    rows.push([n.label ? `${echo(n.id)} (${echo(n.label)})` : echo(n.id), kindDef(n.kind)?.title ?? `${echo(n.kind)} (unknown)`, shape, count ? group(count) : '-']);
  }
  // A loop, not Math.max(...rows): spreading 100,000 rows into arguments overflows the stack.
  const widths = rows[0]!.map((_, c) => rows.reduce((w, r) => Math.max(w, r[c]!.length), 0));
  const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const t = a.totals;
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    `Total parameters: ${group(t.trainable + t.nonTrainable)} (trainable ${group(t.trainable)}, non-trainable ${group(t.nonTrainable)})`,
    `Weighted layers: ${t.layers}, depth: ${t.depth}, nodes: ${t.nodes}, edges: ${t.edges}`,
    '',
  ].join('\n');
}

/** The totals of 'what pruning saves', and one line per pruned node. */
function savingsText(s: Savings): string {
  const t = s.total;
  if (t.params === 0) return '';
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '-');
  if (!s.nodes.some((n) => n.pruned)) {
    return `Forward pass: ${formatCount(t.flops)} FLOPs per example; storage ${formatBytes(t.bytesDense)} as float32 (no pruning masks)\n\n`;
  }
  const lines = [
    `What pruning saves (P_m = ${(100 * t.fractionKept).toFixed(1)} % of the prunable weights remain, ${pct(t.paramsKept, t.params)} of all parameters):`,
    `  parameters   ${group(t.params)} dense -> ${group(t.paramsKept)} kept`,
    `  FLOPs        ${formatCount(t.flops)} -> ${formatCount(t.flopsKept)} per example (${pct(t.flopsKept, t.flops)})`,
    `  storage      ${formatBytes(t.bytesDense)} dense -> ${formatBytes(t.bytesSparse)} sparse (kept values + 1-bit mask)`,
  ];
  for (const n of s.nodes.filter((x) => x.pruned)) {
    lines.push(`  ${n.nodeId}: ${(100 * n.fractionKept).toFixed(1)} % of its weights kept, ${formatCount(n.flops)} -> ${formatCount(n.flopsKept)} FLOPs, ${formatBytes(n.bytesDense)} -> ${formatBytes(n.bytesSparse)}`);
  }
  return `${lines.join('\n')}\n\n`;
}


function jsonReport(path: string, doc: GraphDocument, a: Analysis, warnings: string[], memory: MemoryEstimate) {
  return {
    file: path,
    valid: a.errors === 0,
    canTrain: a.canTrain,
    blockers: a.blockers,
    totals: { parameters: a.totals.trainable + a.totals.nonTrainable, ...a.totals },
    nodes: doc.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      known: a.nodes[n.id]!.known,
      outputs: a.nodes[n.id]!.outputs,
      parameters: a.nodes[n.id]!.params,
    })),
    savings: pruningSavings(doc, a),
    issues: a.issues,
    loadWarnings: warnings,
    memory: { ...memory, limit: DEFAULT_MEMORY_LIMIT, withinLimit: memory.total <= DEFAULT_MEMORY_LIMIT, text: formatBytes(memory.total) },
  };
}
