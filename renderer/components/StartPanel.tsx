/**
 * What an empty canvas offers: a few examples to open in one click, the MNIST MLP built step
 * by step, your own data, a file. Gone as soon as the graph has a node; the guide stays
 * beside the canvas until it is closed.
 */
import { useCommands } from '../commands.tsx';
import { EXAMPLES } from '../examples.ts';
import { mnistGuide } from '../guide.ts';
import { useEditor } from '../store/context.tsx';
import { useRun } from '../train/context.tsx';
import { ExampleList } from './ExampleList.tsx';

const FEATURED = ['mnist-mlp.nngraph', 'spirals-deep-mlp.nngraph', 'xor.nngraph'];

export function StartPanel({ onOpenExample, onGuide, onImportData }: { onOpenExample(file: string, text: string): void; onGuide(): void; onImportData(): void }) {
  const commands = useCommands();
  const featured = FEATURED.flatMap((f) => EXAMPLES.filter((e) => e.file === f));
  return (
    <section className="start-panel" aria-label="Start">
      <h2>Start a network</h2>
      <ExampleList examples={featured} className="start-examples" action="Load" tooltips onOpen={onOpenExample} />
      <div className="start-actions">
        <button onClick={() => commands.run('examples')}>More sample graphs…</button>
        <button className="primary" onClick={onGuide}>
          Build the MNIST MLP step by step
        </button>
        <button onClick={onImportData}>Use your own data (CSV or JSON)…</button>
        <button onClick={() => commands.run('open')}>Open a graph file…</button>
      </div>
      <p className="hint">Or drag a node from the palette on the left, or double-click the canvas to add one by name.</p>
    </section>
  );
}

/** The step-by-step guide: each step ticks itself when the graph shows it done. */
export function GuidePanel({ onClose }: { onClose(): void }) {
  const doc = useEditor((s) => s.doc);
  const trained = useRun((s) => s.status !== 'idle');
  const steps = mnistGuide(doc, trained);
  const next = steps.findIndex((s) => !s.done);
  return (
    <section className="start-panel guide" aria-label="Guide: the MNIST MLP step by step">
      <h2>The MNIST MLP, step by step</h2>
      <ol>
        {steps.map((s, i) => (
          <li key={s.title} className={s.done ? 'done' : i === next ? 'current' : undefined} aria-current={i === next ? 'step' : undefined}>
            <span className="mark" aria-label={s.done ? 'done' : 'to do'}>{s.done ? '✓' : i + 1}</span>
            <span>
              {s.title}
              {i === next ? <small>{s.hint}</small> : null}
            </span>
          </li>
        ))}
      </ol>
      {next === -1 ? <p className="hint">Done: this is the network of the course’s first chapter. Try SGD instead of Adam, or add Dropout.</p> : null}
      <button onClick={onClose}>Close the guide</button>
    </section>
  );
}
