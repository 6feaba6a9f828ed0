/** The inspector: a form for the selected node generated from its parameter specs, or the document's details. */
import { useEffect, useState } from 'react';
import { DEFAULT_MEMORY_LIMIT, describeMemory, estimateMemory } from '../../core/compile/memory.ts';
import { formatBytes } from '../../core/graph/savings.ts';
import { cachedTable } from '../../core/data/table.ts';
import { kindDef } from '../../core/graph/catalogue.ts';
import { checkParam, describeRange, type ParamSpec, type ParamSpecs, type ParamValue } from '../../core/graph/params.ts';
import { shapeText } from '../nodes/view.ts';
import { analysisOf, savingsOf } from '../store/editor.ts';
import { MaskView, SavingsTable } from './Pruning.tsx';
import { ChoiceParamInput } from './choices.tsx';
import { useEditor, useEditorStore } from '../store/context.tsx';

function ParamField({ nodeId, name, spec, value, params }: { nodeId: string; name: string; spec: ParamSpec; value: ParamValue; params: Record<string, ParamValue> }) {
  const store = useEditorStore();
  const text = spec.type === 'shape' || spec.type === 'strings' ? (value as (number | string)[]).join(', ') : String(value);
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(text);
    setError(null);
  }, [text, nodeId]);
  if (spec.visibleWhen && !spec.visibleWhen(params)) return null;
  const id = `param-${nodeId}-${name}`;
  const commit = (v: ParamValue) => {
    const problem = store.getState().setParam(nodeId, name, v);
    setError(problem);
  };
  const parse = (raw: string): ParamValue => {
    if (spec.type === 'shape') return raw.split(/[\s,]+/).filter(Boolean).map(Number);
    if (spec.type === 'strings') return raw.split(',').map((x) => x.trim()).filter(Boolean);
    if (spec.type === 'int' || spec.type === 'number') return raw.trim() === '' ? NaN : Number(raw);
    return raw;
  };
  let input;
  if (spec.type === 'text' && spec.readOnly) {
    const table = name === 'data' ? cachedTable(value as string) : null;
    input = (
      <output id={id} aria-label={spec.label} className="readonly">
        {table ? (table.ok ? `${table.table.rows.toLocaleString('en-US')} rows × ${table.table.columns.length} columns, stored in the graph file` : table.error) : (value as string) || '—'}
      </output>
    );
  } else if (spec.type === 'strings') {
    const table = typeof params.data === 'string' ? cachedTable(params.data) : null;
    const chosen = value as string[];
    input =
      table && table.ok ? (
        <div className="checks" role="group" aria-label={spec.label}>
          {table.table.columns.map((c) => (
            <label key={c} className="check">
              <input
                type="checkbox"
                aria-label={`${spec.label}: ${c}`}
                checked={chosen.includes(c)}
                onChange={(e) => commit(e.target.checked ? table.table.columns.filter((x) => x === c || chosen.includes(x)) : chosen.filter((x) => x !== c))}
              />{' '}
              {c}
            </label>
          ))}
        </div>
      ) : (
        <input id={id} aria-label={spec.label} value={chosen.join(', ')} readOnly />
      );
  } else if (spec.type === 'boolean' || spec.type === 'enum') {
    input = <ChoiceParamInput id={id} spec={spec} value={value} onChange={commit} />;
  } else {
    const tryCommit = () => {
      const v = parse(draft);
      const problem = checkParam(spec, v);
      if (problem) setError(`${spec.label}: ${problem}`);
      else commit(v);
    };
    input = (
      <input
        id={id}
        aria-label={spec.label}
        aria-invalid={!!error}
        aria-describedby={`${id}-help`}
        inputMode={spec.type === 'shape' ? 'text' : 'decimal'}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          const problem = checkParam(spec, parse(e.target.value));
          setError(problem ? `${spec.label}: ${problem}` : null);
        }}
        onBlur={tryCommit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') tryCommit();
          if (e.key === 'Escape') {
            setDraft(text);
            setError(null);
          }
        }}
      />
    );
  }
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{spec.label}</label>
      {input}
      <p className="help" id={`${id}-help`}>
        {spec.help} <span className="range">({describeRange(spec)})</span>
      </p>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function LabelField({ nodeId, label }: { nodeId: string; label: string }) {
  const store = useEditorStore();
  const [draft, setDraft] = useState(label);
  useEffect(() => setDraft(label), [label, nodeId]);
  const commit = () => draft !== label && store.getState().setLabel(nodeId, draft);
  return (
    <div className="field">
      <label htmlFor={`label-${nodeId}`}>Label</label>
      <input id={`label-${nodeId}`} aria-label="Label" value={draft} placeholder={nodeId} onChange={(e) => setDraft(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === 'Enter' && commit()} />
    </div>
  );
}

export function Inspector() {
  const doc = useEditor((s) => s.doc);
  const selected = useEditor((s) => s.selectedNodes);
  const store = useEditorStore();
  const analysis = analysisOf(doc);
  const savings = savingsOf(doc);
  const pruned = savings.nodes.some((n) => n.pruned);
  const node = selected.length === 1 ? doc.nodes.find((n) => n.id === selected[0]) : undefined;
  if (!node) {
    const t = analysis.totals;
    const memory = estimateMemory(doc, analysis);
    return (
      <aside className="inspector" aria-label="Inspector">
        <h2>Graph</h2>
        <div className="field">
          <label htmlFor="doc-name">Name</label>
          <input id="doc-name" aria-label="Graph name" defaultValue={doc.metadata.name} key={`n-${doc.metadata.name}`} onBlur={(e) => store.getState().setMetadata({ name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="doc-desc">Description</label>
          <textarea id="doc-desc" aria-label="Graph description" defaultValue={doc.metadata.description} key={`d-${doc.metadata.description}`} onBlur={(e) => store.getState().setMetadata({ description: e.target.value })} />
        </div>
        <dl className="totals" aria-label="Graph totals">
          <dt>Parameters</dt>
          <dd data-testid="total-params">{(t.trainable + t.nonTrainable).toLocaleString('en-US')}</dd>
          <dt>Trainable</dt>
          <dd>{t.trainable.toLocaleString('en-US')}</dd>
          <dt>Weighted layers</dt>
          <dd>{t.layers}</dd>
          <dt>Depth</dt>
          <dd>{t.depth}</dd>
          <dt>Nodes / edges</dt>
          <dd>
            {t.nodes} / {t.edges}
          </dd>
          <dt>Memory to train</dt>
          <dd data-testid="train-memory" title={describeMemory(memory)} className={memory.total > DEFAULT_MEMORY_LIMIT ? 'error' : undefined}>
            {formatBytes(memory.total)}
            {memory.total > DEFAULT_MEMORY_LIMIT ? ` — above the ${formatBytes(DEFAULT_MEMORY_LIMIT)} limit, training will refuse it` : ''}
          </dd>
        </dl>
        {pruned ? <SavingsTable figures={savings.total} fractionKept={savings.total.fractionKept} label="What pruning saves in the graph" /> : null}
        {selected.length > 1 ? <p>{selected.length} nodes selected.</p> : <p className="hint">Select a node to edit its parameters.</p>}
      </aside>
    );
  }
  const def = kindDef(node.kind);
  const a = analysis.nodes[node.id];
  // Dense figures for every weighted layer (FLOPs and bytes teach on their own); pruned ones add the mask view.
  const nodeSavings = savings.nodes.find((n) => n.nodeId === node.id && n.flops > 0);
  return (
    <aside className="inspector" aria-label="Inspector">
      <h2>{def?.title ?? node.kind}</h2>
      <p className="node-id">id: {node.id}</p>
      {def ? <p className="description">{def.description}</p> : <p className="description">This kind is not known to this version of Gradflow. Its data is kept unchanged.</p>}
      <LabelField nodeId={node.id} label={node.label ?? ''} />
      {def
        ? Object.entries(def.params as ParamSpecs).map(([name, spec]) => (
            <ParamField key={name} nodeId={node.id} name={name} spec={spec} value={node.params[name] as ParamValue} params={node.params as Record<string, ParamValue>} />
          ))
        : null}
      {a ? (
        <dl className="totals" aria-label="Node shapes">
          {Object.entries(a.outputs).map(([port, s]) => (
            <div key={port}>
              <dt>Output {port}</dt>
              <dd>{shapeText(s)}</dd>
            </div>
          ))}
          <dt>Parameters</dt>
          <dd data-testid="node-params">{(a.params.trainable + a.params.nonTrainable).toLocaleString('en-US')}</dd>
        </dl>
      ) : null}
      {nodeSavings ? <SavingsTable figures={nodeSavings} fractionKept={nodeSavings.fractionKept} label={`What pruning saves in ${node.id}`} /> : null}
      {nodeSavings?.pruned ? <MaskView doc={doc} nodeId={node.id} /> : null}
      {a?.issues.length ? (
        <ul className="node-issues">
          {a.issues.map((i, k) => (
            <li key={k} className={i.severity}>
              {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </aside>
  );
}
