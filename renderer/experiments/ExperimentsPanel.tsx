/**
 * The Experiments panel: what can run on the open graph (from the experiments registry),
 * its settings (forms derived from the settings' specs, checked like node parameters), a
 * run in the worker with progress, pause and cancel, and the results kept in the document,
 * each with its plot, its settings and a button to run it again.
 */
import { useState } from 'react';
import { useStore } from 'zustand';
import { parseSettings, settingFromText, type ExperimentDef } from '../../core/experiments/framework.ts';
import { EXPERIMENTS, experimentDef } from '../../core/experiments/registry.ts';
import type { ExperimentResult, JsonValue } from '../../core/graph/document.ts';
import { checkParam, defaultParams, describeRange, type ParamSpec, type ParamSpecs, type ParamValue } from '../../core/graph/params.ts';
import { analysisOf } from '../store/editor.ts';
import { useEditor, useEditorStore } from '../store/context.tsx';
import { useRun, useTraining } from '../train/context.tsx';
import { ResultView } from './views.tsx';
import { ChoiceParamInput, OptionSelect } from '../components/choices.tsx';

function SettingField({ id, spec, value, onChange, values }: { id: string; spec: ParamSpec; value: ParamValue; onChange: (v: ParamValue) => void; values: Record<string, ParamValue> }) {
  const [draft, setDraft] = useState(String(value));
  const [error, setError] = useState<string | null>(null);
  if (spec.visibleWhen && !spec.visibleWhen(values)) return null;
  let input;
  if (spec.type === 'boolean' || spec.type === 'enum') input = <ChoiceParamInput id={id} spec={spec} value={value} onChange={onChange} />;
  else
    input = (
      <input
        id={id}
        aria-label={spec.label}
        inputMode="decimal"
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          // Lists (widths, initializers) are typed comma-separated, as on the command line.
          const v = spec.type === 'shape' || spec.type === 'strings' ? settingFromText(spec, e.target.value) : e.target.value.trim() === '' ? NaN : Number(e.target.value);
          const problem = checkParam(spec, v);
          setError(problem ? `${spec.label}: ${problem}` : null);
          if (!problem) onChange(v as ParamValue);
        }}
      />
    );
  return (
    <div className="field">
      <label htmlFor={id} title={spec.help}>
        {spec.label}
      </label>
      {input}
      <small className="help">{spec.help}</small>
      {error ? (
        <small className="field-error" role="alert">
          {error}
        </small>
      ) : (
        <small className="range">{describeRange(spec)}</small>
      )}
    </div>
  );
}

function summary(def: ExperimentDef | undefined, settings: Record<string, JsonValue>): string {
  if (!def) return Object.entries(settings).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  const specs = def.settings as ParamSpecs;
  return Object.entries(specs)
    .filter(([k, spec]) => k in settings && (!spec.visibleWhen || spec.visibleWhen(settings as Record<string, ParamValue>)))
    .map(([k, spec]) => `${spec.label} ${typeof settings[k] === 'boolean' ? (settings[k] ? 'on' : 'off') : String(settings[k])}`)
    .join(', ');
}

export function ExperimentsPanel() {
  const store = useEditorStore();
  const training = useTraining();
  const doc = useEditor((s) => s.doc);
  const status = useRun((s) => s.status);
  const checkpoint = useRun((s) => s.checkpoint);
  const ex = useStore(training.experiments);
  const [name, setName] = useState(EXPERIMENTS[0]!.name);
  const def = experimentDef(name)!;
  const [values, setValues] = useState<Record<string, Record<string, ParamValue>>>({});
  const [seed, setSeed] = useState(1);
  const [expanded, setExpanded] = useState(false);
  const settings = values[name] ?? defaultParams(def.settings as ParamSpecs);
  const a = analysisOf(doc);
  const live = status === 'starting' || status === 'running' || status === 'paused';
  const results = doc.experiments?.results ?? [];
  const weights = checkpoint ?? doc.weights ?? null;

  const start = async (n: string, s: Record<string, JsonValue>, sd: number) => {
    const d = experimentDef(n);
    if (!d) return;
    const parsed = parseSettings(d as never, s);
    if (!parsed.ok) {
      store.getState().notify('error', parsed.error);
      return;
    }
    const reason = d.check(store.getState().doc, parsed.settings);
    if (reason) {
      store.getState().notify('error', `${d.title}: ${reason}`);
      return;
    }
    const result = await training.runExperiment(store.getState().doc, weights, n, s, sd);
    const error = training.experiments.getState().error;
    if (error) store.getState().notify('error', `${d.title}: ${error}`);
    if (result) store.getState().addExperimentResult(result);
  };
  const why = !a.canTrain ? 'the graph cannot train yet: fix the problems first' : live ? 'training is running: stop it first' : ex.running ? 'an experiment is running' : null;

  return (
    <section className={`experiments${expanded ? ' expanded' : ''}`} aria-label="Experiments">
      <header>
        <h2>Experiments</h2>
        <button onClick={() => setExpanded(!expanded)} aria-pressed={expanded}>
          {expanded ? 'Collapse' : 'Expand'}
        </button>
      </header>
      <div className="exp-body">
        <div className="exp-setup">
          <label>
            Experiment{' '}
            <OptionSelect label="Experiment" value={name} options={EXPERIMENTS.map((e) => ({ value: e.name, label: e.title }))} onChange={setName} />
          </label>
          <p className="muted">{def.summary}</p>
          <p className="muted">{weights ? `On the trained weights (step ${weights.step}).` : 'On the initial weights: train the graph first to look at a minimum.'}</p>
          <div className="exp-settings">
            {Object.entries(def.settings as ParamSpecs).map(([key, spec]) => (
              <SettingField key={`${name}-${key}`} id={`exp-${name}-${key}`} spec={spec} value={settings[key]!} values={settings} onChange={(v) => setValues({ ...values, [name]: { ...settings, [key]: v } })} />
            ))}
            <div className="field">
              <label htmlFor="exp-seed">Seed</label>
              <input id="exp-seed" aria-label="Seed" inputMode="numeric" value={seed} onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value) || 0)))} />
              <small className="help">Every random choice of the experiment (directions, subsets) comes from it.</small>
            </div>
          </div>
          <div className="exp-actions">
            <button className="primary" disabled={!!why} title={why ?? `Run ${def.title.toLowerCase()}`} onClick={() => void start(name, settings as Record<string, JsonValue>, seed)}>
              Run {def.title.toLowerCase()}
            </button>
            {ex.running ? (
              <>
                <progress aria-label="Experiment progress" value={ex.done} max={ex.total || 1} />
                <span className="muted" data-testid="experiment-progress">
                  {ex.done}/{ex.total || '?'}
                  {ex.backend ? ` on ${ex.backend}` : ''}
                  {ex.paused ? ' (paused)' : ''}
                </span>
                {ex.paused ? <button onClick={() => training.resumeExperiment()}>Resume experiment</button> : <button onClick={() => training.pauseExperiment()}>Pause experiment</button>}
                <button onClick={() => training.cancelExperiment()}>Cancel experiment</button>
              </>
            ) : null}
          </div>
          {ex.running && ex.partial ? <ResultView experiment={ex.running.name} version={experimentDef(ex.running.name)!.dataVersion} data={ex.partial} title="Running" /> : null}
        </div>
        <ol className="exp-results" aria-label="Results">
          {results.length === 0 ? <li className="muted">No results yet. Results are saved with the graph.</li> : null}
          {[...results].reverse().map((r) => (
            <ResultItem
              key={r.id}
              result={r}
              onRunAgain={() => void start(r.experiment, r.settings, r.seed)}
              canRun={!why && !!experimentDef(r.experiment)}
              onRemove={() => store.getState().removeExperimentResult(r.id)}
              onApply={() => store.getState().applyExperimentResult(r)}
            />
          ))}
        </ol>
      </div>
    </section>
  );
}

function ResultItem({ result: r, onRunAgain, onRemove, onApply, canRun }: { result: ExperimentResult; onRunAgain: () => void; onRemove: () => void; onApply: () => void; canRun: boolean }) {
  const def = experimentDef(r.experiment);
  const title = def?.title ?? r.experiment;
  return (
    <li>
      <article aria-label={`${title} result`} className="exp-result">
        <header>
          <strong>{title}</strong>
          {r.status === 'cancelled' ? <span className="badge">cancelled</span> : null}
          <span className="muted">
            {' '}
            {new Date(r.startedAt).toLocaleString()} · {r.backend} · seed {r.seed} · {r.weightsStep === null ? 'initial weights' : `weights of step ${r.weightsStep}`} · {r.seconds.toFixed(1)} s
          </span>
        </header>
        <p className="settings-line">{summary(def, r.settings)}</p>
        <ResultView experiment={r.experiment} version={r.version} data={r.data} title={title} />
        <div className="exp-actions">
          <button disabled={!canRun} onClick={onRunAgain}>
            Run again
          </button>
          {def?.apply && r.version === def.dataVersion ? (
            <button onClick={onApply} title="Put what this result found on the graph (one undo step)">
              Apply to the graph
            </button>
          ) : null}
          <button onClick={onRemove}>Remove</button>
        </div>
      </article>
    </li>
  );
}
