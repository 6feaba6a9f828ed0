/** How each experiment's result is drawn in the Experiments panel, by experiment name. */
import { useState, type ComponentProps, type ReactNode } from 'react';
import type { JsonRecord } from '../../core/experiments/framework.ts';
import type { LandscapeData } from '../../core/experiments/landscape.ts';
import type { LotteryData } from '../../core/experiments/lottery.ts';
import { LotteryPlots } from '../components/LotteryPlots.tsx';
import { OptionSelect, type SelectOptions } from '../components/choices.tsx';
import { BatchNormPlots } from '../components/BatchNormPlots.tsx';
import type { BatchNormData } from '../../core/experiments/batchnorm.ts';
import type { InterpolationData } from '../../core/experiments/interpolation.ts';
import type { SharpFlatData } from '../../core/experiments/sharp-flat.ts';
import type { SharpnessData } from '../../core/experiments/sharpness.ts';
import type { TrajectoryData } from '../../core/experiments/trajectory.ts';
import type { InitializationData } from '../../core/experiments/initialization.ts';
import { localMinima, type SurfacesData } from '../../core/experiments/variants.ts';
import { experimentDef } from '../../core/experiments/registry.ts';
import { ContourPlot, CurvePlot, SurfacePlot } from './plots.tsx';

export const PALETTE = ['#3b6fe0', '#c92a2a', '#2f855a', '#b7791f', '#8e44ad', '#0f8f8f'];

function LogScale({ log, setLog }: { log: boolean; setLog: (v: boolean) => void }) {
  return (
    <label>
      <input type="checkbox" aria-label="Log scale" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log scale
    </label>
  );
}

/** A result with a Log scale option: `plot` draws it on the chosen scale, and what the experiment adds follows below. */
function LogScaleView({ plot, children, initialLog = false }: { plot: (log: boolean) => ReactNode; children?: ReactNode; initialLog?: boolean }) {
  const [log, setLog] = useState(initialLog);
  return (
    <div className="result-view">
      <div className="view-options">
        <LogScale log={log} setLog={setLog} />
      </div>
      {plot(log)}
      {children}
    </div>
  );
}

/** A result drawn as 1-D curves (interpolations, sharp vs flat), on a linear or log scale. */
function LogCurveView({ children, ...curves }: Omit<ComponentProps<typeof CurvePlot>, 'log'> & { children?: ReactNode }) {
  return <LogScaleView plot={(log) => <CurvePlot {...curves} log={log} />}>{children}</LogScaleView>;
}

/** What a 2-D landscape's maps show: the loss, or the training accuracy where it was measured. */
const LANDSCAPE_LAYERS: SelectOptions<'loss' | 'accuracy'> = [
  { value: 'loss', label: 'loss' },
  { value: 'accuracy', label: 'training accuracy' },
];

/** A test error as a percentage with one decimal, or a dash where it was not measured. */
const percentOrDash = (error: number | null) => (error === null ? '—' : `${(error * 100).toFixed(1)}%`);

/** Contour maps of the loss side by side, each captioned with its label (a network's variants, the initializers). */
function ContourMaps({ title, maps, log }: { title: string; maps: (Pick<ComponentProps<typeof ContourPlot>, 'xs' | 'ys' | 'values' | 'path'> & { label: string })[]; log: boolean }) {
  return (
    <div className="plots">
      {maps.map(({ label, ...grid }) => (
        <figure key={label} className="variant">
          <figcaption>{label}</figcaption>
          <ContourPlot label={`${title}: ${label}`} {...grid} log={log} legend="loss" />
        </figure>
      ))}
    </div>
  );
}

function LandscapeView({ data, title }: { data: LandscapeData; title: string }) {
  const [log, setLog] = useState(false);
  const [layer, setLayer] = useState<'loss' | 'accuracy'>('loss');
  const values = layer === 'accuracy' && data.accuracy ? data.accuracy : data.loss;
  return (
    <div className="result-view">
      <div className="view-options">
        <LogScale log={log} setLog={setLog} />
        {data.dimensions === 2 && data.accuracy ? (
          <label>
            Layer{' '}
            <OptionSelect label="Layer" value={layer} options={LANDSCAPE_LAYERS} onChange={setLayer} />
          </label>
        ) : null}
      </div>
      {data.dimensions === 1 ? (
        <CurvePlot label={`${title}: 1-D curve`} xs={data.xs} log={log} series={[{ name: 'θ*', colour: PALETTE[0]!, loss: data.loss, accuracy: data.accuracy }]} />
      ) : (
        <div className="plots">
          <ContourPlot label={`${title}: contour map`} xs={data.xs} ys={data.ys} values={values} log={log && layer === 'loss'} legend={layer} />
          <SurfacePlot label={`${title}: 3-D surface`} xs={data.xs} ys={data.ys} values={values} log={log && layer === 'loss'} />
        </div>
      )}
      <p className="result-figures">
        loss at θ* {data.center.loss.toFixed(4)}
        {data.center.accuracy !== null ? `, accuracy ${(data.center.accuracy * 100).toFixed(1)}%` : ''} · {data.samples.toLocaleString('en-US')} examples · {data.moved.toLocaleString('en-US')} weights moved
      </p>
    </div>
  );
}

function SharpnessView({ data }: { data: SharpnessData }) {
  return (
    <div className="result-view">
      <p className="lambda" data-testid="lambda-max">
        λmax = {data.eigenvalues[0]!.toPrecision(5)}
      </p>
      <table className="eigen" aria-label="Hessian eigenvalues">
        <thead>
          <tr>
            <th>#</th>
            <th>eigenvalue</th>
            <th>products</th>
          </tr>
        </thead>
        <tbody>
          {data.eigenvalues.map((e, i) => (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>{e.toPrecision(5)}</td>
              <td>
                {data.iterations[i]}
                {data.converged[i] ? '' : ' (limit)'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="result-figures">
        loss {data.loss.toFixed(4)} over {data.samples.toLocaleString('en-US')} examples · Hessian over {data.parameters.toLocaleString('en-US')} weights
      </p>
    </div>
  );
}

function InterpolationView({ data }: { data: InterpolationData }) {
  return (
    <LogCurveView label="Interpolation: loss along the line" xs={data.alphas} series={[{ name: 'θ(α)', colour: PALETTE[0]!, loss: data.loss, accuracy: data.accuracy }]}>
      <p className="result-figures">
        α = 0: {data.ends[0]!.label}, loss {data.ends[0]!.loss.toFixed(4)} · α = 1: {data.ends[1]!.label}, loss {data.ends[1]!.loss.toFixed(4)} · ‖θ₂ − θ₁‖ = {data.distance.toPrecision(4)}
      </p>
    </LogCurveView>
  );
}

function SharpFlatView({ data }: { data: SharpFlatData }) {
  return (
    <LogCurveView label="Sharp vs flat: 1-D curves" xs={data.alphas} series={data.runs.map((r, i) => ({ name: r.label, colour: PALETTE[i % PALETTE.length]!, loss: r.curve }))}>
      <table className="eigen" aria-label="Minima compared">
        <thead>
          <tr>
            <th />
            <th>run</th>
            <th>λmax</th>
            <th>test error</th>
            <th>val loss</th>
            <th>steps</th>
          </tr>
        </thead>
        <tbody>
          {data.runs.map((r, i) => (
            <tr key={r.label}>
              <td>
                <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
              </td>
              <td style={{ textAlign: 'left' }}>{r.label}</td>
              <td>{r.lambdaMax.toPrecision(4)}</td>
              <td>{percentOrDash(r.testError)}</td>
              <td>{r.valLoss === null ? '—' : r.valLoss.toFixed(4)}</td>
              <td>{r.steps}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </LogCurveView>
  );
}

function TrajectoryView({ data }: { data: TrajectoryData }) {
  return (
    <LogScaleView plot={(log) => <ContourPlot label="Trajectory: path over the contour map" xs={data.xs} ys={data.ys} values={data.loss} log={log} legend="loss" path={data.path} />}>
      <p className="result-figures">
        {data.path.x.length} checkpoints (epochs {data.path.epoch[0]}–{data.path.epoch[data.path.epoch.length - 1]}) · explained variance {(data.explained[0]! * 100).toFixed(1)}% and {(data.explained[1]! * 100).toFixed(1)}% · {data.samples.toLocaleString('en-US')} examples
      </p>
    </LogScaleView>
  );
}

/** Surfaces of several trained variants side by side on one grid (skip connections, width), with their figures. */
function SurfacesView({ data, title }: { data: SurfacesData; title: string }) {
  return (
    <LogScaleView
      initialLog
      plot={(log) => <ContourMaps title={title} log={log} maps={data.variants.map((v) => ({ label: v.label, xs: data.xs, ys: data.ys, values: v.loss }))} />}
    >
      <table className="eigen" aria-label="Variants compared">
        <thead>
          <tr>
            <th>variant</th>
            <th>weights</th>
            <th>test error</th>
            <th>loss at minimum</th>
            <th>local minima</th>
            <th>steps</th>
          </tr>
        </thead>
        <tbody>
          {data.variants.map((v) => (
            <tr key={v.label}>
              <td style={{ textAlign: 'left' }}>{v.label}</td>
              <td>{v.parameters.toLocaleString('en-US')}</td>
              <td>{percentOrDash(v.testError)}</td>
              <td>{v.centerLoss.toPrecision(4)}</td>
              <td>{localMinima(v.loss, data.xs.length, data.ys.length)}</td>
              <td>{v.steps}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="result-figures">{data.samples.toLocaleString('en-US')} examples per point</p>
    </LogScaleView>
  );
}

/** One trajectory per initializer, side by side, with where each starts and ends. */
function InitializationView({ data }: { data: InitializationData }) {
  return (
    <LogScaleView
      initialLog
      plot={(log) => <ContourMaps title="Initialization" log={log} maps={data.runs.map((r) => ({ label: r.label, xs: r.trajectory.xs, ys: r.trajectory.ys, values: r.trajectory.loss, path: r.trajectory.path }))} />}
    >
      <table className="eigen" aria-label="Initializers compared">
        <thead>
          <tr>
            <th>initializer</th>
            <th>first epoch loss</th>
            <th>last epoch loss</th>
            <th>test error</th>
            <th>explained variance</th>
          </tr>
        </thead>
        <tbody>
          {data.runs.map((r) => (
            <tr key={r.label}>
              <td style={{ textAlign: 'left' }}>{r.label}</td>
              <td>{r.firstLoss === null ? '—' : r.firstLoss.toPrecision(4)}</td>
              <td>{r.trainLoss === null ? '—' : r.trainLoss.toPrecision(4)}</td>
              <td>{percentOrDash(r.testError)}</td>
              <td>
                {(r.trajectory.explained[0]! * 100).toFixed(0)}% + {(r.trajectory.explained[1]! * 100).toFixed(0)}%
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </LogScaleView>
  );
}

/** The plot of a result (or a partial one while it runs); a result this version cannot read says so. */
export function ResultView({ experiment, version, data, title }: { experiment: string; version: number; data: JsonRecord; title: string }) {
  const def = experimentDef(experiment);
  if (!def || version !== def.dataVersion) return <p className="muted">This result was made by another version of Gradflow; it is kept in the file as it is.</p>;
  const parsed = def.data.safeParse(data);
  if (!parsed.success) return <p className="muted">This result cannot be drawn: {parsed.error.issues[0]?.message}</p>;
  switch (experiment) {
    case 'landscape':
      return <LandscapeView data={parsed.data as LandscapeData} title={title} />;
    case 'lottery':
      return <LotteryPlots data={parsed.data as LotteryData} />;
    case 'interpolation':
      return <InterpolationView data={parsed.data as InterpolationData} />;
    case 'sharpVsFlat':
      return <SharpFlatView data={parsed.data as SharpFlatData} />;
    case 'trajectory':
      return <TrajectoryView data={parsed.data as TrajectoryData} />;
    case 'sharpness':
      return <SharpnessView data={parsed.data as SharpnessData} />;
    case 'batchnorm':
      return <BatchNormPlots data={parsed.data as BatchNormData} />;
    case 'skipConnections':
    case 'width':
      return <SurfacesView data={parsed.data as SurfacesData} title={title} />;
    case 'initialization':
      return <InitializationView data={parsed.data as InitializationData} />;
    default:
      return <pre className="result-json">{JSON.stringify(data).slice(0, 400)}</pre>;
  }
}
