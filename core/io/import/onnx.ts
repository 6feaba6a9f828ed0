/**
 * ONNX import: the subset Gradflow can represent becomes an editable graph with its
 * weights, laid out with ELK, starting from an Input node of the model's input shape (ready
 * for a Dataset, a loss and an optimizer). Gemm, MatMul (+ Add), the activations,
 * BatchNormalization, LayerNormalization, Dropout and Identity (identities at inference),
 * Flatten, Reshape, Add/Sum, Concat, and Gradflow's own inference forms (Dropout as a
 * multiplication by p, DropConnect as Gemm's α). Any other op is reported with its name and
 * the node it sits in, and nothing is imported.
 */
import type { GraphDocument } from '../../graph/document.ts';
import type { ParamValue } from '../../graph/params.ts';
import { DataType, decodeModel, OnnxFormatError, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import { GraphAssembly, type ModelImport, type Ref } from './assemble.ts';

export type OnnxImport = ModelImport;

interface Const {
  dims: number[];
  values: Float32Array | number[];
}

class ImportError extends Error {}

function tensorValues(t: TensorProto, where: string): Const {
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

const attr = (n: NodeProto, name: string): AttributeProto | undefined => n.attribute?.find((a) => a.name === name);
const attrInt = (n: NodeProto, name: string, def: number) => Number(attr(n, name)?.i ?? def);
const attrFloat = (n: NodeProto, name: string, def: number) => Number(attr(n, name)?.f ?? def);
/** float32 attribute values as the decimal a person wrote (0.1, not 0.10000000149). */
const tidy = (v: number) => Number(v.toPrecision(7));

function transpose(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = v[i * cols + j]!;
  return out;
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
  const consts = new Map<string, Const>();
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

  const g2 = new GraphAssembly();
  const { nodes, weights } = g2;
  const notes: string[] = [];
  const refs = new Map<string, Ref>();
  const consumers = new Map<string, number>();
  for (const n of g.node) for (const i of n.input) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of g.output) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);

  const addNode = (kind: string, rawLabel: string, params: Record<string, ParamValue> = {}): string => {
    // torch.onnx.export names nodes '/module/path/Op_3': the module path is the readable part.
    const scoped = /^\/(.+)\/[A-Za-z]+(?:_\d+)?$/.exec(rawLabel);
    return g2.addNode(kind, (scoped ? scoped[1]!.replace(/\//g, '.') : rawLabel.replace(/^\//, '')) || kind, params);
  };
  const wire = (from: Ref, to: string, port = 'in') => g2.wire(from, to, port);

  const inputId = addNode('input', input.name, { shape: inputShape });
  refs.set(input.name, { node: inputId, port: 'x' });

  const unsupported: string[] = [];
  const where = (n: NodeProto, i: number) => `${n.opType} node '${n.name || `#${i}`}'`;
  const tensorIn = (n: NodeProto, i: number, k: number): Ref => {
    const r = refs.get(n.input[k] ?? '');
    if (!r) throw new ImportError(`${where(n, i)} reads '${n.input[k]}', which is neither the model input nor computed before it`);
    return r;
  };
  const constIn = (n: NodeProto, i: number, k: number): Const => {
    const c = consts.get(n.input[k] ?? '');
    if (!c) throw new ImportError(`${where(n, i)}: its input '${n.input[k]}' must be a constant (an initializer) for Gradflow to import it`);
    return c;
  };
  const single = (kind: string, n: NodeProto, i: number, params: Record<string, ParamValue> = {}) => {
    const id = addNode(kind, n.name || n.output[0]!, params);
    wire(tensorIn(n, i, 0), id);
    refs.set(n.output[0]!, { node: id, port: 'out' });
    return id;
  };
  const setWeights = (id: string, w: Record<string, { shape: number[]; values: Float32Array }>) => {
    weights[id] = w;
  };
  // Identity nodes left out, by their output: Gradflow exports a DropConnect node as one,
  // and its name comes back on the DropConnect that Gemm's α implies.
  const identityName = new Map<string, string>();
  const dense = (n: NodeProto, i: number, x: Ref, kernel: Float32Array, fanIn: number, units: number, bias: Float32Array | null, dropConnect: number) => {
    let from = x;
    if (dropConnect > 0) {
      const dc = addNode('dropConnect', identityName.get(n.input[0]!) ?? `${n.name || n.output[0]} DropConnect`, { rate: tidy(dropConnect) });
      wire(x, dc);
      from = { node: dc, port: 'out' };
    }
    const id = addNode('dense', n.name || n.output[0]!, { units, bias: bias !== null });
    wire(from, id);
    setWeights(id, { kernel: { shape: [fanIn, units], values: kernel }, ...(bias ? { bias: { shape: [units], values: bias } } : {}) });
    refs.set(n.output[0]!, { node: id, port: 'out' });
    return id;
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
      switch (n.opType) {
        case 'Constant': {
          const t = attr(n, 'value')?.t;
          if (!t) throw new ImportError(`${where(n, i)} has no tensor value`);
          consts.set(n.output[0]!, tensorValues(t, where(n, i)));
          break;
        }
        case 'Gemm': {
          if (attrInt(n, 'transA', 0) !== 0) throw new ImportError(`${where(n, i)} transposes its input (transA = 1), which Gradflow's Dense does not`);
          const b = constIn(n, i, 1);
          const [r, c] = b.dims as [number, number];
          const kernel = attrInt(n, 'transB', 0) ? transpose(b.values as Float32Array, r, c) : Float32Array.from(b.values);
          const [fanIn, units] = attrInt(n, 'transB', 0) ? [c, r] : [r, c];
          const alpha = attrFloat(n, 'alpha', 1);
          const beta = attrFloat(n, 'beta', 1);
          let bias: Float32Array | null = null;
          if (n.input[2]) {
            const cb = constIn(n, i, 2);
            if (cb.values.length !== units) throw new ImportError(`${where(n, i)}: its bias has ${cb.values.length} values for ${units} units (Gradflow adds one bias per unit)`);
            bias = Float32Array.from(cb.values, (v) => v * beta);
          }
          // Gradflow exports DropConnect's mean network h·(pW) as α = p; any other α scales W.
          const dropConnect = alpha > 0 && alpha < 1 ? 1 - alpha : 0;
          if (dropConnect === 0 && alpha !== 1) kernel.forEach((v, k) => (kernel[k] = v * alpha));
          dense(n, i, tensorIn(n, i, 0), kernel, fanIn, units, bias, dropConnect);
          break;
        }
        case 'MatMul': {
          const w = constIn(n, i, 1);
          if (w.dims.length !== 2) throw new ImportError(`${where(n, i)} multiplies by a ${w.dims.length}-D tensor; Gradflow's Dense needs a matrix`);
          dense(n, i, tensorIn(n, i, 0), Float32Array.from(w.values), w.dims[0]!, w.dims[1]!, null, 0);
          break;
        }
        case 'Add':
        case 'Sum': {
          const constant = n.input.findIndex((x) => consts.has(x));
          if (n.opType === 'Add' && constant >= 0) {
            // MatMul + Add(bias) is a Dense with a bias, when the MatMul feeds only this Add.
            const other = n.input[1 - constant]!;
            const r = refs.get(other);
            const node = r && nodes.find((m) => m.id === r.node);
            const c = consts.get(n.input[constant]!)!;
            if (node?.kind === 'dense' && node.params.bias === false && consumers.get(other) === 1 && c.values.length === node.params.units && c.dims.length <= 2) {
              node.params.bias = true;
              weights[node.id]!.bias = { shape: [node.params.units as number], values: Float32Array.from(c.values) };
              refs.set(n.output[0]!, r!);
              break;
            }
            throw new ImportError(`${where(n, i)} adds a constant, which Gradflow represents only as the bias of a MatMul it follows`);
          }
          const id = addNode('add', n.name || n.output[0]!);
          n.input.forEach((_, k) => wire(tensorIn(n, i, k), id));
          refs.set(n.output[0]!, { node: id, port: 'out' });
          break;
        }
        case 'Mul': {
          const k = n.input.findIndex((x) => consts.has(x));
          const c = k >= 0 ? consts.get(n.input[k]!)! : null;
          const p = c && c.values.length === 1 ? Number(c.values[0]) : NaN;
          // Gradflow's Dropout at inference: activations times p = 1 − rate.
          if (!(p > 0 && p < 1)) throw new ImportError(`${where(n, i)} multiplies ${c ? `by ${c.values.length === 1 ? p : `a ${c.dims.join('×')} tensor`}` : 'two tensors'}; Gradflow imports a multiplication only by a keep probability p in (0, 1), as Dropout`);
          const id = addNode('dropout', n.name || n.output[0]!, { rate: tidy(1 - p) });
          wire(tensorIn(n, i, 1 - k), id);
          refs.set(n.output[0]!, { node: id, port: 'out' });
          break;
        }
        case 'Relu':
          single('relu', n, i);
          break;
        case 'LeakyRelu':
          single('leakyRelu', n, i, { alpha: tidy(attrFloat(n, 'alpha', 0.01)) });
          break;
        case 'PRelu': {
          const slope = constIn(n, i, 1);
          const id = single('prelu', n, i);
          setWeights(id, { alpha: { shape: [slope.values.length], values: Float32Array.from(slope.values) } });
          break;
        }
        case 'Abs':
          single('abs', n, i);
          break;
        case 'Sigmoid':
          single('sigmoid', n, i);
          break;
        case 'Tanh':
          single('tanh', n, i);
          break;
        case 'Softplus':
          single('softplus', n, i);
          break;
        case 'Elu':
          single('elu', n, i, { alpha: tidy(attrFloat(n, 'alpha', 1)) });
          break;
        case 'Softmax': {
          const axis = attrInt(n, 'axis', -1);
          if (axis !== -1 && axis !== inputRankOf(n, i) - 1) throw new ImportError(`${where(n, i)} takes the softmax over axis ${axis}; Gradflow's Softmax works on the last axis`);
          single('softmax', n, i);
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
          if (n.name) identityName.set(n.output[0]!, n.name);
          if (n.opType === 'Dropout') notes.push(`${where(n, i)} is the identity at inference and was left out; add a Gradflow Dropout to train with one`);
          break;
        case 'Flatten':
          if (attrInt(n, 'axis', 1) !== 1) throw new ImportError(`${where(n, i)} flattens from axis ${attrInt(n, 'axis', 1)}; Gradflow's Flatten keeps the batch axis only`);
          single('flatten', n, i);
          break;
        case 'Reshape': {
          const shape = Array.from(constIn(n, i, 1).values, Number);
          if (!(shape[0] === -1 || shape[0] === 0)) throw new ImportError(`${where(n, i)} reshapes the batch dimension (target ${JSON.stringify(shape)}); Gradflow keeps it`);
          single('reshape', n, i, { shape: shape.slice(1) });
          break;
        }
        case 'Concat': {
          const axis = attrInt(n, 'axis', -1);
          const id = addNode('concat', n.name || n.output[0]!);
          n.input.forEach((_, k) => wire(tensorIn(n, i, k), id));
          refs.set(n.output[0]!, { node: id, port: 'out' });
          if (axis !== -1 && axis !== inputRankOf(n, i) - 1) throw new ImportError(`${where(n, i)} joins along axis ${axis}; Gradflow's Concat joins along the last axis`);
          break;
        }
        case 'BatchNormalization': {
          const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => constIn(n, i, k));
          const id = single('batchNorm', n, i, { epsilon: tidy(attrFloat(n, 'epsilon', 1e-5)), ...(attr(n, 'momentum') ? { momentum: tidy(attrFloat(n, 'momentum', 0.9)) } : {}) });
          const f = scale!.values.length;
          const w = (c: Const) => ({ shape: [f], values: Float32Array.from(c.values) });
          setWeights(id, { gamma: w(scale!), beta: w(bias!), movingMean: w(mean!), movingVariance: w(variance!) });
          break;
        }
        case 'LayerNormalization': {
          const axis = attrInt(n, 'axis', -1);
          if (axis !== -1 && axis !== inputRankOf(n, i) - 1) throw new ImportError(`${where(n, i)} normalizes from axis ${axis}; Gradflow's LayerNorm normalizes the last axis`);
          const scale = constIn(n, i, 1);
          const f = scale.values.length;
          const bias = n.input[2] ? constIn(n, i, 2).values : new Float32Array(f);
          const id = single('layerNorm', n, i, { epsilon: tidy(attrFloat(n, 'epsilon', 1e-5)) });
          setWeights(id, { gamma: { shape: [f], values: Float32Array.from(scale.values) }, beta: { shape: [f], values: Float32Array.from(bias) } });
          break;
        }
        default:
          throw new ImportError(`${where(n, i)}: the op ${n.opType} has no Gradflow node`);
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

  function inputRankOf(n: NodeProto, i: number): number {
    // Per-example rank + 1 for the batch: what inference would give; only used for axis checks.
    const r = tensorIn(n, i, 0);
    return r.node === inputId ? inputShape.length + 1 : 2;
  }
}
