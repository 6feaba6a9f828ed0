/**
 * Plots of landscape results on canvases: a 1-D curve, a contour map and a rotatable 3-D
 * surface. The geometry is in plot-math.ts; these only draw. Canvases are redrawn when their
 * data or view changes, never per frame.
 */
import { useEffect, useRef, useState } from 'react';
import { prepareCanvas } from '../canvas.ts';
import { contourLevels, contourSegments, fillGrid, project, scaler, viridis, type Projected } from './plot-math.ts';

const W = 300;
const H = 240;

function useCanvas(draw: (ctx: CanvasRenderingContext2D, w: number, h: number) => void, deps: unknown[]) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = prepareCanvas(ref.current, W, H);
    if (!ctx) return;
    draw(ctx, W, H);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}

/** The page's text colour, resolved (the --text variable itself holds light-dark(), which a canvas cannot read). */
function textColour(): string {
  return getComputedStyle(document.documentElement).color || '#1c2230';
}

/** An axis label: short (the plots are small), in exponent form far from 1. */
const tickLabel = (v: number) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(Math.abs(v) < 1 ? 3 : 2));

function range(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** A grid's values (gaps filled from their neighbours), their range, and the map of a value onto [0, 1]; null when none is known. */
function scaledGrid(values: readonly (number | null)[], nx: number, ny: number, log: boolean) {
  const grid = fillGrid(values, nx, ny);
  if (!grid) return null;
  const [lo, hi] = range(grid);
  return { grid, lo, hi, s: scaler(lo, hi, log) };
}

/** A grid plot's data: values on the grid xs × ys (row j is β = ys[j]), on a log scale or not. */
interface GridPlotProps {
  label: string;
  xs: readonly number[];
  ys: readonly number[];
  values: readonly (number | null)[];
  log: boolean;
}

/** The canvas of a grid plot: drawn from the scaled grid whenever the data or `deps` change, blank while no value is known. */
function useGridCanvas({ xs, ys, values, log }: GridPlotProps, draw: (ctx: CanvasRenderingContext2D, w: number, h: number, scaled: NonNullable<ReturnType<typeof scaledGrid>>) => void, deps: unknown[]) {
  return useCanvas(
    (ctx, w, h) => {
      const scaled = scaledGrid(values, xs.length, ys.length, log);
      if (scaled) draw(ctx, w, h, scaled);
    },
    [xs, ys, values, log, ...deps],
  );
}

/** One or more 1-D curves (loss against α), e.g. two minima side by side; dashed: accuracy on the right axis. */
export function CurvePlot({ label, xs, series, log }: { label: string; xs: readonly number[]; series: { name: string; colour: string; loss: readonly (number | null)[]; accuracy?: readonly (number | null)[] | null }[]; log: boolean }) {
  const ref = useCanvas(
    (ctx, w, h) => {
      const pad = { l: 44, r: 34, t: 10, b: 28 };
      const all = series.flatMap((s) => s.loss.filter((v): v is number => v !== null && Number.isFinite(v)));
      if (!all.length) return;
      const [lo, hi] = range(all);
      const sy = scaler(lo, hi, log);
      const X = (a: number) => pad.l + ((a - xs[0]!) / (xs[xs.length - 1]! - xs[0]! || 1)) * (w - pad.l - pad.r);
      const Y = (v: number) => h - pad.b - sy(v) * (h - pad.t - pad.b);
      const Ya = (v: number) => h - pad.b - v * (h - pad.t - pad.b);
      ctx.strokeStyle = textColour();
      ctx.fillStyle = textColour();
      ctx.font = '10px sans-serif';
      ctx.globalAlpha = 0.5;
      ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
      ctx.globalAlpha = 1;
      ctx.fillText(tickLabel(hi), 2, pad.t + 8);
      ctx.fillText(tickLabel(lo), 2, h - pad.b);
      ctx.fillText(String(xs[0]), pad.l - 6, h - pad.b + 12);
      ctx.fillText(String(xs[xs.length - 1]), w - pad.r - 10, h - pad.b + 12);
      ctx.fillText('α', (pad.l + w - pad.r) / 2, h - 4);
      ctx.fillText(log ? 'loss (log)' : 'loss', pad.l + 4, pad.t + 10);
      for (const s of series) {
        ctx.strokeStyle = s.colour;
        ctx.lineWidth = 2;
        ctx.setLineDash([]);
        ctx.beginPath();
        let started = false;
        s.loss.forEach((v, i) => {
          if (v === null || !Number.isFinite(v)) return;
          if (started) ctx.lineTo(X(xs[i]!), Y(v));
          else ctx.moveTo(X(xs[i]!), Y(v));
          started = true;
        });
        ctx.stroke();
        if (s.accuracy) {
          ctx.setLineDash([4, 3]);
          ctx.lineWidth = 1;
          ctx.beginPath();
          started = false;
          s.accuracy.forEach((v, i) => {
            if (v === null) return;
            if (started) ctx.lineTo(X(xs[i]!), Ya(v));
            else ctx.moveTo(X(xs[i]!), Ya(v));
            started = true;
          });
          ctx.stroke();
        }
      }
      ctx.setLineDash([]);
      ctx.fillStyle = textColour();
      if (series.some((s) => s.accuracy)) ctx.fillText('acc', w - pad.r + 4, pad.t + 8);
    },
    [xs, series, log],
  );
  return <canvas ref={ref} className="plot" role="img" aria-label={label} style={{ width: W, height: H }} />;
}

/** A contour map of a grid: filled colours by value, contour lines, and θ* at (0, 0). */
export function ContourPlot(props: GridPlotProps & { legend: string; path?: { x: readonly number[]; y: readonly number[] } }) {
  const { label, xs, ys, log, legend, path } = props;
  const nx = xs.length;
  const ny = ys.length;
  const ref = useGridCanvas(
    props,
    (ctx, w, h, { grid, lo, hi, s }) => {
      const pad = { l: 30, r: 8, t: 8, b: 24 };
      const pw = w - pad.l - pad.r;
      const ph = h - pad.t - pad.b;
      const cw = pw / nx;
      const ch = ph / ny;
      // Row j is β = ys[j]; β grows upward on screen.
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          ctx.fillStyle = viridis(s(grid[j * nx + i]!));
          ctx.fillRect(pad.l + i * cw, pad.t + (ny - 1 - j) * ch, cw + 0.5, ch + 0.5);
        }
      }
      const gx = (x: number) => pad.l + (x + 0.5) * cw;
      const gy = (y: number) => pad.t + (ny - 1 - y + 0.5) * ch;
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.lineWidth = 1;
      for (const level of contourLevels(lo, hi, 10, log)) {
        ctx.beginPath();
        for (const seg of contourSegments(grid, nx, ny, level)) {
          ctx.moveTo(gx(seg.x1), gy(seg.y1));
          ctx.lineTo(gx(seg.x2), gy(seg.y2));
        }
        ctx.stroke();
      }
      // θ* (α = β = 0), where the grid has it.
      const zi = xs.indexOf(0);
      const zj = ys.indexOf(0);
      if (zi >= 0 && zj >= 0) {
        ctx.fillStyle = '#ff4d4f';
        ctx.beginPath();
        ctx.arc(gx(zi), gy(zj), 3.5, 0, Math.PI * 2);
        ctx.fill();
      }
      if (path && path.x.length) {
        // A point (α, β) in grid coordinates: where it falls between the grid's values.
        const toGrid = (v: number, axis: readonly number[]) => ((v - axis[0]!) / (axis[axis.length - 1]! - axis[0]! || 1)) * (axis.length - 1);
        ctx.strokeStyle = '#ff4d4f';
        ctx.fillStyle = '#ff4d4f';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        path.x.forEach((x, i) => {
          const px = gx(toGrid(x, xs));
          const py = gy(toGrid(path.y[i]!, ys));
          if (i === 0) ctx.moveTo(px, py);
          else ctx.lineTo(px, py);
        });
        ctx.stroke();
        path.x.forEach((x, i) => {
          ctx.beginPath();
          ctx.arc(gx(toGrid(x, xs)), gy(toGrid(path.y[i]!, ys)), 2.5, 0, Math.PI * 2);
          ctx.fill();
        });
      }
      ctx.fillStyle = textColour();
      ctx.font = '10px sans-serif';
      ctx.fillText(String(xs[0]), pad.l, h - pad.b + 12);
      ctx.fillText(String(xs[nx - 1]), w - pad.r - 12, h - pad.b + 12);
      ctx.fillText('α', pad.l + pw / 2, h - 4);
      ctx.fillText('β', 4, pad.t + ph / 2);
      ctx.fillText(`${legend} ${tickLabel(lo)}–${tickLabel(hi)}${log ? ' (log)' : ''}`, pad.l + 4, pad.t + 10);
    },
    [legend, path],
  );
  return <canvas ref={ref} className="plot" role="img" aria-label={label} style={{ width: W, height: H }} />;
}

/** A 3-D surface of a grid, rotated by dragging (or the arrow keys), drawn back to front. */
export function SurfacePlot(props: GridPlotProps) {
  const { label, xs, ys, log } = props;
  const [view, setView] = useState({ yaw: -0.7, pitch: 0.55 });
  const drag = useRef<{ x: number; y: number; yaw: number; pitch: number } | null>(null);
  const nx = xs.length;
  const ny = ys.length;
  const ref = useGridCanvas(
    props,
    (ctx, w, h, { grid, s }) => {
      const scale = Math.min(w, h) * 0.36;
      const pts: Projected[] = grid.map((v, k) => {
        const i = k % nx;
        const j = Math.floor(k / nx);
        return project((i / (nx - 1)) * 2 - 1, (j / (ny - 1)) * 2 - 1, s(v) * 1.2 - 0.6, view.yaw, view.pitch);
      });
      const P = (p: Projected) => [w / 2 + p.x * scale, h / 2 - p.y * scale] as const;
      const quads: { depth: number; k: number[]; t: number }[] = [];
      for (let j = 0; j < ny - 1; j++) {
        for (let i = 0; i < nx - 1; i++) {
          const k = [j * nx + i, j * nx + i + 1, (j + 1) * nx + i + 1, (j + 1) * nx + i];
          quads.push({ depth: k.reduce((a, q) => a + pts[q]!.depth, 0) / 4, k, t: k.reduce((a, q) => a + s(grid[q]!), 0) / 4 });
        }
      }
      quads.sort((a, b) => a.depth - b.depth); // far first (painter's algorithm)
      ctx.lineWidth = 0.5;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
      for (const q of quads) {
        ctx.fillStyle = viridis(q.t);
        ctx.beginPath();
        q.k.forEach((idx, n) => {
          const [x, y] = P(pts[idx]!);
          if (n === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        });
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
      ctx.fillStyle = textColour();
      ctx.font = '10px sans-serif';
      ctx.fillText(`drag to rotate${log ? ' · log scale' : ''}`, 6, h - 6);
    },
    [view],
  );
  return (
    <canvas
      ref={ref}
      className="plot surface"
      role="img"
      tabIndex={0}
      aria-label={label}
      data-yaw={view.yaw.toFixed(2)}
      style={{ width: W, height: H, touchAction: 'none' }}
      onPointerDown={(e) => {
        drag.current = { x: e.clientX, y: e.clientY, ...view };
        e.currentTarget.setPointerCapture(e.pointerId);
      }}
      onPointerMove={(e) => {
        const d = drag.current;
        if (!d) return;
        setView({ yaw: d.yaw + (e.clientX - d.x) * 0.01, pitch: Math.max(0.05, Math.min(1.5, d.pitch + (e.clientY - d.y) * 0.01)) });
      }}
      onPointerUp={() => {
        drag.current = null;
      }}
      onKeyDown={(e) => {
        const step = 0.15;
        if (e.key === 'ArrowLeft') setView((v) => ({ ...v, yaw: v.yaw - step }));
        else if (e.key === 'ArrowRight') setView((v) => ({ ...v, yaw: v.yaw + step }));
        else if (e.key === 'ArrowUp') setView((v) => ({ ...v, pitch: Math.min(1.5, v.pitch + step) }));
        else if (e.key === 'ArrowDown') setView((v) => ({ ...v, pitch: Math.max(0.05, v.pitch - step) }));
        else return;
        e.preventDefault();
      }}
    />
  );
}
