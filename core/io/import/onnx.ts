/**
 * ONNX import: the subset Gradflow can represent becomes an editable graph with its
 * weights, laid out with ELK, starting from an Input node of the model's input shape (ready
 * for a Dataset, a loss and an optimizer). Each op becomes the kind that reads it
 * (NodeKindDef.fromOnnx: Gemm, MatMul and a bias Add as Dense, the activations, the
 * normalizations, Flatten, Reshape, Add/Sum, Concat, Conv, the poolings, and Gradflow's own
 * inference forms: Dropout as a multiplication by p, DropConnect as Gemm's α or a kernel
 * times p). What is about no one kind stays here: decoding, constants (initializers, Constant
 * nodes, folding), the identities at inference (Identity, ONNX's Dropout, a Pad by zeros),
 * the layout of every tensor, and the Input. An op no kind reads is reported with its name
 * and the node it sits in, and nothing is imported.
 *
 * Images: ONNX's Conv and pooling are NCHW, Gradflow's images NHWC. Each tensor of the
 * model is tracked with the layout ONNX gives it (OnnxLayout). A channels-first tensor is
 * held by a Gradflow node as channels last (the same values, axes in another order): the
 * readers say what their op does to the layout (elementwise ops, BatchNormalization and Add
 * keep it; a Flatten of a channels-first image reads c·h·w in another order than Gradflow's
 * h·w·c, so the rows of the Gemm/MatMul it feeds are permuted to match; a kernel
 * [out, in, kh, kw] becomes [kh, kw, in, out]); a Transpose between the two layouts
 * (Gradflow's own exports wrap every Conv in a pair) is no node at all.
 */
import { catalogue, kindDef } from '../../graph/catalogue.ts';
import type { GraphDocument } from '../../graph/document.ts';
import type { ParamValue } from '../../graph/params.ts';
import { transposeConstant } from '../../graph/kinds/util.ts';
import type { AnyKindDef, OnnxConstant, OnnxLayout, OnnxNodeView, OnnxRead } from '../../graph/types.ts';
import { DataType, decodeModel, OnnxFormatError, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import { GraphAssembly, type ModelImport, type Ref } from './assemble.ts';

export type OnnxImport = ModelImport;

class ImportError extends Error {}

function tensorValues(t: TensorProto, where: string): OnnxConstant {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  if (t.dataLocation === 1) throw new ImportError(`${where}: the tensor '${t.name}' is stored in an external file; save the model with its weights inside`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  switch (t.dataType) {
    case DataType.FLOAT: {
      if (raw) {
        const copy = new Uint8Array(raw.length);
        copy.set(raw);
        return { dims, values: new Float32Array(copy.buffer, 0, n) };
      }
      return { dims, values: Float32Array.from(t.floatData ?? []) };
    }
    case DataType.DOUBLE:
      if (raw) return { dims, values: Float32Array.from(new Float64Array(Uint8Array.from(raw).buffer, 0, n)) };
      return { dims, values: Float32Array.from(t.doubleData ?? []) };
    case DataType.INT64: {
      if (raw) {
        const dv = new DataView(Uint8Array.from(raw).buffer);
        return { dims, values: Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(i * 8, true))) };
      }
      return { dims, values: (t.int64Data ?? []).map(Number) };
    }
    case DataType.INT32:
      if (raw) return { dims, values: Array.from(new Int32Array(Uint8Array.from(raw).buffer, 0, n)) };
      return { dims, values: (t.int32Data ?? []).map(Number) };
    default:
      throw new ImportError(`${where}: the tensor '${t.name}' has data type ${t.dataType}; Gradflow reads float, double, int32 and int64 tensors`);
  }
}


/** Import the bytes of a .onnx file. `name` is used for the graph's name. */
export async function importOnnx(bytes: Uint8Array, name = 'Imported model'): Promise<OnnxImport> {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxFormatError) return { ok: false, errors: [e.message] };
    throw e;
  }
  try {
    return { ok: true, ...(await build(model, name)) };
  } catch (e) {
    if (e instanceof ImportError) return { ok: false, errors: e.message.split('\n') };
    throw e;
  }
}

async function build(model: ReturnType<typeof decodeModel>, name: string): Promise<{ document: GraphDocument; notes: string[] }> {
  const g = model.graph;
  const consts = new Map<string, OnnxConstant>();
  for (const t of g.initializer) consts.set(t.name, tensorValues(t, 'initializer'));
  const realInputs = g.input.filter((i) => !consts.has(i.name));
  if (realInputs.length !== 1) throw new ImportError(`the model has ${realInputs.length} inputs (${realInputs.map((i) => `'${i.name}'`).join(', ')}); Gradflow imports models with one`);
  const input = realInputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const elem = input.type?.tensorType?.elemType;
  if (elem !== undefined && elem !== DataType.FLOAT) throw new ImportError(`the input '${input.name}' has data type ${elem}; Gradflow's inputs are float`);
  const inputShape = dims.slice(1).map((d, i) => {
    if (d.dimValue === undefined || !(Number(d.dimValue) > 0)) throw new ImportError(`dimension ${i + 1} of the input '${input.name}' is not a fixed size (${d.dimParam ?? '?'}); only the batch dimension may vary`);
    return Number(d.dimValue);
  });
  if (!inputShape.length) throw new ImportError(`the input '${input.name}' has no per-example dimensions`);
  const notes: string[] = [];
  const layout = new Map<string, OnnxLayout>();
  // An image input [N, C, H, W] becomes Gradflow's [H, W, C]: the model's own data must then be fed channels last.
  let gradflowInput = inputShape;
  if (inputShape.length === 3) {
    const [c, h, w] = inputShape as [number, number, number];
    gradflowInput = [h, w, c];
    layout.set(input.name, { kind: 'nchw' });
    notes.push(`the input '${input.name}' is an image [${c}, ${h}, ${w}] (channels first, as ONNX has it); Gradflow's Input takes it channels last, [${h}, ${w}, ${c}]: transpose the data (N, C, H, W) → (N, H, W, C) when you feed it${c === 1 ? ' (with one channel, the values are in the same order)' : ''}`);
  }

  const g2 = new GraphAssembly();
  const refs = new Map<string, Ref>();
  const consumers = new Map<string, number>();
  for (const n of g.node) for (const i of n.input) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of g.output) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);

  const addNode = (kind: string, rawLabel: string, params: Record<string, ParamValue> = {}): string => {
    // torch.onnx.export names nodes '/module/path/Op_3': the module path is the readable part.
    const scoped = /^\/(.+)\/[A-Za-z]+(?:_\d+)?$/.exec(rawLabel);
    return g2.addNode(kind, (scoped ? scoped[1]!.replace(/\//g, '.') : rawLabel.replace(/^\//, '')) || kind, params);
  };

  // The model's input is no op a kind could read: the catalogue's Input kind (by its role) holds it.
  const inputKind = catalogue.find((d) => d.role === 'input')!;
  const inputId = addNode(inputKind.kind, input.name, { shape: gradflowInput });
  refs.set(input.name, { node: inputId, port: inputKind.outputs[0]!.name });

  const unsupported: string[] = [];
  const where = (n: NodeProto, i: number) => `${n.opType} node '${n.name || `#${i}`}'`;
  const tensorIn = (n: NodeProto, i: number, k: number): Ref => {
    const r = refs.get(n.input[k] ?? '');
    if (!r) throw new ImportError(`${where(n, i)} reads '${n.input[k]}', which is neither the model input nor computed before it`);
    return r;
  };
  const keepLayout = (n: NodeProto) => {
    const l = layout.get(n.input[0]!);
    if (l) layout.set(n.output[0]!, l);
  };
  const setLayout = (tensor: string, l: OnnxLayout | null | undefined) => {
    if (l) layout.set(tensor, l);
    else layout.delete(tensor);
  };
  // Identity nodes left out, by their output: Gradflow exports a DropConnect node as one,
  // and its name comes back on the DropConnect that Gemm's α implies.
  const identityName = new Map<string, string>();

  /** The node as the kinds' readers see it. */
  const view = (n: NodeProto, i: number): OnnxNodeView => {
    const at = (name: string): AttributeProto | undefined => n.attribute?.find((a) => a.name === name);
    return {
      opType: n.opType,
      name: n.name || n.output[0]!,
      where: where(n, i),
      inputs: n.input,
      has: (a) => at(a) !== undefined,
      int: (a, def) => Number(at(a)?.i ?? def),
      float: (a, def) => Number(at(a)?.f ?? def),
      ints: (a) => at(a)?.ints?.map(Number),
      string: (a) => {
        const v = at(a)?.s;
        return v ? new TextDecoder().decode(v) : undefined;
      },
      constant: (k) => consts.get(n.input[k] ?? ''),
      constIn: (k) => {
        const c = consts.get(n.input[k] ?? '');
        if (!c) throw new ImportError(`${where(n, i)}: its input '${n.input[k]}' must be a constant (an initializer) for Gradflow to import it`);
        return c;
      },
      layout: (k) => layout.get(n.input[k] ?? ''),
      shape: (k) => {
        const s = g2.shapeOf(tensorIn(n, i, k));
        if (!s) throw new ImportError(`${where(n, i)}: the shape of its input '${n.input[k]}' is unknown`);
        return s;
      },
      // Per-example rank + 1 for the batch: what inference would give; only used for axis checks.
      rank: (k) => (tensorIn(n, i, k).node === inputId ? inputShape.length + 1 : 2),
      producer: (k) => {
        const r = refs.get(n.input[k] ?? '');
        const node = r && g2.node(r.node);
        return node && { kind: node.kind, params: node.params, consumers: consumers.get(n.input[k]!) ?? 0 };
      },
      fail: (message) => {
        throw new ImportError(message);
      },
    };
  };

  /**
   * What the kinds that claim the node's op type make of it: the first reading wins; a
   * reader's refusal is reported only when no kind reads the node.
   */
  const readByKinds = (v: OnnxNodeView): { def: AnyKindDef; read: OnnxRead<Record<string, ParamValue>> } => {
    const claimants = catalogue.filter((d) => d.fromOnnx?.opTypes.includes(v.opType));
    let refusal: ImportError | null = null;
    for (const def of claimants) {
      try {
        const read = def.fromOnnx!.read(v);
        if (read) return { def, read };
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        refusal ??= e;
      }
    }
    throw refusal ?? new ImportError(`${v.where}: the op ${v.opType} has no Gradflow node`);
  };

  /** Make what a kind read of the node: a node (after the one it implies before it), nothing, or a fold into the node before. */
  const place = (n: NodeProto, i: number, def: AnyKindDef, read: OnnxRead<Record<string, ParamValue>>) => {
    const out = n.output[0]!;
    if ('passThrough' in read) {
      refs.set(out, tensorIn(n, i, read.passThrough));
      setLayout(out, read.layout === undefined ? layout.get(n.input[read.passThrough]!) : read.layout);
      return;
    }
    if ('fold' in read) {
      const r = tensorIn(n, i, read.fold);
      const node = g2.node(r.node)!;
      if (node.kind !== def.kind) throw new Error(`internal: the ${def.title} reader of ${where(n, i)} folds it into a ${node.kind} node`);
      Object.assign(node.params, read.params);
      g2.setWeights(node.id, { ...g2.weights[node.id], ...read.weights });
      refs.set(out, r);
      setLayout(out, layout.get(n.input[read.fold]!));
      return;
    }
    const tensors = read.tensors ?? [0];
    const from = tensors.map((k) => tensorIn(n, i, k));
    const port = def.inputs[0]!.name;
    const name = n.name || out;
    if (read.before) {
      if (from.length !== 1) throw new Error(`internal: the ${def.title} reader of ${where(n, i)} places a node before one of several inputs`);
      const beforeDef = kindDef(read.before.kind)!;
      const b = addNode(beforeDef.kind, identityName.get(n.input[tensors[0]!]!) ?? `${name} ${beforeDef.title}`, read.before.params);
      g2.wire(from[0]!, b, beforeDef.inputs[0]!.name);
      from[0] = { node: b, port: beforeDef.outputs[0]!.name };
    }
    const id = addNode(def.kind, read.label ?? name, read.params as Record<string, ParamValue>);
    for (const f of from) g2.wire(f, id, port);
    if (read.weights) g2.setWeights(id, read.weights);
    refs.set(out, { node: id, port: def.outputs[0]!.name });
    setLayout(out, read.layout === undefined ? layout.get(n.input[tensors[0]!]!) : read.layout);
  };

  // Tensors a reported node would have made: nodes that read them are not reported again.
  const failed = new Set<string>();
  for (const [i, n] of g.node.entries()) {
    if (n.input.some((x) => failed.has(x))) {
      for (const o of n.output) failed.add(o);
      continue;
    }
    if (n.domain && n.domain !== 'ai.onnx') {
      unsupported.push(`${where(n, i)} is from the '${n.domain}' domain, which Gradflow does not represent`);
      for (const o of n.output) failed.add(o);
      continue;
    }
    try {
      const v = view(n, i);
      switch (n.opType) {
        case 'Constant': {
          const t = n.attribute?.find((a) => a.name === 'value')?.t;
          if (!t) throw new ImportError(`${where(n, i)} has no tensor value`);
          consts.set(n.output[0]!, tensorValues(t, where(n, i)));
          break;
        }
        case 'Identity':
        case 'Dropout':
          if (consts.has(n.input[0]!)) {
            consts.set(n.output[0]!, consts.get(n.input[0]!)!);
            break;
          }
          // Both are the identity at inference (ONNX's Dropout is; Gradflow's would scale by p).
          refs.set(n.output[0]!, tensorIn(n, i, 0));
          keepLayout(n);
          if (n.name) identityName.set(n.output[0]!, n.name);
          if (n.opType === 'Dropout') notes.push(`${where(n, i)} is the identity at inference and was left out; add a Gradflow Dropout to train with one`);
          break;
        case 'Transpose': {
          const perm = v.ints('perm') ?? [];
          const c = consts.get(n.input[0]!);
          if (c) {
            consts.set(n.output[0]!, transposeConstant(c, perm.length ? perm : c.dims.map((_, k) => c.dims.length - 1 - k)));
            break;
          }
          const from = layout.get(n.input[0]!);
          const rank = v.shape(0).length + 1;
          // Between channels last (Gradflow) and channels first (ONNX's Conv): the same values, no node.
          if (!from && rank === 4 && perm.join(',') === '0,3,1,2') layout.set(n.output[0]!, { kind: 'nchw' });
          else if (from?.kind === 'nchw' && perm.join(',') === '0,2,3,1') layout.delete(n.output[0]!);
          else throw new ImportError(`${where(n, i)} permutes the axes by [${perm.join(', ')}]; Gradflow follows only the transposes between channels last and channels first of an image`);
          refs.set(n.output[0]!, tensorIn(n, i, 0));
          const dc = identityName.get(n.input[0]!);
          if (dc) identityName.set(n.output[0]!, dc);
          break;
        }
        case 'Pad': {
          // torch writes AvgPool2d(count_include_pad=True) as a Pad by zeros before the pooling.
          const pads = n.input[1] ? Array.from(v.constIn(1).values, Number) : (v.ints('pads') ?? []);
          if (pads.some((p) => p !== 0)) throw new ImportError(`${where(n, i)} pads by [${pads.join(', ')}]; Gradflow pads only inside a Conv2D or pooling ('same')`);
          refs.set(n.output[0]!, tensorIn(n, i, 0));
          keepLayout(n);
          break;
        }
        default: {
          if (n.opType === 'Mul' && n.input.every((x) => consts.has(x))) {
            // A constant times a scalar (Gradflow's DropConnect on a Conv kernel: p·W), folded
            // before any kind reads it; the layer reading the kernel sees what it was scaled from.
            const [a, b] = n.input.map((x) => consts.get(x)!) as [OnnxConstant, OnnxConstant];
            const [big, scalar] = b.values.length === 1 ? [a, b] : [b, a];
            if (scalar.values.length !== 1) throw new ImportError(`${where(n, i)} multiplies two constant tensors; Gradflow folds only a constant times a number`);
            const keep = Number(scalar.values[0]);
            const values = Float32Array.from(big.values, (v) => Number(v) * keep);
            consts.set(n.output[0]!, { dims: big.dims, values, ...(keep > 0 && keep < 1 ? { scaled: { keep, unscaled: Float32Array.from(big.values) } } : {}) });
            break;
          }
          const { def, read } = readByKinds(v);
          place(n, i, def, read);
        }
      }
    } catch (e) {
      if (!(e instanceof ImportError)) throw e;
      unsupported.push(e.message);
      for (const o of n.output) failed.add(o);
    }
  }
  if (unsupported.length) throw new ImportError(unsupported.join('\n'));

  const outputs = g.output.map((o) => o.name);
  if (!outputs.every((o) => refs.has(o))) throw new ImportError(`the model output${outputs.length > 1 ? 's' : ''} ${outputs.filter((o) => !refs.has(o)).map((o) => `'${o}'`).join(', ')} ${outputs.length > 1 ? 'are' : 'is'} not computed by any node`);
  notes.push(...g2.dropProbabilityOutputs(outputs.map((o) => ({ name: o, ref: refs.get(o)! }))));
  const by = model.producerName ? ` (made by ${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''})` : '';
  const document = await g2.document(name, `Imported from ONNX${by}. Attach a Dataset to the Input's place, a loss and an optimizer to train it.`, 'onnx');
  return { document, notes };
}
