/**
 * Big-graph benchmark: load, analysis, plan and `gradflow check` on chains of 1,000, 10,000
 * and 100,000 nodes (the schema's limit), and the start of training (create the trainer and
 * take one step, CPU backend) up to 10,000 nodes. It measures; it asserts nothing. Work that
 * grows linearly shows as a roughly constant time per node across the sizes.
 *
 *   npm run bench:big-graph                 # all sizes
 *   npm run bench:big-graph -- 1000 10000   # chosen sizes
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../core/cli/main.ts';
import { compilePlan } from '../core/compile/plan.ts';
import { analyzeGraph } from '../core/graph/analyze.ts';
import { GraphBuilder } from '../core/graph/builder.ts';
import type { GraphDocument } from '../core/graph/document.ts';
import type { TF } from '../core/graph/types.ts';
import { loadGraph } from '../core/io/load.ts';
import { saveGraph } from '../core/io/save.ts';
import { Trainer } from '../core/train/trainer.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [1_000, 10_000, 100_000];
/** Training starts are measured up to this size (a 100,000-node step is a minute of CPU). */
const MAX_TRAIN_NODES = 10_000;

/** Dataset → (Dense 4 → ReLU) × k → Dense 2 → loss → Adam, with `nodes` nodes in all. */
function chain(nodes: number): GraphDocument {
  const g = new GraphBuilder(`chain of ${nodes}`);
  g.add('dataset', 'data', { source: 'xor', samples: 256, batchSize: 32 });
  const pairs = Math.floor((nodes - 4) / 2);
  const steps: [string, string, Record<string, number>?][] = [];
  for (let i = 0; i < pairs; i++) steps.push(['dense', `fc${i}`, { units: 4 }], ['relu', `act${i}`]);
  if ((nodes - 4) % 2) steps.push(['linear', 'extra']);
  const last = g.chain('data.x', [...steps, ['dense', 'head', { units: 2 }]]);
  g.add('softmaxCrossEntropy', 'loss').wire(last, 'loss.pred').wire('data.y', 'loss.target');
  g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
  return g.doc;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median wall-clock and CPU milliseconds of `rounds` runs. On a shared machine the CPU time
 * (this process's user + system time) says more than the wall clock, which includes waiting
 * for a core.
 */
async function time(rounds: number, f: () => unknown): Promise<{ ms: number; cpu: number }> {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await f();
    const used = process.cpuUsage(c);
    ms.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
  }
  return { ms: median(ms), cpu: median(cpu) };
}

const quiet = { out: () => {}, err: () => {}, isTTY: false };
const dir = mkdtempSync(join(tmpdir(), 'gradflow-bench-'));
type Row = { nodes: number; op: string; ms: number; cpu: number };
const rows: Row[] = [];
// Each figure as soon as it is measured (on stderr), the table at the end (on stdout).
const record = (nodes: number, op: string, t: { ms: number; cpu: number }) => {
  rows.push({ nodes, op, ...t });
  console.error(`${nodes.toLocaleString('en-US')} nodes, ${op}: ${t.ms.toFixed(1)} ms wall, ${t.cpu.toFixed(1)} ms CPU`);
};
const tf = (await import('@tensorflow/tfjs')) as unknown as TF;
tf.enableProdMode();
await tf.setBackend('cpu');

try {
  for (const n of SIZES) {
    const doc = chain(n);
    const text = saveGraph(doc);
    const path = join(dir, `chain-${n}.nngraph`);
    writeFileSync(path, text);
    const rounds = n >= 100_000 ? 3 : 5;
    const loaded = loadGraph(text);
    if (!loaded.ok) throw loaded.error;
    const analysis = analyzeGraph(loaded.document);
    if (!analysis.canTrain) throw new Error(`the ${n}-node chain cannot train: ${analysis.issues[0]?.message}`);
    record(n, `load (${(text.length / 2 ** 20).toFixed(1)} MiB)`, await time(rounds, () => loadGraph(text)));
    record(n, 'analysis', await time(rounds, () => analyzeGraph(loaded.document)));
    record(n, 'plan', await time(rounds, () => compilePlan(loaded.document, analysis)));
    record(n, 'gradflow check', await time(rounds, () => main(['check', path], quiet)));
    if (n <= MAX_TRAIN_NODES) {
      record(
        n,
        'training start (create + first step)',
        await time(1, async () => {
          const t = Trainer.create(tf, loaded.document, { backend: 'cpu', maxSteps: 1, instrument: false });
          await t.run();
          t.dispose();
        }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const ops = [...new Set(rows.map((r) => r.op.replace(/ \(.*MiB\)$/, '')))];
const fmtMs = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US')} ms`;
console.log(`| operation (CPU time; wall clock) | ${SIZES.map((n) => `${n.toLocaleString('en-US')} nodes`).join(' | ')} | CPU µs per node (${SIZES.map((n) => n.toLocaleString('en-US')).join(' / ')}) |`);
console.log(`| --- | ${SIZES.map(() => '---').join(' | ')} | --- |`);
for (const op of ops) {
  const cells = SIZES.map((n) => rows.find((r) => r.nodes === n && r.op.startsWith(op)));
  const ms = cells.map((c) => (c ? `${fmtMs(c.cpu)}; ${fmtMs(c.ms)}` : '–'));
  const perNode = cells.map((c, i) => (c ? ((c.cpu * 1000) / SIZES[i]!).toFixed(1) : '–'));
  console.log(`| ${op} | ${ms.join(' | ')} | ${perNode.join(' / ')} |`);
}
for (const r of rows) if (r.op.startsWith('load')) console.log(`file size at ${r.nodes.toLocaleString('en-US')} nodes: ${r.op.slice(6, -1)}`);
