/**
 * Benchmark of the app in Chromium (prints numbers; asserts nothing). Needs a built app
 * (npm run build) and Chromium. Run: npm run bench:ui
 *  1. open a 300-node graph and fit it in view;
 *  2. drag a node in it: frames per second and p95 frame time;
 *  3. train the MNIST MLP in the app (WASM) while measuring the UI thread's frame times;
 *  4. compare the app's training throughput with the same worker started directly in the
 *     same browser (no UI drawing it), two windows of each taken in turn, and with the
 *     trainer in Node (`gradflow bench`); the thread counts of both are printed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { bigGraph } from './graphs.ts';
import { saveGraph } from '../core/io/save.ts';
import { main } from '../core/cli/main.ts';

const PORT = 4179;
// Page code as a string: tsx would wrap a function literal in helpers the page lacks.
const RECORD_FRAMES = `(() => {
  const w = window; w.__frames = []; let last = performance.now();
  const loop = (t) => { w.__frames.push(t - last); last = t; if (w.__recording) requestAnimationFrame(loop); };
  w.__recording = true; requestAnimationFrame(loop);
})()`;
const STOP_FRAMES = '(() => { window.__recording = false; return window.__frames; })()';
const server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--port', String(PORT), '--strictPort'], { stdio: 'ignore' });
const exe = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const browser = await chromium.launch({ ...(exe ? { executablePath: exe } : {}), args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  for (let i = 0; i < 50; i++) {
    try {
      await page.goto(`http://127.0.0.1:${PORT}`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

  // 1. Open and fit.
  const text = saveGraph(bigGraph(49));
  const opens: number[] = [];
  for (let round = 0; round < 3; round++) {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const t0 = Date.now();
    await (await chooser).setFiles({ name: `big${round}.nngraph`, mimeType: 'application/json', buffer: Buffer.from(text) });
    await page.waitForFunction('window.__gradflow.store.getState().doc.nodes.length === 300 && document.querySelectorAll(".react-flow__node").length > 0');
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    opens.push(Date.now() - t0);
  }
  console.log(`open + fit a 300-node graph: median ${pct(opens, 0.5)} ms (runs: ${opens.join(', ')} ms)`);

  // 2. Drag a node for ~2 s while recording frame times on the page.
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  const node = page.locator('.react-flow__node').first();
  const box = (await node.boundingBox())!;
  await page.evaluate(RECORD_FRAMES);
  await page.mouse.move(box.x + box.width / 2, box.y + 10);
  await page.mouse.down();
  const t0 = Date.now();
  for (let i = 0; i < 120; i++) await page.mouse.move(box.x + box.width / 2 + Math.sin(i / 10) * 200, box.y + 10 + i, { steps: 1 });
  await page.mouse.up();
  const dragMs = Date.now() - t0;
  const frames = (await page.evaluate(STOP_FRAMES)) as number[];
  const f = frames.slice(2);
  console.log(`drag in the 300-node graph: ${(1000 / (f.reduce((a, b) => a + b, 0) / f.length)).toFixed(0)} fps mean, p95 frame ${pct(f, 0.95).toFixed(1)} ms (${f.length} frames over ${dragMs} ms of mouse moves)`);

  // 3. Train MNIST in the app on WASM and watch the UI thread; 4. the same worker and trainer
  // in the same browser, started directly: no UI drawing it. Two windows of each, taken in
  // turn (app, bare, app, bare), so that a drift in the machine's speed affects both alike.
  const assets = readdirSync('dist/renderer/assets');
  const find = (re: RegExp) => `/assets/${assets.find((f) => re.test(f))}`;
  // The example trains for 5 epochs, which an idle machine finishes inside a measurement
  // window: both sides train for as many epochs as the windows need.
  const EPOCHS = 100;
  const doc = JSON.parse(readFileSync('examples/mnist-mlp.nngraph', 'utf8')) as { nodes: { id: string; kind: string; params: Record<string, unknown> }[]; edges: unknown[] };
  const optimizer = doc.nodes.find((n) => 'epochs' in n.params)!;
  optimizer.params.epochs = EPOCHS;
  const WINDOW_MS = 10_000;
  const inApp = async (): Promise<{ rate: number; fps: number; p95: number; threads: number | null }> => {
    await page.reload();
    await page.getByRole('button', { name: 'Examples' }).click();
    await page.getByRole('button', { name: /Open example MNIST MLP$/ }).click();
    await page.getByLabel('Backend', { exact: true }).selectOption('wasm');
    await page.evaluate(`window.__gradflow.store.getState().setParam(${JSON.stringify(optimizer.id)}, 'epochs', ${EPOCHS})`);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.waitForFunction('(window.__gradflow.run.getState().progress?.step ?? 0) > 20', null, { timeout: 120_000 });
    await page.evaluate(RECORD_FRAMES);
    const s0 = (await page.evaluate('window.__gradflow.run.getState().progress')) as { step: number };
    const ts0 = Date.now();
    await page.waitForTimeout(WINDOW_MS); // a measurement window, not a wait for the UI
    const s1 = (await page.evaluate('window.__gradflow.run.getState().progress')) as { step: number };
    const secs = (Date.now() - ts0) / 1000;
    const ft = ((await page.evaluate(STOP_FRAMES)) as number[]).slice(2);
    const threads = (await page.evaluate('window.__gradflow.run.getState().threads')) as number | null;
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    return { rate: ((s1.step - s0.step) * 128) / secs, fps: 1000 / (ft.reduce((a, b) => a + b, 0) / ft.length), p95: pct(ft, 0.95), threads };
  };
  const bareWorker = async (): Promise<{ rate: number; threads: number | null }> => {
    await page.reload();
    return (await page.evaluate(`new Promise((resolve) => {
      const w = new Worker(${JSON.stringify(find(/^worker-.*\.js$/))}, { type: 'module' });
      let first = null;
      let threads = null;
      w.onmessage = (e) => {
        const m = e.data;
        if (m.type === 'started') threads = m.threads;
        if (m.type !== 'event' || m.event.type !== 'progress') return;
        const p = m.event.progress;
        if (p.step < 20) return;
        if (!first) first = { step: p.step, t: performance.now() };
        else if (performance.now() - first.t > ${WINDOW_MS}) {
          w.postMessage({ type: 'stop' });
          resolve({ rate: ((p.step - first.step) * 128) / ((performance.now() - first.t) / 1000), threads });
        }
      };
      w.postMessage({ type: 'start', backend: 'wasm', intervalMs: 200, weights: null,
        doc: ${JSON.stringify({ nodes: doc.nodes, edges: doc.edges })},
        mnistUrl: new URL('mnist-10k.bin', location.href).href,
        wasmUrls: {
          'tfjs-backend-wasm.wasm': new URL(${JSON.stringify(find(/^tfjs-backend-wasm-[^st].*\.wasm$/))}, location.href).href,
          'tfjs-backend-wasm-simd.wasm': new URL(${JSON.stringify(find(/^tfjs-backend-wasm-simd-.*\.wasm$/))}, location.href).href,
          'tfjs-backend-wasm-threaded-simd.wasm': new URL(${JSON.stringify(find(/^tfjs-backend-wasm-threaded-simd-.*\.wasm$/))}, location.href).href,
        } });
    })`)) as { rate: number; threads: number | null };
  };
  const apps: Awaited<ReturnType<typeof inApp>>[] = [];
  const bares: Awaited<ReturnType<typeof bareWorker>>[] = [];
  for (let round = 0; round < 2; round++) {
    apps.push(await inApp());
    bares.push(await bareWorker());
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const appRate = mean(apps.map((a) => a.rate));
  const bare = mean(bares.map((b) => b.rate));
  const threadsText = (t: number | null) => (t === null ? 'threads unknown' : `${t} thread${t === 1 ? '' : 's'}`);
  console.log(`UI while MNIST trains (wasm, ${threadsText(apps[0]!.threads)}): ${apps.map((a) => `${a.fps.toFixed(0)} fps mean, p95 frame ${a.p95.toFixed(1)} ms`).join('; ')}`);
  console.log(`training throughput in the app: ${apps.map((a) => a.rate.toFixed(0)).join(', ')} samples/s (mean ${appRate.toFixed(0)})`);
  console.log(`same worker started directly in the same browser, no UI drawing it (wasm, ${threadsText(bares[0]!.threads)}, instrumentation at 5 Hz): ${bares.map((b) => b.rate.toFixed(0)).join(', ')} samples/s (mean ${bare.toFixed(0)}); app / no-UI = ${(appRate / bare).toFixed(2)}`);
  await browser.close();
  browser.close = async () => {};
  let out = '';
  await main(['bench', '--backend', 'wasm', '--steps', '60', '--rounds', '1'], { out: (t) => void (out += t), err: () => {}, isTTY: false });
  const m = /\(b\) Gradflow trainer, instrumentation off\s+(\d+)/.exec(out);
  const nodeRate = m ? Number(m[1]) : NaN;
  console.log(`same trainer without UI (Node, wasm, instrumentation off): ${nodeRate} samples/s; app / no-UI = ${(appRate / nodeRate).toFixed(2)}`);
} finally {
  await browser.close();
  server.kill();
}
