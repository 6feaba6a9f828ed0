/**
 * The dashboard: loss/accuracy/learning-rate curves (uPlot), a histogram-over-time view of a
 * layer, the decision boundary under the data (2-D), the fitted curve (regression), the
 * confusion matrix (classification), test digits with predictions (MNIST), and runs to compare.
 */
import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RunRecord } from '../../core/graph/document.ts';
import type { BoundaryView } from '../../core/train/views.ts';
import { OptionSelect } from '../components/choices.tsx';
import { useEditor } from '../store/context.tsx';
import { useRun, useTraining } from './context.tsx';
import type { DataPoints } from './protocol.ts';
import { mergeRuns, type HistogramFrame, type RunState } from './run.ts';
import { formatNumber } from './scale.ts';

const PALETTE = ['#3b6fe0', '#e0603b', '#2f855a', '#8e44ad', '#b7791f', '#0f8f8f', '#c92a2a', '#4a5568', '#d53f8c', '#718096'];

function Chart({ data, series, title, height = 180, log = false }: { data: uPlot.AlignedData; series: uPlot.Series[]; title: string; height?: number; log?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join('|');
  useEffect(() => {
    if (!ref.current) return;
    const width = ref.current.clientWidth || 400;
    // The shell's "Enlarge plots" sets --chart-height on the dashboard, so curves grow with it.
    const tall = () => Number(getComputedStyle(ref.current!).getPropertyValue('--chart-height')) || height;
    plot.current = new uPlot(
      {
        title,
        width,
        height: tall(),
        series: [{ label: 'x' }, ...series],
        scales: { x: { time: false }, ...(log ? { y: { distr: 3 } } : {}) },
        axes: [{ stroke: 'var(--muted)' }, { stroke: 'var(--muted)' }],
        legend: { live: true },
      },
      data,
      ref.current,
    );
    const ro = new ResizeObserver(() => ref.current && plot.current?.setSize({ width: ref.current.clientWidth || width, height: tall() }));
    ro.observe(ref.current);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt when the set of series changes; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, title, height, log]);
  useEffect(() => plot.current?.setData(data), [data]);
  return <div ref={ref} className="chart" aria-label={title} role="img" />;
}

function Curves() {
  const epochs = useRun((s) => s.epochs);
  const stepLoss = useRun((s) => s.stepLoss);
  const lossData = useMemo<uPlot.AlignedData>(() => [epochs.map((e) => e.epoch), epochs.map((e) => e.trainLoss), epochs.map((e) => e.valLoss ?? null)], [epochs]);
  const accData = useMemo<uPlot.AlignedData>(() => [epochs.map((e) => e.epoch), epochs.map((e) => e.trainAccuracy ?? null), epochs.map((e) => e.valAccuracy ?? null)], [epochs]);
  const lrData = useMemo<uPlot.AlignedData>(() => [epochs.map((e) => e.epoch), epochs.map((e) => e.learningRate)], [epochs]);
  const stepData = useMemo<uPlot.AlignedData>(() => [stepLoss.map((p) => p.step), stepLoss.map((p) => p.loss)], [stepLoss]);
  const hasAcc = epochs.some((e) => e.trainAccuracy !== null);
  const last = epochs[epochs.length - 1];
  return (
    <div className="curves">
      <p className="metrics" data-testid="epoch-metrics">
        {last
          ? `epoch ${last.epoch}: loss ${formatNumber(last.trainLoss)}${last.valLoss !== null ? `, val loss ${formatNumber(last.valLoss)}` : ''}${last.trainAccuracy !== null ? `, accuracy ${(last.trainAccuracy * 100).toFixed(1)}%` : ''}${last.valAccuracy !== null ? `, val accuracy ${(last.valAccuracy * 100).toFixed(1)}%` : ''}`
          : 'Curves appear after the first epoch.'}
      </p>
      <div className="chart-grid">
        <Chart title="Loss per step" data={stepData} series={[{ label: 'loss', stroke: PALETTE[0], width: 1 }]} log />
        <Chart title="Loss per epoch" data={lossData} series={[{ label: 'train', stroke: PALETTE[0], width: 2 }, { label: 'validation', stroke: PALETTE[1], width: 2 }]} />
        {hasAcc ? <Chart title="Accuracy" data={accData} series={[{ label: 'train', stroke: PALETTE[0], width: 2 }, { label: 'validation', stroke: PALETTE[1], width: 2 }]} /> : null}
        <Chart title="Learning rate" data={lrData} series={[{ label: 'λ', stroke: PALETTE[2], width: 2 }]} />
      </div>
    </div>
  );
}

/** TensorBoard-style: one row per read-back, newest at the bottom, shade = count. */
const HistoryCanvas = memo(function HistoryCanvas({ frames }: { frames: HistogramFrame[] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || !frames.length) return;
    const W = 360;
    const H = 200;
    c.width = W;
    c.height = H;
    const lo = Math.min(...frames.map((f) => f.min));
    const hi = Math.max(...frames.map((f) => f.max));
    const span = hi - lo || 1;
    const rowH = H / frames.length;
    ctx.clearRect(0, 0, W, H);
    frames.forEach((f, r) => {
      const max = Math.max(1, ...f.counts);
      const binW = ((f.max - f.min) / f.counts.length / span) * W;
      f.counts.forEach((n, i) => {
        const x = ((f.min - lo) / span) * W + i * binW;
        ctx.fillStyle = `rgba(59, 111, 224, ${(n / max).toFixed(3)})`;
        ctx.fillRect(x, r * rowH, Math.max(1, binW), Math.ceil(rowH));
      });
    });
    ctx.fillStyle = getComputedStyle(c).color;
    ctx.font = '10px sans-serif';
    ctx.fillText(formatNumber(lo), 2, H - 2);
    const hiText = formatNumber(hi);
    ctx.fillText(hiText, W - ctx.measureText(hiText).width - 2, H - 2);
  }, [frames]);
  return <canvas ref={ref} className="history" role="img" aria-label="Weight histogram over time" />;
});

function Histograms() {
  const histories = useRun((s) => s.histories);
  const selected = useEditor((s) => s.selectedNodes);
  const ids = Object.keys(histories);
  const [chosen, setChosen] = useState<string | null>(null);
  const id = (selected.find((s) => histories[s]) ?? chosen ?? ids[0]) || null;
  const frames = id ? histories[id] : undefined;
  if (!ids.length) return <p className="hint">Weight histograms appear while the network trains.</p>;
  return (
    <div className="histograms">
      <label>
        Layer{' '}
        <OptionSelect label="Histogram layer" value={id ?? ''} options={ids} onChange={setChosen} />
      </label>
      <p className="hint">Weights of {id}, one row per measurement (newest at the bottom); darker means more weights in that bin.</p>
      {frames ? <HistoryCanvas frames={frames} /> : null}
    </div>
  );
}

function colorFor(cls: number, alpha: number): string {
  const hex = PALETTE[cls % PALETTE.length]!;
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
}

const BoundaryCanvas = memo(function BoundaryCanvas({ view, points }: { view: BoundaryView; points: DataPoints | null }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const S = 280;
    c.width = S;
    c.height = S;
    const { res, x0, x1, y0, y1 } = view.plane;
    const cell = S / res;
    for (let r = 0; r < res; r++)
      for (let col = 0; col < res; col++) {
        const i = r * res + col;
        ctx.fillStyle = colorFor(view.cls[i]!, 0.15 + 0.45 * Math.max(0, (view.conf[i]! - 1 / view.classes) / (1 - 1 / view.classes)));
        ctx.fillRect(col * cell, r * cell, Math.ceil(cell), Math.ceil(cell));
      }
    if (points && points.dims === 2) {
      for (let i = 0; i < points.y.length; i++) {
        const px = ((points.x[2 * i]! - x0) / (x1 - x0)) * S;
        const py = ((y1 - points.x[2 * i + 1]!) / (y1 - y0)) * S;
        ctx.beginPath();
        ctx.arc(px, py, 2.5, 0, Math.PI * 2);
        ctx.fillStyle = colorFor(points.y[i]!, 1);
        ctx.fill();
        ctx.strokeStyle = 'white';
        ctx.lineWidth = 0.6;
        ctx.stroke();
      }
    }
  }, [view, points]);
  return <canvas ref={ref} className="boundary" role="img" aria-label="Decision boundary" data-classes={view.classes} />;
});

function CurveCanvas({ x, y, points }: { x: Float32Array; y: Float32Array; points: DataPoints | null }) {
  const data = useMemo<uPlot.AlignedData>(() => {
    // Merge data points and the fitted curve on one sorted x axis (uPlot needs one).
    const rows: [number, number | null, number | null][] = [];
    x.forEach((v, i) => rows.push([v, y[i]!, null]));
    if (points) for (let i = 0; i < points.y.length; i++) rows.push([points.x[i]!, null, points.y[i]!]);
    rows.sort((a, b) => a[0] - b[0]);
    return [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])];
  }, [x, y, points]);
  return (
    <Chart
      title="Fitted curve over the data"
      data={data}
      series={[
        { label: 'network', stroke: PALETTE[1], width: 2, spanGaps: true },
        { label: 'data', stroke: PALETTE[0], width: 0, points: { show: true, size: 4, fill: PALETTE[0] }, paths: () => null },
      ]}
      height={240}
    />
  );
}

function Confusion() {
  const confusion = useRun((s) => s.views?.confusion);
  if (!confusion) return null;
  const k = confusion.classes;
  const rowTotals = Array.from({ length: k }, (_, t) => confusion.counts.slice(t * k, t * k + k).reduce((a, b) => a + b, 0));
  return (
    <table className="confusion" aria-label="Confusion matrix">
      <caption>{confusion.split === 'validation' ? 'Validation' : 'Training'} confusion matrix (rows: true class, columns: predicted)</caption>
      <thead>
        <tr>
          <th />
          {Array.from({ length: k }, (_, j) => (
            <th key={j}>{j}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: k }, (_, t) => (
          <tr key={t}>
            <th>{t}</th>
            {Array.from({ length: k }, (_, p) => {
              const n = confusion.counts[t * k + p]!;
              const share = rowTotals[t] ? n / rowTotals[t]! : 0;
              return (
                <td key={p} style={{ background: `rgba(${t === p ? '47,133,90' : '201,42,42'}, ${(share * 0.8).toFixed(2)})` }}>
                  {n}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Digits() {
  const digits = useRun((s) => s.views?.digits);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || !digits) return;
    const n = digits.labels.length;
    const cols = 8;
    c.width = cols * 30;
    c.height = Math.ceil(n / cols) * 30;
    const img = ctx.createImageData(28, 28);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 784; p++) {
        const v = 255 - Math.round(digits.pixels[i * 784 + p]! * 255);
        img.data.set([v, v, v, 255], p * 4);
      }
      ctx.putImageData(img, (i % cols) * 30 + 1, Math.floor(i / cols) * 30 + 1);
      if (digits.labels[i] !== digits.predictions[i]) {
        ctx.strokeStyle = '#c92a2a';
        ctx.strokeRect((i % cols) * 30 + 0.5, Math.floor(i / cols) * 30 + 0.5, 29, 29);
      }
    }
  }, [digits]);
  if (!digits) return null;
  const wrong = digits.labels.filter((l, i) => l !== digits.predictions[i]).length;
  return (
    <div className="digits">
      <canvas ref={ref} role="img" aria-label="Test digits with predictions" />
      <p>
        Predictions: {digits.predictions.join(' ')} — {wrong} of {digits.labels.length} wrong (red frames).
      </p>
    </div>
  );
}

function Runs() {
  const runs = useRun((s) => s.runs);
  const docRuns = useEditor((s) => s.doc.runs);
  const all = useMemo(() => mergeRuns(docRuns, runs), [runs, docRuns]);
  const [shown, setShown] = useState<Set<string>>(new Set());
  const picked = all.filter((r) => shown.has(r.id));
  const data = useMemo<uPlot.AlignedData>(() => {
    const maxEpoch = Math.max(0, ...picked.map((r) => r.epochs.length));
    const xs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
    return [xs, ...picked.map((r) => xs.map((e) => r.epochs[e - 1]?.valLoss ?? r.epochs[e - 1]?.trainLoss ?? null))];
  }, [picked]);
  if (!all.length) return <p className="hint">Finished runs are listed here to compare their curves.</p>;
  const label = (r: RunRecord) => `${String(r.settings.optimizer ?? '')} λ=${String(r.settings.learningRate ?? '')} ${r.backend} seed ${r.seed}`;
  return (
    <div className="runs">
      <ul>
        {all.map((r, i) => (
          <li key={r.id}>
            <label>
              <input
                type="checkbox"
                checked={shown.has(r.id)}
                onChange={(e) => {
                  const next = new Set(shown);
                  if (e.target.checked) next.add(r.id);
                  else next.delete(r.id);
                  setShown(next);
                }}
              />{' '}
              Run {i + 1}: {label(r)} — {r.status}, {r.epochs.length} epochs
              {r.epochs.length ? `, final val loss ${formatNumber(r.epochs[r.epochs.length - 1]!.valLoss ?? NaN)}` : ''}
            </label>
          </li>
        ))}
      </ul>
      {picked.length ? <Chart title="Validation loss per epoch" data={data} series={picked.map((r, i) => ({ label: `run ${all.indexOf(r) + 1}`, stroke: PALETTE[i % PALETTE.length], width: 2 }))} /> : null}
    </div>
  );
}

type Tab = 'curves' | 'data' | 'histograms' | 'confusion' | 'digits' | 'runs';

/** `actions`: buttons the shell puts at the end of the tab bar (e.g. enlarging the plots). */
/** What the edges' histograms show (the run store's `histogramMode`). */
const HISTOGRAM_MODES: readonly RunState['histogramMode'][] = ['weights', 'activations', 'gradients'];

export function Dashboard({ actions }: { actions?: ReactNode } = {}) {
  const [tab, setTab] = useState<Tab>('curves');
  const views = useRun((s) => s.views);
  const points = useRun((s) => s.points);
  const mode = useRun((s) => s.histogramMode);
  const status = useRun((s) => s.status);
  const training = useTraining();
  const tabs: { id: Tab; label: string; show: boolean }[] = [
    { id: 'curves', label: 'Curves', show: true },
    { id: 'data', label: views?.boundary ? 'Decision boundary' : 'Fit', show: !!(views?.boundary || views?.curve) },
    { id: 'histograms', label: 'Histograms', show: true },
    { id: 'confusion', label: 'Confusion', show: !!views?.confusion },
    { id: 'digits', label: 'Digits', show: !!views?.digits },
    { id: 'runs', label: 'Runs', show: true },
  ];
  return (
    <section className="dashboard" aria-label="Dashboard">
      <div className="tabs" role="tablist">
        {tabs
          .filter((t) => t.show)
          .map((t) => (
            <button key={t.id} role="tab" aria-selected={tab === t.id} onClick={() => setTab(t.id)}>
              {t.label}
            </button>
          ))}
        <label className="hist-mode">
          Edge histograms{' '}
          <OptionSelect label="Edge histograms" value={mode} options={HISTOGRAM_MODES} onChange={(m) => training.setHistogramMode(m)} />
        </label>
        <span className="status" data-testid="run-status">
          {status}
        </span>
        {actions}
      </div>
      <div className="tab-body" role="tabpanel">
        {tab === 'curves' ? <Curves /> : null}
        {tab === 'data' && views?.boundary ? <BoundaryCanvas view={views.boundary} points={points} /> : null}
        {tab === 'data' && views?.curve ? <CurveCanvas x={views.curve.x} y={views.curve.y} points={points} /> : null}
        {tab === 'histograms' ? <Histograms /> : null}
        {tab === 'confusion' ? <Confusion /> : null}
        {tab === 'digits' ? <Digits /> : null}
        {tab === 'runs' ? <Runs /> : null}
      </div>
    </section>
  );
}
