/**
 * Your own data: a CSV or JSON file becomes a Table dataset. Choose the feature and label
 * columns, the task, normalisation and split; problems (non-numeric cells, missing labels…)
 * are shown before the node is made. The table is stored in the graph file, so a shared
 * file trains anywhere.
 */
import { useMemo, useState } from 'react';
import { NORMALIZATIONS, TABLE_TASKS, tableProblems, type TableImport } from '../../core/data/table.ts';
import { OptionSelect } from './choices.tsx';

export interface TableChoice {
  data: string;
  fileName: string;
  features: string[];
  label: string;
  task: (typeof TABLE_TASKS)[number];
  normalization: (typeof NORMALIZATIONS)[number];
  validationFraction: number;
}

export function ImportDialog({ imported, onCreate, onCancel }: { imported: TableImport; onCreate: (choice: TableChoice) => void; onCancel: () => void }) {
  const { table } = imported;
  const [features, setFeatures] = useState<string[]>(imported.features);
  const [label, setLabel] = useState(imported.label);
  const [task, setTask] = useState<TableChoice['task']>(imported.task as TableChoice['task']);
  const [normalization, setNormalization] = useState<TableChoice['normalization']>('standardize');
  const [validationFraction, setValidationFraction] = useState(0.2);
  const spec = { features: features.filter((f) => f !== label), label, task, normalization, validationFraction, seed: 1 };
  const problems = useMemo(() => tableProblems(table, spec), [table, features, label, task, normalization, validationFraction]); // eslint-disable-line react-hooks/exhaustive-deps
  const preview = Math.min(5, table.rows);
  return (
    <div className="modal-backdrop">
      <div className="modal import" role="dialog" aria-modal="true" aria-label="Import data" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
        <h2>Import {imported.fileName}</h2>
        <p>
          {table.rows.toLocaleString('en-US')} rows × {table.columns.length} columns. The table is stored in the graph file.
        </p>
        <div className="table-preview">
          <table aria-label="Preview">
            <thead>
              <tr>
                {table.columns.map((c) => (
                  <th key={c}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: preview }, (_, r) => (
                <tr key={r}>
                  {table.columns.map((c, j) => (
                    <td key={c}>{table.cells[j]![r]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <fieldset>
          <legend>Features (the inputs x)</legend>
          {table.columns.map((c) => (
            <label key={c} className="check">
              <input
                type="checkbox"
                aria-label={`Feature ${c}`}
                checked={features.includes(c) && c !== label}
                disabled={c === label}
                onChange={(e) => setFeatures(e.target.checked ? [...features, c].sort((a, b) => table.columns.indexOf(a) - table.columns.indexOf(b)) : features.filter((f) => f !== c))}
              />{' '}
              {c}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="import-label">Label (the targets y)</label>
          <OptionSelect id="import-label" label="Label column" value={label} options={table.columns} onChange={setLabel} />
        </div>
        <div className="field">
          <label htmlFor="import-task">Task</label>
          <OptionSelect id="import-task" label="Task" value={task} options={TABLE_TASKS} onChange={setTask} />
        </div>
        <div className="field">
          <label htmlFor="import-norm">Normalisation (statistics of the training rows)</label>
          <OptionSelect id="import-norm" label="Normalisation" value={normalization} options={NORMALIZATIONS} onChange={setNormalization} />
        </div>
        <div className="field">
          <label htmlFor="import-val">Validation fraction</label>
          <input id="import-val" aria-label="Validation fraction" type="number" min={0} max={0.9} step={0.05} value={validationFraction} onChange={(e) => setValidationFraction(Number(e.target.value))} />
        </div>
        {problems.length ? (
          <ul className="node-issues" aria-label="Import problems">
            {problems.map((p, i) => (
              <li key={i} className="error">
                {p.message}
              </li>
            ))}
          </ul>
        ) : null}
        <div className="modal-actions">
          <button className="primary" disabled={problems.length > 0} onClick={() => onCreate({ data: imported.data, fileName: imported.fileName, features: spec.features, label, task, normalization, validationFraction })}>
            Create dataset
          </button>
          <button onClick={onCancel}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
