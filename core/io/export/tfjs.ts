/**
 * TensorFlow.js LayersModel export: model.json (a Keras functional model's topology and the
 * weights manifest) and weights.bin, the pair `tf.loadLayersModel` reads (and the
 * tensorflowjs_converter turns into a Keras model). Each kind writes its own layers
 * (NodeKindDef.keras); this file names them after the canvas labels, collects the weights
 * in manifest order and writes the two files. Kinds no Keras layer computes (DropConnect,
 * RBF, Maxout, |z|) are named and nothing is written.
 */
import { APP_VERSION, type GraphDocument } from '../../graph/document.ts';
import type { FloatTensor, KerasContext, KerasValue } from '../../graph/types.ts';
import type { NodeWeights } from '../weights.ts';
import type { ExportFile } from './index.ts';
import { inferenceGraph, type InferenceNode } from './inference.ts';
import { unsupportedKinds, type ExportResult } from './onnx.ts';

/** The file names of the export: what `tf.loadLayersModel('…/model.json')` reads. */
export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** One layer of model.json's `modelTopology.config.layers`. */
export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, KerasValue>;
  /** Keras's [[[layer, node index, tensor index, kwargs], …]]: one call per layer here. */
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

/** The parts of model.json that Gradflow writes and reads. */
export interface LayersModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: {
    class_name: string;
    config: { name: string; layers: KerasLayerJson[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
}

/** A Keras layer name from a canvas label: TensorFlow's name-scope characters only. */
export function kerasName(label: string): string {
  const s = label.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return /^[A-Za-z0-9.]/.test(s) ? s : `layer${s}`;
}

/** Build model.json and the weights of a document, or say which nodes cannot be expressed. */
export function buildLayersModel(
  doc: Pick<GraphDocument, 'nodes' | 'edges' | 'metadata'>,
  weights: NodeWeights,
): ExportResult<{ model: LayersModelJson; weights: Uint8Array }> {
  const inf = inferenceGraph(doc);
  if (!inf.ok) return inf;
  const g = inf.graph;
  const missing = unsupportedKinds(g.nodes, (n) => !!n.def.keras, 'TensorFlow.js', 'has no Keras layer');
  if (missing.length) return { ok: false, errors: missing };

  const layers: KerasLayerJson[] = [];
  const manifest: LayersModelJson['weightsManifest'][number]['weights'] = [];
  const values: Float32Array[] = [];
  const taken = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const inputName = unique(kerasName(g.input.label));
  layers.push({ name: inputName, class_name: 'InputLayer', config: { batch_input_shape: [null, ...g.input.shape], dtype: 'float32', sparse: false, name: inputName }, inbound_nodes: [] });
  const layerOf = new Map<string, string>([[`${g.input.source}\u0000${g.input.sourcePort}`, inputName]]);
  const errors: string[] = [];

  const emit = (n: InferenceNode, inputs: Record<string, string[]>): Record<string, string> | null => {
    const label = kerasName(n.label);
    const ctx: KerasContext<InferenceNode['params']> = {
      params: n.params,
      label,
      inputs,
      inputShapes: n.inputShapes,
      outputShapes: n.outputShapes,
      dropConnectRate: n.dropConnectRate,
      weight(name): FloatTensor {
        const spec = n.weights.find((s) => s.name === name);
        const w = weights[n.id]?.[name];
        if (!spec || !w) throw new Error(`no ${name} weights`);
        if (w.shape.join(',') !== spec.shape.join(',')) throw new Error(`the ${name} has shape [${w.shape.join(', ')}] but the graph needs [${spec.shape.join(', ')}]`);
        return { shape: w.shape, values: w.values };
      },
      layer(className, config, ins, ws = [], hint) {
        const name = unique(hint ? `${label}_${hint}` : label);
        layers.push({ name, class_name: className, config: { ...config, name, trainable: true }, inbound_nodes: ins.length ? [ins.map((i) => [i, 0, 0, {}])] : [] });
        for (const w of ws) {
          const size = w.shape.reduce((a, b) => a * b, 1);
          if (size !== w.values.length) throw new Error(`the ${w.name} of layer ${name} has ${w.values.length} values for shape [${w.shape.join(', ')}]`);
          manifest.push({ name: `${name}/${w.name}`, shape: w.shape, dtype: 'float32' });
          values.push(w.values);
        }
        return name;
      },
    };
    try {
      return n.def.keras!(ctx);
    } catch (e) {
      errors.push(`${n.def.title} '${n.label}': ${(e as Error).message}`);
      return null;
    }
  };

  for (const n of g.nodes) {
    const inputs: Record<string, string[]> = {};
    for (const [port, refs] of Object.entries(n.inputs)) inputs[port] = refs.map((r) => layerOf.get(`${r.source}\u0000${r.sourcePort}`) ?? '');
    const outs = emit(n, inputs);
    for (const [port, l] of Object.entries(outs ?? {})) layerOf.set(`${n.id}\u0000${port}`, l);
  }
  if (errors.length) return { ok: false, errors };

  const outputs: string[] = [];
  for (const o of g.outputs) {
    const l = layerOf.get(`${o.source}\u0000${o.sourcePort}`);
    if (!l) return { ok: false, errors: [`internal: the output of '${o.label}' was not exported`] };
    outputs.push(l);
  }
  const notes: string[] = [];
  // The probabilities the loss computes from the scores: a second output, named for the port.
  if (g.loss?.def.keras && outputs.length === 1) {
    const extra = emit(g.loss, { pred: [outputs[0]!] }) ?? {};
    if (errors.length) return { ok: false, errors };
    for (const [port, l] of Object.entries(extra)) {
      const layer = layers.find((x) => x.name === l)!;
      taken.delete(l);
      layer.name = unique(port);
      layer.config.name = layer.name;
      outputs.push(layer.name);
      notes.push(`output '${layer.name}' is the ${port} that ${g.loss.def.title} '${g.loss.label}' computes from the scores '${outputs[0]}'`);
    }
  }
  const bytes = new Uint8Array(values.reduce((a, v) => a + v.byteLength, 0));
  let at = 0;
  for (const v of values) {
    // The weights file is little-endian float32, as every platform Gradflow runs on stores them.
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    at += v.byteLength;
  }
  const model: LayersModelJson = {
    format: 'layers-model',
    generatedBy: `Gradflow ${APP_VERSION}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: { name: kerasName(g.name), layers, input_layers: [[inputName, 0, 0]], output_layers: outputs.map((o) => [o, 0, 0]) },
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: manifest }],
  };
  return { ok: true, value: { model, weights: bytes }, notes };
}

/** The files of a LayersModel export (model.json, weights.bin), or the reasons it cannot be made. */
export function exportTfjs(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'metadata'>, weights: NodeWeights): ExportResult<ExportFile[]> {
  const built = buildLayersModel(doc, weights);
  if (!built.ok) return built;
  return {
    ok: true,
    value: [
      { path: TFJS_MODEL_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(built.value.model)}\n`) },
      { path: TFJS_WEIGHTS_FILE, bytes: built.value.weights },
    ],
    notes: built.notes,
  };
}
