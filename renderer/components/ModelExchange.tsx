/**
 * Model in and out of the app: export the graph as ONNX, as a PyTorch project (a .zip) or as
 * a TensorFlow.js LayersModel (model.json + weights.bin in a .zip), import an ONNX model or a
 * LayersModel as a new graph, and load weights trained by the exported project.
 * Self-contained: App renders it and hands it the session's trained weights and a way to
 * open a graph; everything else goes through core/io.
 */
import { useState } from 'react';
import { loadDataResources } from '../../core/data/sources.ts';
import type { WeightsBlock } from '../../core/graph/document.ts';
import { exportModel, type ExportTarget } from '../../core/io/export/index.ts';
import type { ModelImport } from '../../core/io/import/assemble.ts';
import { importOnnx } from '../../core/io/import/onnx.ts';
import { importTfjsFiles } from '../../core/io/import/tfjs.ts';
import { importWeightsNpz } from '../../core/io/import/weights.ts';
import { encodeZip } from '../../core/io/npz.ts';
import { saveGraph } from '../../core/io/save.ts';
import { documentWeights } from '../../core/io/weights.ts';
import { downloadBytes, pickFile, pickFiles } from '../platform/dom-files.ts';
import { useEditorStore, usePlatform } from '../store/context.tsx';
import { assetUrls } from '../train/assets.ts';
import { fetchMnist } from '../train/mnist.ts';

export function ModelExchangeDialog({
  sessionWeights,
  onOpenGraph,
  onClose,
}: {
  /** The weights of this session's training, if any (they win over the file's). */
  sessionWeights: () => Promise<WeightsBlock | null>;
  /** Open a graph (the imported model) as the current document. */
  onOpenGraph: (text: string, name: string) => boolean;
  onClose: () => void;
}) {
  const store = useEditorStore();
  const platform = usePlatform();
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const stem = () => store.getState().fileName.replace(/\.nngraph$/i, '') || 'model';

  const act = (f: () => Promise<void>) => async () => {
    setBusy(true);
    setProblems([]);
    try {
      await f();
    } catch (e) {
      setProblems([(e as Error).message]);
    } finally {
      setBusy(false);
    }
  };

  const exportTo = (to: ExportTarget) =>
    act(async () => {
      const live = await sessionWeights();
      const doc = { ...store.getState().doc, ...(live ? { weights: live } : {}) };
      const w = documentWeights(doc);
      // A PyTorch project carries its data (data.npz): the MNIST digits come from the page's assets.
      const data = to === 'pytorch' ? await loadDataResources(doc, { mnist: () => fetchMnist(assetUrls().mnistUrl) }) : {};
      const r = await exportModel(doc, to, { weights: w.weights, trained: w.trained, ...data });
      if (!r.ok) {
        setProblems(r.errors);
        return;
      }
      // A folder of files (PyTorch, TensorFlow.js) travels as one .zip of that folder.
      const [name, bytes, type, ext] =
        to === 'onnx' ? [`${stem()}.onnx`, r.value[0]!.bytes, 'application/octet-stream', 'onnx'] : [`${stem()}-${to}.zip`, encodeZip(r.value.map((f) => ({ path: `${stem()}-${to}/${f.path}`, bytes: f.bytes }))), 'application/zip', 'zip'];
      const saved = platform.exportFile
        ? await platform.exportFile({ suggestedName: name, data: bytes, filters: [{ name: to === 'onnx' ? 'ONNX model' : 'Zip archive', extensions: [ext] }] })
        : downloadBytes(name, bytes, type);
      if (saved) {
        const what = { onnx: 'the ONNX model', pytorch: 'the PyTorch project', tfjs: 'the TensorFlow.js model' }[to];
        store.getState().notify('info', `Exported ${what} to ${saved.name} (${w.trained ? 'trained' : 'initial'} weights)${r.notes.length ? `. ${r.notes.join('. ')}` : ''}`);
        onClose();
      }
    });

  /** Open an imported model as the current graph, or show why it could not be imported. */
  const openImported = (r: ModelImport, what: string) => {
    if (!r.ok) {
      setProblems([`${what} cannot be imported:`, ...r.errors]);
      return;
    }
    if (onOpenGraph(saveGraph(r.document), `${r.document.metadata.name}.nngraph`)) {
      store.getState().notify('info', `Imported ${what}: ${r.document.nodes.length} nodes. ${r.notes.join(' ')}`.trim());
      onClose();
    }
  };

  const importModel = act(async () => {
    const file = await pickFile('.onnx');
    if (!file) return;
    openImported(await importOnnx(new Uint8Array(await file.arrayBuffer()), file.name.replace(/\.onnx$/i, '')), file.name);
  });

  // model.json with its .bin files, chosen together, or the .zip the export above makes.
  const importLayersModel = act(async () => {
    const files = await pickFiles('.json,.bin,.zip');
    if (!files.length) return;
    const picked = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    openImported(await importTfjsFiles(picked), files.map((f) => f.name).join(' + '));
  });

  const importWeights = act(async () => {
    const file = await pickFile('.npz');
    if (!file) return;
    const r = await importWeightsNpz(store.getState().doc, new Uint8Array(await file.arrayBuffer()), file.name);
    if (!r.ok) {
      setProblems([`The weights in ${file.name} do not fit this graph:`, ...r.errors]);
      return;
    }
    store.getState().setWeights(r.weights);
    store.getState().notify('info', `Loaded the ${r.source} from ${file.name}`);
    onClose();
  });

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-label="Export or import a model" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>Model</h2>
        <p>Export the network with its weights (trained ones when there are), bring in an ONNX or TensorFlow.js model, or load weights trained by the exported PyTorch project.</p>
        <div className="modal-actions">
          <button disabled={busy} onClick={() => void exportTo('onnx')()}>Export ONNX…</button>
          <button disabled={busy} onClick={() => void exportTo('pytorch')()}>Export PyTorch project…</button>
          <button disabled={busy} onClick={() => void exportTo('tfjs')()}>Export TensorFlow.js…</button>
          <button disabled={busy} onClick={() => void importModel()}>Import ONNX model…</button>
          <button disabled={busy} onClick={() => void importLayersModel()}>Import TensorFlow.js model…</button>
          <button disabled={busy} onClick={() => void importWeights()}>Import weights (.npz)…</button>
          <button onClick={onClose}>Close</button>
        </div>
        {problems.length ? (
          <ul role="alert" className="problems">
            {problems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
