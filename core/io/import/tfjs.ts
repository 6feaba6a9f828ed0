/**
 * TensorFlow.js LayersModel import (model.json + weight shards, as `tf.loadLayersModel` reads
 * them, from Gradflow's own export, tfjs's `model.save` or the tensorflowjs_converter of a
 * Keras model): each layer becomes the kind that claims it (NodeKindDef.fromKeras), with its
 * weights, laid out with ELK from an Input of the model's input shape. Functional models and
 * Sequential ones; an activation inside a Dense or Conv2D becomes its own node; Keras's
 * Dropout, the identity at inference, is left out with a note. A layer no kind reads is
 * named with its class, and nothing is imported.
 */
import { catalogue } from '../../graph/catalogue.ts';
import type { GraphDocument } from '../../graph/document.ts';
import type { AnyKindDef, FloatTensor, KerasLayerView, KerasValue, Shape } from '../../graph/types.ts';
import { decodeZip, NpzError } from '../npz.ts';
import { GraphAssembly, type ModelImport, type Ref } from './assemble.ts';

/** Reads one weight file named in the manifest (a path relative to model.json); null when it is not there. */
export type ShardReader = (path: string) => Promise<Uint8Array | null>;

class ImportError extends Error {}
/** A problem with one layer whose message already names it. */
class LayerError extends Error {}

type Json = Record<string, KerasValue>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface LayerSpec {
  name: string;
  className: string;
  config: Json;
  /** Names of the layers it reads, in order. */
  inbound: string[];
}

/** The layers of a Keras topology (functional or Sequential), with what each reads, and the model outputs. */
function topology(modelTopology: unknown): { layers: LayerSpec[]; outputs: string[] } {
  if (!isObject(modelTopology)) throw new ImportError('model.json has no modelTopology: it is not a LayersModel');
  // The converter of a Keras .h5 nests the model under model_config.
  const top = isObject(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  const cls = top.class_name;
  const config = top.config;
  const rawLayers = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : null;
  if (!rawLayers) throw new ImportError(`the model (${JSON.stringify(cls)}) lists no layers`);
  const layers: LayerSpec[] = rawLayers.map((l, i) => {
    if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) throw new ImportError(`layer #${i + 1} of model.json has no class_name and config`);
    const name = typeof l.name === 'string' ? l.name : typeof l.config.name === 'string' ? l.config.name : `${l.class_name}_${i + 1}`;
    return { name, className: l.class_name, config: l.config, inbound: inboundOf(l.inbound_nodes, name) };
  });
  if (cls === 'Sequential') {
    // A Sequential model chains its layers; the first carries the input shape unless it is an InputLayer.
    const first = layers[0];
    if (!first) throw new ImportError('the Sequential model has no layers');
    const chained: LayerSpec[] = first.className === 'InputLayer' ? [first] : [{ name: `${first.name}_input`, className: 'InputLayer', config: { batch_input_shape: first.config.batch_input_shape ?? null }, inbound: [] }, first];
    for (const l of layers.slice(1)) chained.push({ ...l, inbound: [chained.at(-1)!.name] });
    if (chained[1]) chained[1] = { ...chained[1], inbound: [chained[0]!.name] };
    return { layers: chained, outputs: [chained.at(-1)!.name] };
  }
  if (cls !== 'Model' && cls !== 'Functional') throw new ImportError(`the model is a ${JSON.stringify(cls)}; Gradflow imports functional (Model) and Sequential LayersModels`);
  const c = config as Json;
  const outs = Array.isArray(c.output_layers) ? c.output_layers : [];
  const outputs = outs.map((o) => (Array.isArray(o) && typeof o[0] === 'string' ? o[0] : null));
  if (!outputs.length || outputs.some((o) => o === null)) throw new ImportError('the model lists no output_layers');
  return { layers, outputs: outputs as string[] };
}

/** The names of the layers a layer reads: Keras 2's [[[name, node, tensor, kwargs]]] or Keras 3's {args: [keras tensors]}. */
function inboundOf(v: KerasValue | undefined, layer: string): string[] {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return [];
  if (!Array.isArray(v)) throw new ImportError(`layer '${layer}' has unreadable inbound_nodes`);
  if (v.length > 1) throw new ImportError(`layer '${layer}' is called ${v.length} times (shared weights), which a Gradflow node cannot be`);
  const call = v[0]!;
  if (Array.isArray(call)) return call.map((t) => (Array.isArray(t) && typeof t[0] === 'string' ? t[0] : (() => { throw new ImportError(`layer '${layer}' has unreadable inbound_nodes`); })()));
  const names: string[] = [];
  const walk = (x: KerasValue) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (isObject(x)) {
      const history = isObject(x.config) ? x.config.keras_history : undefined;
      if (x.class_name === '__keras_tensor__' && Array.isArray(history) && typeof history[0] === 'string') names.push(history[0]);
      else Object.values(x).forEach(walk);
    }
  };
  walk(isObject(call) ? (call.args ?? []) : []);
  return names;
}

/** Every weight of the manifest by name, read from its shards. */
async function readWeights(manifest: unknown, shards: ShardReader): Promise<Map<string, FloatTensor>> {
  const out = new Map<string, FloatTensor>();
  if (manifest === undefined) return out;
  if (!Array.isArray(manifest)) throw new ImportError('model.json has a weightsManifest that is not a list');
  for (const [g, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new ImportError(`weight group #${g + 1} of model.json has no paths and weights`);
    const parts: Uint8Array[] = [];
    for (const p of group.paths) {
      if (typeof p !== 'string') throw new ImportError(`weight group #${g + 1} names a shard that is not a file name`);
      const bytes = await shards(p);
      if (!bytes) throw new ImportError(`the weight file '${p}' that model.json names is missing: keep it next to model.json`);
      parts.push(bytes);
    }
    const all = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    let offset = 0;
    for (const w of group.weights) {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw new ImportError(`weight group #${g + 1} has an entry without a name and shape`);
      if (w.quantization) throw new ImportError(`the weight '${w.name}' is quantized (${JSON.stringify(isObject(w.quantization) ? w.quantization.dtype : w.quantization)}); export the model without quantization`);
      const shape = w.shape.map(Number);
      const n = shape.reduce((a, b) => a * b, 1);
      const dtype = w.dtype ?? 'float32';
      if (dtype !== 'float32' && dtype !== 'int32') throw new ImportError(`the weight '${w.name}' is ${JSON.stringify(dtype)}; Gradflow reads float32 weights`);
      if (offset + 4 * n > all.length) throw new ImportError(`the weight files are shorter than model.json says (the weight '${w.name}' is cut off)`);
      const copy = all.slice(offset, offset + 4 * n);
      const values = dtype === 'float32' ? new Float32Array(copy.buffer) : Float32Array.from(new Int32Array(copy.buffer));
      offset += 4 * n;
      out.set(w.name.replace(/:0$/, ''), { shape, values });
    }
  }
  return out;
}

/** Import a LayersModel from the text of its model.json and a reader for the weight files it names. */
export async function importTfjs(modelJson: string, shards: ShardReader, name = 'Imported model'): Promise<ModelImport> {
  let json: unknown;
  try {
    json = JSON.parse(modelJson);
  } catch (e) {
    return { ok: false, errors: [`model.json is not JSON: ${(e as Error).message}`] };
  }
  try {
    return { ok: true, ...(await build(json, shards, name)) };
  } catch (e) {
    if (e instanceof ImportError) return { ok: false, errors: e.message.split('\n') };
    throw e;
  }
}

async function build(json: unknown, shards: ShardReader, name: string): Promise<{ document: GraphDocument; notes: string[] }> {
  if (!isObject(json)) throw new ImportError('model.json is not a LayersModel (no JSON object)');
  if (json.format === 'graph-model') throw new ImportError('model.json is a TensorFlow.js graph model (converted from a SavedModel or frozen graph); Gradflow imports LayersModels (tf.loadLayersModel, or the converter with --output_format=tfjs_layers_model)');
  const { layers, outputs } = topology(json.modelTopology);
  const weights = await readWeights(json.weightsManifest, shards);

  const g = new GraphAssembly();
  const notes: string[] = [];
  const problems: string[] = [];
  const refs = new Map<string, Ref>();
  const shapes = new Map<string, Shape | null>();
  const failed = new Set<string>();
  const inputs = layers.filter((l) => l.className === 'InputLayer');
  if (inputs.length !== 1) throw new ImportError(`the model has ${inputs.length} inputs${inputs.length ? ` (${inputs.map((l) => `'${l.name}'`).join(', ')})` : ''}; Gradflow imports models with one`);

  const claim = (view: KerasLayerView): { def: AnyKindDef; read: NonNullable<ReturnType<NonNullable<AnyKindDef['fromKeras']>['read']>> } | null => {
    for (const def of catalogue) {
      if (!def.fromKeras?.classNames.includes(view.className)) continue;
      const read = def.fromKeras.read(view);
      if (read) return { def, read };
    }
    return null;
  };
  /** Make the node of one layer (or of the activation split off one) reading `from`. */
  const place = (spec: LayerSpec, from: Ref[], inShapes: Shape[]): Ref => {
    const view: KerasLayerView = {
      className: spec.className,
      name: spec.name,
      config: spec.config,
      inputShapes: inShapes,
      has: (w) => weightOf(spec.name, w) !== undefined,
      weight: (w) => {
        const t = weightOf(spec.name, w);
        if (!t) throw new Error(`it has no weight '${w}' in the weight files`);
        return t;
      },
    };
    const claimed = claim(view);
    if (!claimed) {
      const what = spec.className === 'Activation' ? `Activation layer '${spec.name}' computes ${JSON.stringify(spec.config.activation)}, which` : `${spec.className} layer '${spec.name}'`;
      throw new LayerError(`${what} has no Gradflow node`);
    }
    const { def, read } = claimed;
    const id = g.addNode(def.kind, spec.name, read.params as Record<string, never>);
    const port = def.inputs[0]?.name;
    for (const f of from) g.wire(f, id, port);
    if (read.weights) g.setWeights(id, read.weights);
    const node = g.node(id)!;
    const out = def.outputs[0]!.name;
    const inferred = def.infer({ params: node.params, inputs: port ? { [port]: { shapes: inShapes } } : {}, name: `'${spec.name}'` });
    const err = inferred.issues?.find((i) => i.severity === 'error');
    if (err) throw new LayerError(`${spec.className} layer ${err.message.replace(/^\S+ /, '')}`);
    shapes.set(id, inferred.outputs[out] ?? null);
    return { node: id, port: out };
  };
  const weightOf = (layer: string, w: string) => weights.get(`${layer}/${w}`) ?? [...weights.entries()].find(([k]) => k.endsWith(`/${layer}/${w}`))?.[1];

  for (const spec of layers) {
    if (spec.inbound.some((i) => failed.has(i))) {
      failed.add(spec.name);
      continue;
    }
    try {
      const from = spec.inbound.map((i) => {
        const r = refs.get(i);
        if (!r) throw new LayerError(`${spec.className} layer '${spec.name}' reads '${i}', which is not a layer before it`);
        return r;
      });
      const inShapes = from.map((r) => shapes.get(r.node) ?? []);
      if (spec.className === 'Dropout' || spec.className === 'SpatialDropout1D' || spec.className === 'SpatialDropout2D') {
        // Keras's dropout is inverted: the identity at inference, unlike Gradflow's Dropout.
        refs.set(spec.name, from[0]!);
        // Gradflow's own export pairs it (as '<label>_mask') with the Rescaling that reads back as the Dropout.
        if (!/_mask$/.test(spec.name)) notes.push(`${spec.className} layer '${spec.name}' is the identity at inference and was left out; add a Gradflow Dropout to train with one`);
        continue;
      }
      const activation = spec.className !== 'Activation' && typeof spec.config.activation === 'string' && spec.config.activation !== 'linear' ? spec.config.activation : null;
      let ref = place({ ...spec, config: activation ? { ...spec.config, activation: 'linear' } : spec.config }, from, inShapes);
      if (activation) {
        ref = place({ name: `${spec.name}_${activation}`, className: 'Activation', config: { activation }, inbound: [] }, [ref], [shapes.get(ref.node) ?? []]);
      }
      refs.set(spec.name, ref);
    } catch (e) {
      if (e instanceof ImportError) throw e;
      problems.push(e instanceof LayerError ? e.message : `${spec.className} layer '${spec.name}': ${(e as Error).message}`);
      failed.add(spec.name);
    }
  }
  if (problems.length) throw new ImportError(problems.join('\n'));
  const outs = outputs.map((o) => {
    const ref = refs.get(o);
    if (!ref) throw new ImportError(`the model output '${o}' is not a layer of the model`);
    return { name: o, ref };
  });
  notes.push(...g.dropProbabilityOutputs(outs));
  const weightProblems = g.weightProblems();
  if (weightProblems.length) throw new ImportError(weightProblems.join('\n'));
  const by = typeof json.generatedBy === 'string' ? ` (made by ${json.generatedBy})` : '';
  const document = await g.document(name, `Imported from a TensorFlow.js LayersModel${by}. Attach a Dataset to the Input's place, a loss and an optimizer to train it.`, 'tfjs');
  return { document, notes };
}

/**
 * Import from files the user picked: model.json with its weight files, or one .zip holding
 * them (Gradflow's export in the app). Weight files are found by the path model.json gives,
 * or by its last part (a browser hands over names without folders).
 */
export async function importTfjsFiles(files: { name: string; bytes: Uint8Array }[], name?: string): Promise<ModelImport> {
  let entries = files.map((f) => ({ path: f.name, bytes: f.bytes }));
  const zip = files.length === 1 && /\.zip$/i.test(files[0]!.name) ? files[0]! : null;
  if (zip) {
    try {
      entries = Object.entries(await decodeZip(zip.bytes, zip.name)).map(([path, bytes]) => ({ path, bytes }));
    } catch (e) {
      if (e instanceof NpzError) return { ok: false, errors: [e.message] };
      throw e;
    }
  }
  const models = entries.filter((e) => /\.json$/i.test(e.path));
  if (models.length !== 1) return { ok: false, errors: [models.length ? `${models.length} .json files (${models.map((m) => m.path).join(', ')}): choose one model.json with its weight files` : `no model.json among ${zip ? `the files in ${zip.name}` : 'the chosen files'}: choose model.json with its weight files (.bin)`] };
  const model = models[0]!;
  const dir = model.path.includes('/') ? model.path.slice(0, model.path.lastIndexOf('/') + 1) : '';
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const shard: ShardReader = async (p) => (entries.find((e) => e.path === dir + p) ?? entries.find((e) => base(e.path) === base(p)))?.bytes ?? null;
  const stem = name ?? (dir ? base(dir.slice(0, -1)) : zip ? zip.name.replace(/\.zip$/i, '') : model.path.replace(/\.json$/i, '')).replace(/-tfjs$/, '');
  return importTfjs(new TextDecoder().decode(model.bytes), shard, stem || 'Imported model');
}
