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

async function time(rounds: number, f: () => unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const quiet = { out: () => {}, err: () => {}, isTTY: false };
const dir = mkdtempSync(join(tmpdir(), 'gradflow-bench-'));
const rows: { nodes: number; op: string; ms: number }[] = [];
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
    rows.push({ nodes: n, op: `load (${(text.length / 2 ** 20).toFixed(1)} MiB)`, ms: await time(rounds, () => loadGraph(text)) });
    rows.push({ nodes: n, op: 'analysis', ms: await time(rounds, () => analyzeGraph(loaded.document)) });
    rows.push({ nodes: n, op: 'plan', ms: await time(rounds, () => compilePlan(loaded.document, analysis)) });
    rows.push({ nodes: n, op: 'gradflow check', ms: await time(rounds, () => main(['check', path], quiet)) });
    if (n <= MAX_TRAIN_NODES) {
      rows.push({
        nodes: n,
        op: 'training start (create + first step)',
        ms: await time(1, async () => {
          const t = Trainer.create(tf, loaded.document, { backend: 'cpu', maxSteps: 1, instrument: false });
          await t.run();
          t.dispose();
        }),
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const ops = [...new Set(rows.map((r) => r.op.replace(/ \(.*MiB\)$/, '')))];
console.log(`| operation | ${SIZES.map((n) => `${n.toLocaleString('en-US')} nodes`).join(' | ')} | µs per node (${SIZES.map((n) => n.toLocaleString('en-US')).join(' / ')}) |`);
console.log(`| --- | ${SIZES.map(() => '---').join(' | ')} | --- |`);
for (const op of ops) {
  const cells = SIZES.map((n) => rows.find((r) => r.nodes === n && r.op.startsWith(op)));
  const ms = cells.map((c) => (c ? `${c.ms < 10 ? c.ms.toFixed(1) : Math.round(c.ms).toLocaleString('en-US')} ms` : '–'));
  const perNode = cells.map((c, i) => (c ? ((c.ms * 1000) / SIZES[i]!).toFixed(1) : '–'));
  console.log(`| ${op} | ${ms.join(' | ')} | ${perNode.join(' / ')} |`);
}
for (const r of rows) if (r.op.startsWith('load')) console.log(`file size at ${r.nodes.toLocaleString('en-US')} nodes: ${r.op.slice(6, -1)}`);
