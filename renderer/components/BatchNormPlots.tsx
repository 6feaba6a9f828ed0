/**
 * The BatchNorm experiment's plots (Santurkar et al. 2018), one colour per arm: the chosen
 * layer's input distribution over training (quantile bands, their Figure 1/2), ICS
 * ‖G − G′‖ and cos(G, G′) for a chosen layer (Section 2.2), the loss variation, gradient
 * predictiveness and effective β-smoothness as min–max bands over the step sizes (Figure 4),
 * the curvature gᵀHg/gᵀg, the training curves and the learning-rate sweep. SVG, so every
 * plot is a role="img" element a test can find by its label.
 */
import { memo, useState } from 'react';
import type { BatchNormArmData, BatchNormData } from '../../core/experiments/batchnorm.ts';
import { formatNumber } from '../train/scale.ts';
import { OptionSelect } from './choices.tsx';

const W = 300;
const H = 200;
const PAD = { left: 46, right: 10, top: 22, bottom: 30 };
/** One colour per arm, the same in every plot. */
export const ARM_COLOURS: Record<BatchNormArmData['arm'], string> = { standard: '#c92a2a', batchNorm: '#3b6fe0', noisy: '#2f855a', layerNorm: '#8e44ad' };

interface Line {
  key: string;
  colour: string;
  xs: readonly number[];
  ys: readonly (number | null)[];
  /** A band drawn behind the line (min–max), when given. */
  lo?: readonly (number | null)[];
  hi?: readonly (number | null)[];
  dashed?: boolean;
}


/** Lines (and bands) against a shared x axis; log axes where asked. Points that are null or not positive on a log axis are left out. */
function Chart({ title, xLabel, yLabel, lines, logX = false, logY = false, testId }: { title: string; xLabel: string; yLabel: string; lines: Line[]; logX?: boolean; logY?: boolean; testId: string }) {
  // Steps are whole numbers; rates and values get three significant digits.
  const xText = (v: number) => (xLabel === 'step' ? String(Math.round(v)) : formatNumber(v));
  const ok = (v: number | null | undefined, log: boolean): v is number => v !== null && v !== undefined && Number.isFinite(v) && (!log || v > 0);
  const xsAll = lines.flatMap((l) => l.xs.filter((x) => ok(x, logX)));
  const ysAll = lines.flatMap((l) => [...l.ys, ...(l.lo ?? []), ...(l.hi ?? [])].filter((y): y is number => ok(y, logY)));
  if (!xsAll.length || !ysAll.length) return null;
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const ty = (v: number) => (logY ? Math.log10(v) : v);
  let [x0, x1] = [Math.min(...xsAll.map(tx)), Math.max(...xsAll.map(tx))];
  let [y0, y1] = [Math.min(...ysAll.map(ty)), Math.max(...ysAll.map(ty))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.05, y1 + (Math.abs(y1) || 1) * 0.05];
  const sx = (v: number) => PAD.left + ((tx(v) - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (v: number) => PAD.top + (1 - (ty(v) - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const back = (v: number, log: boolean) => (log ? Math.pow(10, v) : v);
  const path = (xs: readonly number[], ys: readonly (number | null)[]) =>
    xs
      .map((x, i) => (ok(x, logX) && ok(ys[i], logY) ? `${sx(x).toFixed(1)},${sy(ys[i]!).toFixed(1)}` : null))
      .filter((p): p is string => p !== null)
      .join(' ');
  return (
    <figure className="lottery-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={title}>
        <text x={W / 2} y={14} textAnchor="middle" className="chart-title">
          {title}
        </text>
        <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} className="grid" fill="none" />
        {[y0, (y0 + y1) / 2, y1].map((v) => (
          <text key={v} x={PAD.left - 4} y={sy(back(v, logY)) + 3} textAnchor="end" className="tick">
            {formatNumber(back(v, logY))}
          </text>
        ))}
        {[x0, x1].map((v, i) => (
          <text key={i} x={sx(back(v, logX))} y={H - PAD.bottom + 12} textAnchor={i ? 'end' : 'start'} className="tick">
            {xText(back(v, logX))}
          </text>
        ))}
        <text x={(PAD.left + W - PAD.right) / 2} y={H - 4} textAnchor="middle" className="axis-label">
          {xLabel}
          {logX ? ' (log)' : ''}
        </text>
        <text x={10} y={(PAD.top + H - PAD.bottom) / 2} textAnchor="middle" transform={`rotate(-90 10 ${(PAD.top + H - PAD.bottom) / 2})`} className="axis-label">
          {yLabel}
          {logY ? ' (log)' : ''}
        </text>
        {lines.map((l) => {
          const band = l.lo && l.hi ? `${path(l.xs, l.hi)} ${path([...l.xs].reverse(), [...l.lo].reverse())}` : null;
          return (
            <g key={l.key} data-series={l.key}>
              {band ? <polygon points={band} fill={l.colour} opacity={0.18} stroke="none" /> : null}
              <polyline points={path(l.xs, l.ys)} fill="none" stroke={l.colour} strokeWidth={1.6} strokeDasharray={l.dashed ? '4 3' : undefined} />
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function Legend({ arms }: { arms: BatchNormArmData[] }) {
  return (
    <p className="bn-legend" style={{ display: 'flex', gap: '1em', flexWrap: 'wrap', margin: '0.25em 0' }}>
      {arms.map((a) => (
        <span key={a.arm} style={{ color: ARM_COLOURS[a.arm] }}>
          ● {a.label}
        </span>
      ))}
    </p>
  );
}

/** The chosen layer's input over training, one small plot per arm: the 5–95 % and 25–75 % bands and the median. */
function Distributions({ arms }: { arms: BatchNormArmData[] }) {
  const withDist = arms.filter((a) => a.distribution);
  if (!withDist.length) return null;
  return (
    <div className="plots">
      {withDist.map((a) => {
        const d = a.distribution!;
        const q = (k: number) => d.quantiles.map((row) => row[k]!);
        return (
          <Chart
            key={a.arm}
            testId={`bn-distribution-${a.arm}`}
            title={`${a.label}: input of ${d.layer}`}
            xLabel="step"
            yLabel="activation"
            lines={[
              { key: 'outer', colour: ARM_COLOURS[a.arm], xs: a.steps, ys: q(2), lo: q(0), hi: q(4) },
              { key: 'inner', colour: ARM_COLOURS[a.arm], xs: a.steps, ys: q(2), lo: q(1), hi: q(3) },
            ]}
          />
        );
      })}
    </div>
  );
}

/** Every plot of a BatchNorm result. */
export const BatchNormPlots = memo(function BatchNormPlots({ data }: { data: BatchNormData }) {
  const arms = data.arms;
  const layers = arms[0]?.ics.layers ?? [];
  const [layer, setLayer] = useState<string>(layers[layers.length - 1] ?? '');
  const [logY, setLogY] = useState(true);
  if (!arms.length) return <p className="muted">No arm has finished yet.</p>;
  const li = (a: BatchNormArmData) => a.ics.layers.indexOf(layer);
  const per = (f: (a: BatchNormArmData) => Omit<Line, 'key' | 'colour' | 'xs'>, xs: (a: BatchNormArmData) => readonly number[] = (a) => a.steps) =>
    arms.map((a) => ({ key: a.arm, colour: ARM_COLOURS[a.arm], xs: xs(a), ...f(a) }));
  const swept = arms.filter((a) => a.sweep);
  return (
    <div className="result-view" data-testid="batchnorm-plots">
      <div className="view-options">
        <label>
          ICS of layer{' '}
          <OptionSelect label="ICS layer" value={layer} options={layers} onChange={setLayer} />
        </label>
        <label>
          <input type="checkbox" aria-label="Log scale" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> Log scale
        </label>
      </div>
      <Legend arms={arms} />
      <h4>Distributional stability</h4>
      <Distributions arms={arms} />
      <h4>Internal covariate shift</h4>
      <div className="plots">
        <Chart testId="bn-ics-distance" title={`‖G − G′‖₂ of ${layer}`} xLabel="step" yLabel="‖G − G′‖" logY={logY} lines={per((a) => ({ ys: li(a) >= 0 ? a.ics.distance[li(a)]! : [] }))} />
        <Chart testId="bn-ics-cosine" title={`cos(G, G′) of ${layer}`} xLabel="step" yLabel="cosine" lines={per((a) => ({ ys: li(a) >= 0 ? a.ics.cosine[li(a)]! : [] }))} />
      </div>
      <h4>Smoothness along the gradient (min–max over η = {data.etaFactors.join(', ')} × λ)</h4>
      <div className="plots">
        <Chart testId="bn-loss-variation" title="Loss landscape: L(W − η∇L)" xLabel="step" yLabel="loss" logY={logY} lines={per((a) => ({ ys: a.lossVariation.max, lo: a.lossVariation.min, hi: a.lossVariation.max }))} />
        <Chart testId="bn-predictiveness" title="Gradient predictiveness" xLabel="step" yLabel="‖∇L(W) − ∇L(W − η∇L)‖" logY={logY} lines={per((a) => ({ ys: a.predictiveness.max, lo: a.predictiveness.min, hi: a.predictiveness.max }))} />
        <Chart testId="bn-beta" title="Effective β-smoothness" xLabel="step" yLabel="max Δ‖∇L‖ / ‖η∇L‖" logY={logY} lines={per((a) => ({ ys: a.beta.max, lo: a.beta.min, hi: a.beta.max }))} />
        <Chart testId="bn-curvature" title="Curvature along the gradient gᵀHg / gᵀg" xLabel="step" yLabel="gᵀHg / gᵀg" lines={per((a) => ({ ys: a.curvature }))} />
      </div>
      <h4>Training</h4>
      <div className="plots">
        <Chart testId="bn-curve" title="Training loss" xLabel="step" yLabel="loss" logY={logY} lines={per((a) => ({ ys: a.curve.loss }), (a) => a.curve.steps)} />
        {swept.length ? (
          <>
            <Chart testId="bn-sweep-loss" title="Learning-rate sweep: final training loss" xLabel="learning rate" yLabel="loss" logX logY={logY} lines={swept.map((a) => ({ key: a.arm, colour: ARM_COLOURS[a.arm], xs: a.sweep!.rates, ys: a.sweep!.loss }))} />
            <Chart testId="bn-sweep-accuracy" title="Learning-rate sweep: training accuracy" xLabel="learning rate" yLabel="accuracy" logX lines={swept.map((a) => ({ key: a.arm, colour: ARM_COLOURS[a.arm], xs: a.sweep!.rates, ys: a.sweep!.accuracy }))} />
          </>
        ) : null}
      </div>
      <table className="eigen" aria-label="Arms compared">
        <thead>
          <tr>
            <th />
            <th>arm</th>
            <th>steps</th>
            <th>train loss</th>
            <th>val accuracy</th>
            <th>diverged in sweep</th>
          </tr>
        </thead>
        <tbody>
          {arms.map((a) => (
            <tr key={a.arm} data-arm={a.arm}>
              <td>
                <span className="swatch" style={{ background: ARM_COLOURS[a.arm] }} />
              </td>
              <td style={{ textAlign: 'left' }}>{a.label}</td>
              <td>{a.final.steps}</td>
              <td>{a.final.trainLoss === null ? '—' : a.final.trainLoss.toFixed(4)}</td>
              <td>{a.final.validationAccuracy === null ? '—' : `${(a.final.validationAccuracy * 100).toFixed(1)}%`}</td>
              <td>{a.sweep ? a.sweep.rates.filter((_, i) => a.sweep!.diverged[i]).map((r) => r.toPrecision(2)).join(', ') || 'none' : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="result-figures">
        {data.inserted ? 'BatchNorm inserted after' : 'BatchNorm nodes'} {data.sites.join(', ')} · probes on {data.probeSamples} examples
      </p>
    </div>
  );
});
