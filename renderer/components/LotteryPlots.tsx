/**
 * The lottery-ticket plots (Frankle & Carbin 2019, Figures 1 and 4 for LeNet-300-100): test
 * accuracy at the early-stopping iteration and the early-stopping iteration itself against
 * the fraction of weights remaining P_m (log scale, sparser to the right), for winning
 * tickets and both controls, with min–max error bars over trials; and the tickets' learning
 * curves labelled by P_m. Plain SVG: error bars and a reversed log axis are a few lines here.
 */
import { memo } from 'react';
import { ARM_LABELS, ARMS, type Arm, type LotteryData } from '../../core/experiments/lottery.ts';
import { remainingText } from '../nodes/view.ts';

const COLORS: Record<Arm, string> = { ticket: '#3b6fe0', randomReinit: '#e0603b', randomPruning: '#2f855a' };
const CURVE_COLORS = ['#3b6fe0', '#e0603b', '#2f855a', '#8e44ad', '#b7791f', '#0f8f8f', '#c92a2a', '#4a5568', '#d53f8c', '#718096'];
const W = 360;
const H = 200;
const PAD = { left: 48, right: 10, top: 22, bottom: 34 };

interface Point {
  x: number;
  y: number;
  lo: number;
  hi: number;
}

/** Points of one arm against P_m: accuracy (or early-stop iteration) with its range over trials. */
export function armPoints(data: LotteryData, arm: Arm, what: 'accuracy' | 'earlyStop'): Point[] {
  const out: Point[] = [];
  for (const r of data.rounds) {
    // The dense network (round 0) is where every arm starts.
    const a = r.round === 0 ? r.ticket : r[arm];
    if (!a) continue;
    const y = what === 'accuracy' ? a.testAccuracyAtEarlyStop : a.earlyStopIteration;
    const range = what === 'accuracy' ? a.testAccuracyRange : a.earlyStopRange;
    if (y === null) continue;
    out.push({ x: r.fractionRemaining, y, lo: range?.[0] ?? y, hi: range?.[1] ?? y });
  }
  return out;
}

function ticks(lo: number, hi: number, n = 4): number[] {
  if (hi <= lo) return [lo];
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const m = [1, 2, 5, 10].find((k) => (hi - lo) / (k * step) <= n) ?? 10;
  const s = m * step;
  const out: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) out.push(Number(v.toPrecision(6)));
  return out;
}

function SparsityChart({ data, what, title, label }: { data: LotteryData; what: 'accuracy' | 'earlyStop'; title: string; label: string }) {
  const series = ARMS.map((arm) => ({ arm, points: armPoints(data, arm, what) })).filter((s) => s.points.length > (s.arm === 'ticket' ? 0 : 1));
  const all = series.flatMap((s) => s.points);
  if (!all.length) return null;
  const xs = all.map((p) => p.x);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = [Math.min(...all.map((p) => p.lo)), Math.max(...all.map((p) => p.hi))];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 0.5 * Math.abs(yMin || 1) * 0.02, yMax + 0.5 * Math.abs(yMax || 1) * 0.02];
  const pad = (yMax - yMin) * 0.08;
  yMin -= pad;
  yMax += pad;
  const lx = (x: number) => Math.log(x);
  // Sparser to the right, as in the paper: 100 % on the left.
  const sx = (x: number) => PAD.left + (xMax === xMin ? 0.5 : (lx(xMax) - lx(x)) / (lx(xMax) - lx(xMin))) * (W - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const fmtY = (v: number) => (what === 'accuracy' ? `${(100 * v).toFixed(1)}` : String(Math.round(v)));
  return (
    <figure className="lottery-chart" data-testid={`lottery-${what}`}>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={title}>
        <text x={W / 2} y={14} textAnchor="middle" className="chart-title">
          {title}
        </text>
        {ticks(yMin, yMax).map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(t)} y2={sy(t)} className="grid" />
            <text x={PAD.left - 4} y={sy(t) + 3} textAnchor="end" className="tick">
              {fmtY(t)}
            </text>
          </g>
        ))}
        {data.rounds.map((r) => (
          <text key={r.round} x={sx(r.fractionRemaining)} y={H - PAD.bottom + 12} textAnchor="middle" className="tick">
            {remainingText(r.fractionRemaining).replace(' %', '')}
          </text>
        ))}
        <text x={W / 2} y={H - 6} textAnchor="middle" className="axis-label">
          weights remaining P_m (%, log scale)
        </text>
        <text x={10} y={H / 2} textAnchor="middle" transform={`rotate(-90 10 ${H / 2})`} className="axis-label">
          {label}
        </text>
        {series.map(({ arm, points }) => (
          <g key={arm} stroke={COLORS[arm]} fill={COLORS[arm]} data-arm={arm}>
            <polyline fill="none" strokeWidth={1.5} points={points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
            {points.map((p, i) => (
              <g key={i}>
                {p.hi > p.lo ? <line x1={sx(p.x)} x2={sx(p.x)} y1={sy(p.lo)} y2={sy(p.hi)} strokeWidth={1} /> : null}
                <circle cx={sx(p.x)} cy={sy(p.y)} r={2.5}>
                  <title>{`${ARM_LABELS[arm]}, P_m ${remainingText(p.x)}: ${fmtY(p.y)}${p.hi > p.lo ? ` (${fmtY(p.lo)}–${fmtY(p.hi)})` : ''}`}</title>
                </circle>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map(({ arm }) => (
          <span key={arm} style={{ color: COLORS[arm] }}>
            ● {ARM_LABELS[arm]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** Test accuracy as training proceeds, one curve per round's ticket, labelled by P_m. */
function LearningCurves({ data }: { data: LotteryData }) {
  const curves = data.rounds.map((r) => ({ pm: r.fractionRemaining, run: r.ticket.trials[0] })).filter((c) => c.run && c.run.steps.length > 1);
  if (!curves.length) return null;
  const xMax = Math.max(...curves.flatMap((c) => c.run!.steps));
  const ys = curves.flatMap((c) => c.run!.testAccuracy.filter((v): v is number => v !== null));
  // The first measurement is before training (chance level): start the axis where learning is visible.
  const later = curves.flatMap((c) => c.run!.testAccuracy.slice(1).filter((v): v is number => v !== null));
  const yMin = Math.max(0, Math.min(...(later.length ? later : ys)) - 0.02);
  const yMax = Math.min(1, Math.max(...ys) + 0.01);
  const sx = (x: number) => PAD.left + (x / Math.max(1, xMax)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (1 - (Math.max(yMin, y) - yMin) / Math.max(1e-9, yMax - yMin)) * (H - PAD.top - PAD.bottom);
  return (
    <figure className="lottery-chart" data-testid="lottery-curves">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label="Test accuracy of the winning tickets as training proceeds">
        <text x={W / 2} y={14} textAnchor="middle" className="chart-title">
          Test accuracy as training proceeds (tickets)
        </text>
        {ticks(yMin, yMax).map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(t)} y2={sy(t)} className="grid" />
            <text x={PAD.left - 4} y={sy(t) + 3} textAnchor="end" className="tick">
              {(100 * t).toFixed(1)}
            </text>
          </g>
        ))}
        {ticks(0, xMax).map((t) => (
          <text key={t} x={sx(t)} y={H - PAD.bottom + 12} textAnchor="middle" className="tick">
            {t}
          </text>
        ))}
        <text x={W / 2} y={H - 6} textAnchor="middle" className="axis-label">
          training iteration
        </text>
        {curves.map((c, i) => (
          <polyline
            key={i}
            fill="none"
            stroke={CURVE_COLORS[i % CURVE_COLORS.length]}
            strokeWidth={1.5}
            points={c.run!.steps.map((s, k) => (c.run!.testAccuracy[k] === null ? null : `${sx(s)},${sy(c.run!.testAccuracy[k]!)}`)).filter(Boolean).join(' ')}
          >
            <title>{`P_m ${remainingText(c.pm)}`}</title>
          </polyline>
        ))}
      </svg>
      <figcaption className="legend">
        {curves.map((c, i) => (
          <span key={i} style={{ color: CURVE_COLORS[i % CURVE_COLORS.length] }}>
            ● {remainingText(c.pm)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** All three plots of a result, and its table. */
export const LotteryPlots = memo(function LotteryPlots({ data }: { data: LotteryData }) {
  const pct = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(2)} %`);
  return (
    <div className="lottery-plots" data-testid="lottery-plots">
      <SparsityChart data={data} what="accuracy" title="Test accuracy at early stopping vs weights remaining" label="test accuracy (%)" />
      <SparsityChart data={data} what="earlyStop" title="Early-stopping iteration vs weights remaining" label="iteration" />
      <LearningCurves data={data} />
      <table className="lottery-table" aria-label="Lottery-ticket rounds">
        <thead>
          <tr>
            <th>round</th>
            <th>P_m</th>
            {ARMS.map((a) => (
              <th key={a}>{ARM_LABELS[a]}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.rounds.map((r) => (
            <tr key={r.round}>
              <td>{r.round}</td>
              <td>{remainingText(r.fractionRemaining)}</td>
              {ARMS.map((a) => {
                const arm = r.round === 0 ? (a === 'ticket' ? r.ticket : null) : r[a];
                return <td key={a}>{arm ? `${pct(arm.testAccuracyAtEarlyStop)} @ ${arm.earlyStopIteration ?? '–'}` : '–'}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});
