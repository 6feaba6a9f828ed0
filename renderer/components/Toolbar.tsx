/** The main toolbar: file and edit commands from the registry, theme, parameter count. */
import type { ReactNode } from 'react';
import { CommandButton } from '../commands.tsx';
import { OptionSelect, type SelectOptions } from './choices.tsx';
import { analysisOf, isDirty } from '../store/editor.ts';
import { useEditor } from '../store/context.tsx';

export type Theme = 'system' | 'light' | 'dark';

const THEMES: SelectOptions<Theme> = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function Toolbar({ theme, onTheme, onSaveWithWeights, onImportData, extra }: { theme: Theme; onTheme(t: Theme): void; onSaveWithWeights(): void; onImportData(): void; extra?: ReactNode }) {
  const fileName = useEditor((s) => s.fileName);
  const dirty = useEditor(isDirty);
  const params = useEditor((s) => {
    const t = analysisOf(s.doc).totals;
    return t.trainable + t.nonTrainable;
  });
  return (
    <header className="toolbar" role="toolbar" aria-label="Main toolbar">
      <span className="brand">Gradflow</span>
      <span className="doc-title" aria-label="Document title">
        {fileName}
        {dirty ? <span className="dirty" aria-label="unsaved changes"> ●</span> : null}
      </span>
      <CommandButton id="new" />
      <CommandButton id="open" />
      <CommandButton id="save" />
      <CommandButton id="saveAs" />
      <button onClick={onSaveWithWeights} title="Save the graph with its trained weights and runs">
        Save with weights
      </button>
      <CommandButton id="examples" />
      <button onClick={onImportData} title="Make a Table dataset from a CSV or JSON file">
        Import data…
      </button>
      <CommandButton id="export" />
      {extra}
      <span className="sep" />
      <CommandButton id="undo" />
      <CommandButton id="redo" />
      <CommandButton id="tidyUp" />
      <CommandButton id="fitView" />
      <span className="sep" />
      <label className="theme">
        Theme{' '}
        <OptionSelect label="Theme" value={theme} options={THEMES} onChange={onTheme} />
      </label>
      <span className="totals-inline" aria-label="Parameter count">
        {params.toLocaleString('en-US')} parameters
      </span>
    </header>
  );
}
