/** Run controls: backend, Train / Pause / Resume / Step / Stop / Reset weights, live learning rate, progress. */
import { useEffect, useState } from 'react';
import { kindDef } from '../../core/graph/catalogue.ts';
import { analysisOf } from '../store/editor.ts';
import { OptionSelect } from '../components/choices.tsx';
import { useEditor, useEditorStore } from '../store/context.tsx';
import { useRun, useTraining } from './context.tsx';
import type { BackendPreference } from './protocol.ts';
import { isLiveStatus } from './run.ts';
import { tfjsThreadCount } from '../../core/train/wasm-threads.ts';
import { formatNumber } from './scale.ts';

const BACKENDS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Auto (WebGPU → WebGL → WASM → CPU)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'webgl', label: 'WebGL' },
  { value: 'wasm', label: 'WASM' },
  { value: 'cpu', label: 'CPU' },
];

/** The WASM pool sizes offered; Auto is one thread per physical core (core/train/wasm-threads.ts). */
const THREAD_CHOICES = ['1', '2', '4', '8'] as const;

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function RunBar({ onTrain }: { onTrain: () => void }) {
  const client = useTraining();
  const store = useEditorStore();
  const status = useRun((s) => s.status);
  const backend = useRun((s) => s.backend);
  const fallbacks = useRun((s) => s.fallbacks);
  const threads = useRun((s) => s.threads);
  const pref = useRun((s) => s.backendPreference);
  const threadsPref = useRun((s) => s.threadsPreference);
  const progress = useRun((s) => s.progress);
  const lr = useRun((s) => s.learningRate);
  const hasWeights = useRun((s) => !!s.checkpoint);
  const docHasWeights = useEditor((s) => !!s.doc.weights);
  const evaluation = useRun((s) => s.evaluation);
  const doc = useEditor((s) => s.doc);
  const canTrain = analysisOf(doc).canTrain;
  const live = isLiveStatus(status);
  const optimizerLr = doc.nodes.find((n) => kindDef(n.kind)?.role === 'optimizer')?.params.learningRate as number | undefined;
  const [lrDraft, setLrDraft] = useState('');
  useEffect(() => setLrDraft(String(lr ?? optimizerLr ?? '')), [lr, optimizerLr]);
  const done = progress ? Math.min(1, progress.step / Math.max(1, progress.totalSteps)) : 0;
  const commitLr = () => {
    const v = Number(lrDraft);
    if (v > 0 && Number.isFinite(v)) client.setLearningRate(v);
    else setLrDraft(String(lr ?? optimizerLr ?? ''));
  };
  return (
    <div className="runbar" role="toolbar" aria-label="Training">
      <label>
        Backend{' '}
        <OptionSelect label="Backend" value={pref} disabled={live} options={BACKENDS} onChange={(p) => client.setBackend(p)} />
      </label>
      <label title="Threads of the WASM backend's XNNPACK pool (where the page is cross-origin isolated); takes effect on the next run">
        Threads{' '}
        <OptionSelect
          label="WASM threads"
          value={threadsPref === null ? 'auto' : String(threadsPref)}
          disabled={live}
          options={[{ value: 'auto', label: `Auto (${tfjsThreadCount(navigator.hardwareConcurrency)})` }, ...THREAD_CHOICES.map((t) => ({ value: t, label: t }))]}
          onChange={(v) => client.setThreads(v === 'auto' ? null : Number(v))}
        />
      </label>
      {!live ? (
        <button className="primary" onClick={onTrain} disabled={!canTrain} title={canTrain ? 'Train the network (continues from trained weights, if any)' : 'Fix the problems listed below to train'}>
          Train
        </button>
      ) : status === 'paused' ? (
        <button className="primary" onClick={() => client.resume()}>
          Resume
        </button>
      ) : (
        <button onClick={() => client.pause()} disabled={status !== 'running'}>
          Pause
        </button>
      )}
      <button onClick={() => client.step()} disabled={status !== 'paused'} title="One batch">
        Step
      </button>
      <button onClick={() => client.stop()} disabled={!live}>
        Stop
      </button>
      <button
        onClick={() => {
          client.resetWeights();
          if (store.getState().doc.weights) store.getState().setWeights(null);
        }}
        disabled={live || (!hasWeights && !docHasWeights)}
        title="Start the next run from fresh initial weights"
      >
        Reset weights
      </button>
      <button
        onClick={() => void client.evaluate(store.getState().doc, client.store.getState().checkpoint ?? store.getState().doc.weights ?? null)}
        disabled={live || !canTrain || (!hasWeights && !docHasWeights)}
        title="Measure the trained weights on the validation set and show their predictions, without training"
      >
        Evaluate
      </button>
      <label>
        λ{' '}
        <input
          className="lr"
          aria-label="Learning rate"
          value={lrDraft}
          onChange={(e) => setLrDraft(e.target.value)}
          onBlur={commitLr}
          onKeyDown={(e) => e.key === 'Enter' && commitLr()}
        />
      </label>
      <div className="progress" aria-label="Training progress">
        <div className="progress-track">
          <div className="progress-fill" style={{ width: `${(done * 100).toFixed(1)}%` }} />
        </div>
        <span className="progress-text" data-testid="progress-text">
          {progress
            ? `epoch ${progress.epoch}/${progress.epochs} · step ${progress.step}/${progress.totalSteps} · loss ${formatNumber(progress.loss)} · ${Math.round(progress.samplesPerSecond)} samples/s · ETA ${eta(progress.etaSeconds)}`
            : status === 'starting'
              ? 'starting…'
              : evaluation
                ? `weights from step ${evaluation.step}: validation loss ${evaluation.loss === null ? '—' : formatNumber(evaluation.loss)}${evaluation.accuracy === null ? '' : `, accuracy ${(evaluation.accuracy * 100).toFixed(1)}%`} (on ${evaluation.backend})`
                : docHasWeights || hasWeights
                  ? 'trained weights loaded: Train continues from them, Evaluate measures them'
                  : 'not trained yet'}
        </span>
      </div>
      <span className="backend" data-testid="backend" title={fallbacks.join('\n')} aria-label="Backend in use">
        {backend ? `on ${backend}` : ''}
        {backend && fallbacks.length ? ` (fell back: ${fallbacks.join('; ')})` : ''}
      </span>
      {backend && threads !== null ? (
        <span className="backend-threads" data-testid="backend-threads" aria-label="Threads in use" title={threads > 1 ? 'XNNPACK thread pool of the WASM backend (the page is cross-origin isolated)' : 'one thread'}>
          {`${threads} thread${threads === 1 ? '' : 's'}`}
        </span>
      ) : null}
    </div>
  );
}
