/**
 * ONNX export (opset 17, IR version 8): the inference graph with its weights as
 * initializers. Each kind writes its own ops (NodeKindDef.onnx); this file names tensors
 * after the canvas labels, collects initializers and writes the protobuf. Dropout,
 * DropConnect and noise take their inference form as Gradflow computes it; BatchNorm uses
 * its running statistics.
 */
import { APP_VERSION, type GraphDocument } from '../../graph/document.ts';
import type { OnnxAttribute, OnnxContext, Shape } from '../../graph/types.ts';
import { AttributeType, DataType, encodeModel, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.ts';
import type { NodeWeights } from '../weights.ts';
import { inferenceGraph, type InferenceNode } from './inference.ts';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** Name of the model's input tensor and of its symbolic batch dimension. */
export const ONNX_INPUT = 'x';
export const ONNX_BATCH = 'N';

export type ExportResult<T> = { ok: true; value: T; notes: string[] } | { ok: false; errors: string[] };

/** The kinds on the model path that a target cannot express, by node, with the reason. */
export function unsupportedKinds(nodes: InferenceNode[], has: (n: InferenceNode) => boolean, target: string, why = 'has no equivalent there'): string[] {
  return nodes.filter((n) => !has(n)).map((n) => `${n.def.title} '${n.label}' cannot be exported to ${target}: the ${n.def.title} kind ${why}`);
}

function attribute(name: string, v: OnnxAttribute): AttributeProto {
  if ('int' in v) return { name, type: AttributeType.INT, i: v.int };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('ints' in v) return { name, type: AttributeType.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v.string) };
}

function valueInfo(name: string, shape: Shape): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: ONNX_BATCH }, ...shape.map((d) => ({ dimValue: d }))] } } },
  };
}

function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  // raw_data is little-endian, which is how every platform Gradflow runs on stores floats.
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

/** Build the ONNX model of a document with the given weights. */
export function buildOnnxModel(
  doc: Pick<GraphDocument, 'nodes' | 'edges' | 'metadata'>,
  weights: NodeWeights,
  // Which nodes can be expressed; tests narrow it to see the report on a kind without a form.
  o: { has?: (n: InferenceNode) => boolean } = {},
): ExportResult<ModelProto> {
  const inf = inferenceGraph(doc);
  if (!inf.ok) return inf;
  const g = inf.graph;
  const missing = unsupportedKinds(g.nodes, o.has ?? ((n) => !!n.def.onnx), 'ONNX', 'has no ONNX form');
  if (missing.length) return { ok: false, errors: missing };

  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const taken = new Set<string>([ONNX_INPUT]);
  const unique = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const tensorOf = new Map<string, string>(); // `${node}\0${port}` -> tensor name
  tensorOf.set(`${g.input.source}\u0000${g.input.sourcePort}`, ONNX_INPUT);
  const errors: string[] = [];

  const emit = (n: InferenceNode | null, label: string, // eslint-disable-next-line @typescript-eslint/no-explicit-any
    run: (ctx: OnnxContext<any>) => Record<string, string>,
    inputs: Record<string, string[]>, params: unknown) => {
    const own: NodeProto[] = [];
    const initializerOf = new Map<string, string>();
    const ctx: OnnxContext<unknown> = {
      params,
      label,
      inputs,
      inputShapes: n?.inputShapes ?? {},
      outputShapes: n?.outputShapes ?? {},
      dropConnectRate: n?.dropConnectRate ?? 0,
      weightValues(name) {
        const w = n ? weights[n.id]?.[name] : undefined;
        if (!w) throw new Error(`no ${name} weights for '${label}'`);
        return w.values;
      },
      weight(name) {
        const known = initializerOf.get(name);
        if (known) return known;
        const spec = n?.weights.find((s) => s.name === name);
        const w = n ? weights[n.id]?.[name] : undefined;
        if (!spec || !w) throw new Error(`no ${name} weights for '${label}'`);
        if (w.shape.join(',') !== spec.shape.join(',')) throw new Error(`the ${name} of '${label}' has shape [${w.shape.join(', ')}] but the graph needs [${spec.shape.join(', ')}]`);
        const tname = unique(`${label}.${name}`);
        initializers.push(floatTensor(tname, w.shape, w.values));
        initializerOf.set(name, tname);
        return tname;
      },
      constant(hint, values, shape, dtype = 'float32') {
        const tname = unique(`${label}/${hint}`);
        initializers.push(
          dtype === 'int64'
            ? { name: tname, dims: shape, dataType: DataType.INT64, int64Data: [...values] }
            : floatTensor(tname, shape, Float32Array.from(values)),
        );
        return tname;
      },
      op(opType, ins, attrs = {}, hint) {
        const out = unique(`${label}/${hint ?? opType}`);
        const node: NodeProto = {
          input: ins,
          output: [out],
          name: out,
          opType,
          attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
        };
        own.push(node);
        nodes.push(node);
        return out;
      },
    };
    let result: Record<string, string>;
    try {
      result = run(ctx);
    } catch (e) {
      errors.push(`${n?.def.title ?? ''} '${label}': ${(e as Error).message}`.trim());
      return {};
    }
    // The op that computes a port takes the node's label as its name (and its tensor's),
    // so Netron shows the canvas; helper ops keep label/op names.
    const final: Record<string, string> = {};
    for (const [port, tname] of Object.entries(result)) {
      const producer = own.find((p) => p.output[0] === tname);
      if (!producer || own.indexOf(producer) !== own.length - 1 || Object.keys(result).length > 1 || !n) {
        final[port] = tname;
        continue;
      }
      taken.delete(tname);
      const renamed = unique(label);
      producer.output[0] = renamed;
      producer.name = renamed;
      if (n) producer.docString = `${n.def.title} (Gradflow node '${n.id}')`;
      final[port] = renamed;
    }
    return final;
  };

  for (const n of g.nodes) {
    const inputs: Record<string, string[]> = {};
    for (const [port, refs] of Object.entries(n.inputs)) {
      inputs[port] = refs.map((r) => tensorOf.get(`${r.source}\u0000${r.sourcePort}`) ?? '');
    }
    const outs = emit(n, n.label, n.def.onnx!, inputs, n.params);
    for (const [port, t] of Object.entries(outs)) tensorOf.set(`${n.id}\u0000${port}`, t);
  }
  if (errors.length) return { ok: false, errors };

  const outputs: ValueInfoProto[] = [];
  for (const o of g.outputs) {
    const t = tensorOf.get(`${o.source}\u0000${o.sourcePort}`);
    const shape = g.nodes.find((n) => n.id === o.source)?.outputShapes[o.sourcePort];
    if (!t || !shape) return { ok: false, errors: [`internal: the output of '${o.label}' was not exported`] };
    outputs.push(valueInfo(t, shape));
  }
  const notes: string[] = [];
  if (g.loss?.def.onnx && outputs.length === 1) {
    const extra = emit(null, g.loss.label, g.loss.def.onnx, { pred: [outputs[0]!.name] }, g.loss.params);
    const shape = g.nodes.find((n) => n.id === g.outputs[0]!.source)!.outputShapes[g.outputs[0]!.sourcePort]!;
    for (const [port, t] of Object.entries(extra)) {
      // Rename helper outputs to the port's name (e.g. 'probabilities').
      const producer = nodes.find((p) => p.output[0] === t)!;
      taken.delete(t);
      const name = unique(port);
      producer.output[0] = name;
      outputs.push(valueInfo(name, shape));
      notes.push(`output '${name}' is the ${port} that ${g.loss.def.title} '${g.loss.label}' computes from the scores '${outputs[0]!.name}'`);
    }
  }
  if (errors.length) return { ok: false, errors };

  const model: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'Gradflow',
    producerVersion: APP_VERSION,
    docString: doc.metadata.description || `${g.name}, exported from Gradflow`,
    graph: {
      name: g.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(ONNX_INPUT, g.input.shape)],
      output: outputs,
      docString: `Input '${ONNX_INPUT}' is the ${g.input.label} features, shape [${ONNX_BATCH}, ${g.input.shape.join(', ')}]`,
    },
  };
  return { ok: true, value: model, notes };
}

/** The bytes of a .onnx file for the document, or the reasons it cannot be exported. */
export function exportOnnx(doc: Pick<GraphDocument, 'nodes' | 'edges' | 'metadata'>, weights: NodeWeights): ExportResult<Uint8Array> {
  const built = buildOnnxModel(doc, weights);
  if (!built.ok) return built;
  return { ok: true, value: encodeModel(built.value), notes: built.notes };
}
