/**
 * Benchmark: validation and shape inference, load and save of a large graph.
 * Run: npm run bench:graph   (prints numbers; asserts nothing)
 */
import { analyzeGraph } from '../core/graph/analyze.ts';
import { bigGraph } from './graphs.ts';
import { loadGraph } from '../core/io/load.ts';
import { saveGraph } from '../core/io/save.ts';

function time(label: string, runs: number, f: () => void): number {
  for (let i = 0; i < 5; i++) f(); // warm up the JIT
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)]!;
  const p95 = ms[Math.floor(ms.length * 0.95)]!;
  console.log(`${label.padEnd(44)} median ${median.toFixed(2)} ms   p95 ${p95.toFixed(2)} ms`);
  return median;
}

const doc = bigGraph(49); // 300 nodes
console.log(`graph: ${doc.nodes.length} nodes, ${doc.edges.length} edges; Node ${process.version}\n`);
const small = bigGraph(1);
const tSmall = time(`analyzeGraph (${small.nodes.length} nodes)`, 200, () => analyzeGraph(small));
const tBig = time(`analyzeGraph (${doc.nodes.length} nodes)`, 100, () => analyzeGraph(doc));
const text = saveGraph(doc);
time('saveGraph', 100, () => saveGraph(doc));
time(`loadGraph (${(text.length / 1024).toFixed(0)} KiB)`, 100, () => loadGraph(text));
console.log(`\nper node: ${((tBig / doc.nodes.length) * 1000).toFixed(1)} µs (300 nodes) vs ${((tSmall / small.nodes.length) * 1000).toFixed(1)} µs (${small.nodes.length} nodes)`);
