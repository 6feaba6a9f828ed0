/**
 * ONNX import: the subset Gradflow can represent becomes an editable graph with its
 * weights, laid out with ELK, starting from an Input node of the model's input shape (ready
 * for a Dataset, a loss and an optimizer). Gemm, MatMul (+ Add), the activations,
 * BatchNormalization, LayerNormalization, Dropout and Identity (identities at inference),
 * Flatten, Reshape, Add/Sum, Concat, Conv, MaxPool, AveragePool, GlobalAveragePool, and
 * Gradflow's own inference forms (Dropout as a multiplication by p, DropConnect as Gemm's α
 * or a kernel times p). Any other op is reported with its name and the node it sits in, and
 * nothing is imported.
 *
 * Images: ONNX's Conv and pooling are NCHW, Gradflow's images NHWC. Each tensor of the
 * model is tracked with the layout ONNX gives it. A channels-first tensor is held by a
 * Gradflow node as channels last (the same values, axes in another order): elementwise ops,
 * BatchNormalization (axis 1 is the channels) and Add keep the correspondence; a Transpose
 * between the two layouts (Gradflow's own exports wrap every Conv in a pair) is no node at
 * all; a Flatten of a channels-first image reads c·h·w in another order than Gradflow's
 * h·w·c, so the rows of the Gemm/MatMul it feeds are permuted to match; a kernel
 * [out, in, kh, kw] becomes [kh, kw, in, out].
 */
import type { GraphDocument } from '../../graph/document.ts';
import type { ParamValue } from '../../graph/params.ts';
import { samePadding, type Padding } from '../../graph/kinds/conv.ts';
import type { Shape } from '../../graph/types.ts';
import { DataType, decodeModel, OnnxFormatError, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import { GraphAssembly, type ModelImport, type Ref } from './assemble.ts';

export type OnnxImport = ModelImport;

interface Const {
  dims: number[];
  values: Float32Array | number[];
  /** A constant folded from `unscaled` × a scalar in (0, 1): a kernel times DropConnect's keep probability. */
  scaled?: { keep: number; unscaled: Float32Array };
}

/**
 * How an ONNX tensor relates to the Gradflow output that holds it. Absent: the same values
 * in the same order. 'nchw': ONNX has [N, C, H, W] where Gradflow has [N, H, W, C]. 'pooled':
 * ONNX has [N, C, 1, 1] (GlobalAveragePool) where Gradflow has [N, C]. 'flat': a vector
 * whose entry j in Gradflow is entry order[j] in ONNX (a Flatten of an 'nchw' image reads
 * c·h·w where Gradflow reads h·w·c; a Concat joins such orders).
 */
type Layout = { kind: 'nchw' } | { kind: 'pooled' } | { kind: 'flat'; order: Int32Array };

/** Where each of Gradflow's h·w·c values of a flattened image sits in ONNX's c·h·w. */
function chwOrder(h: number, w: number, c: number): Int32Array {
  const order = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) order[(y * w + x) * c + k] = (k * h + y) * w + x;
  return order;
}

/** A tensor's values with its axes permuted (the general N-d transpose of constant folding). */
function transposeN(c: Const, perm: number[]): Const {
  const dims = perm.map((p) => c.dims[p]!);
  const n = c.dims.length;
  const strides = c.dims.map((_, i) => c.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(c.values.length);
  const idx = new Array<number>(n).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < n; k++) src += idx[k]! * strides[perm[k]!]!;
    out[o] = Number(c.values[src]);
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k]! < dims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims, values: out };
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
  const notes: string[] = [];
  const layout = new Map<string, Layout>();
  // An image input [N, C, H, W] becomes Gradflow's [H, W, C]: the model's own data must then be fed channels last.
  let gradflowInput = inputShape;
  if (inputShape.length === 3) {
    const [c, h, w] = inputShape as [number, number, number];
    gradflowInput = [h, w, c];
    layout.set(input.name, { kind: 'nchw' });
    notes.push(`the input '${input.name}' is an image [${c}, ${h}, ${w}] (channels first, as ONNX has it); Gradflow's Input takes it channels last, [${h}, ${w}, ${c}]: transpose the data (N, C, H, W) → (N, H, W, C) when you feed it${c === 1 ? ' (with one channel, the values are in the same order)' : ''}`);
  }

  const g2 = new GraphAssembly();
  const { nodes, weights } = g2;
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

  const inputId = addNode('input', input.name, { shape: gradflowInput });
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
  // Elementwise: the output has its input's layout.
  const single = (kind: string, n: NodeProto, i: number, params: Record<string, ParamValue> = {}) => {
    const id = addNode(kind, n.name || n.output[0]!, params);
    wire(tensorIn(n, i, 0), id);
    refs.set(n.output[0]!, { node: id, port: 'out' });
    keepLayout(n);
    return id;
  };
  const keepLayout = (n: NodeProto) => {
    const l = layout.get(n.input[0]!);
    if (l) layout.set(n.output[0]!, l);
  };
  /** The Gradflow shape of one of a node's input tensors (per example, channels last). */
  const shapeIn = (n: NodeProto, i: number, k: number): Shape => {
    const s = g2.shapeOf(tensorIn(n, i, k));
    if (!s) throw new ImportError(`${where(n, i)}: the shape of its input '${n.input[k]}' is unknown`);
    return s;
  };
  /** Gradflow's padding for ONNX's pads (or auto_pad) of a window over an h × w image. */
  const padding = (n: NodeProto, i: number, [h, w]: number[], extent: [number, number], stride: number): Padding => {
    const auto = attr(n, 'auto_pad')?.s;
    const mode = auto ? new TextDecoder().decode(auto) : 'NOTSET';
    if (mode === 'VALID') return 'valid';
    if (mode === 'SAME_UPPER') return 'same';
    if (mode !== 'NOTSET') throw new ImportError(`${where(n, i)} pads with auto_pad = ${mode}; Gradflow pads like SAME_UPPER ('same') or not at all ('valid')`);
    const pads = (attr(n, 'pads')?.ints ?? [0, 0, 0, 0]).map(Number);
    if (pads.every((p) => p === 0)) return 'valid';
    const [pt, pb] = samePadding(h!, extent[0], stride, 'same');
    const [pl, pr] = samePadding(w!, extent[1], stride, 'same');
    if (pads.join(',') === [pt, pl, pb, pr].join(',')) return 'same';
    throw new ImportError(`${where(n, i)} pads [${pads.join(', ')}] (top, left, bottom, right); Gradflow pads nothing ('valid') or [${[pt, pl, pb, pr].join(', ')}] here ('same', as TensorFlow does)`);
  };
  /** One number for both axes (Gradflow's strides and dilations), or the reason there is none. */
  const square = (n: NodeProto, i: number, name: string, def: number): number => {
    const v = (attr(n, name)?.ints ?? [def, def]).map(Number);
    if (v.length !== 2 || v[0] !== v[1]) throw new ImportError(`${where(n, i)} has ${name} [${v.join(', ')}]; Gradflow uses one ${name.replace(/s$/, '')} for height and width of 2-D images`);
    return v[0]!;
  };
  /** Refuse a node whose input Gradflow holds in another order than ONNX (it would compute on the wrong axes). */
  const natural = (n: NodeProto, i: number) => {
    if (layout.get(n.input[0]!)) throw new ImportError(`${where(n, i)} works on a channels-first tensor, whose axes Gradflow holds in another order (channels last)`);
  };
  /** The layout all of a node's inputs share, or the reason they differ. */
  const sameLayout = (n: NodeProto, i: number): Layout | undefined => {
    const ls = n.input.map((x) => layout.get(x));
    if (ls.some((l) => l?.kind !== ls[0]?.kind)) throw new ImportError(`${where(n, i)} combines channels-first and channels-last tensors`);
    return ls[0];
  };
  // Gradflow's own export names the op inside a node's Transpose pair '<label>/Conv' (the
  // pair's last Transpose carries the label): the node comes back as '<label>'.
  const wrappedName = (n: NodeProto) => (n.name || n.output[0]!).replace(/^([^/].*)\/(Conv|MaxPool|AveragePool|GlobalAveragePool)$/, '$1');
  /** The node's input, which must be a channels-first image. */
  const imageIn = (n: NodeProto, i: number): Ref => {
    if (layout.get(n.input[0]!)?.kind !== 'nchw') throw new ImportError(`${where(n, i)} reads '${n.input[0]}', which is not a channels-first image [N, C, H, W] that Gradflow can follow`);
    return tensorIn(n, i, 0);
  };
  const setWeights = (id: string, w: Record<string, { shape: number[]; values: Float32Array }>) => {
    weights[id] = w;
  };
  // Identity nodes left out, by their output: Gradflow exports a DropConnect node as one,
  // and its name comes back on the DropConnect that Gemm's α implies.
  const identityName = new Map<string, string>();
  const dense = (n: NodeProto, i: number, x: Ref, kernel: Float32Array, fanIn: number, units: number, bias: Float32Array | null, dropConnect: number) => {
    const l = layout.get(n.input[0]!);
    if (l?.kind === 'flat') {
      // Gradflow's input j is ONNX's order[j]: so is the kernel's row j.
      const rows = new Float32Array(kernel.length);
      l.order.forEach((o, j) => rows.set(kernel.subarray(o * units, (o + 1) * units), j * units));
      kernel = rows;
    } else if (l) throw new ImportError(`${where(n, i)} multiplies a channels-first image; flatten it first`);
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
          sameLayout(n, i);
          const id = addNode('add', n.name || n.output[0]!);
          n.input.forEach((_, k) => wire(tensorIn(n, i, k), id));
          refs.set(n.output[0]!, { node: id, port: 'out' });
          keepLayout(n);
          break;
        }
        case 'Mul': {
          if (n.input.every((x) => consts.has(x))) {
            // A constant times a scalar (Gradflow's DropConnect on a Conv kernel: p·W).
            const [a, b] = n.input.map((x) => consts.get(x)!) as [Const, Const];
            const [big, scalar] = b.values.length === 1 ? [a, b] : [b, a];
            if (scalar.values.length !== 1) throw new ImportError(`${where(n, i)} multiplies two constant tensors; Gradflow folds only a constant times a number`);
            const keep = Number(scalar.values[0]);
            const values = Float32Array.from(big.values, (v) => Number(v) * keep);
            consts.set(n.output[0]!, { dims: big.dims, values, ...(keep > 0 && keep < 1 ? { scaled: { keep, unscaled: Float32Array.from(big.values) } } : {}) });
            break;
          }
          const k = n.input.findIndex((x) => consts.has(x));
          const c = k >= 0 ? consts.get(n.input[k]!)! : null;
          const p = c && c.values.length === 1 ? Number(c.values[0]) : NaN;
          // Gradflow's Dropout at inference: activations times p = 1 − rate.
          if (!(p > 0 && p < 1)) throw new ImportError(`${where(n, i)} multiplies ${c ? `by ${c.values.length === 1 ? p : `a ${c.dims.join('×')} tensor`}` : 'two tensors'}; Gradflow imports a multiplication only by a keep probability p in (0, 1), as Dropout`);
          const id = addNode('dropout', n.name || n.output[0]!, { rate: tidy(1 - p) });
          wire(tensorIn(n, i, 1 - k), id);
          refs.set(n.output[0]!, { node: id, port: 'out' });
          const l = layout.get(n.input[1 - k]!);
          if (l) layout.set(n.output[0]!, l);
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
          natural(n, i);
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
          keepLayout(n);
          if (n.name) identityName.set(n.output[0]!, n.name);
          if (n.opType === 'Dropout') notes.push(`${where(n, i)} is the identity at inference and was left out; add a Gradflow Dropout to train with one`);
          break;
        case 'Flatten': {
          if (attrInt(n, 'axis', 1) !== 1) throw new ImportError(`${where(n, i)} flattens from axis ${attrInt(n, 'axis', 1)}; Gradflow's Flatten keeps the batch axis only`);
          const l = layout.get(n.input[0]!);
          // [N, C, 1, 1] after a global pooling is already Gradflow's [N, C].
          if (l?.kind === 'pooled') {
            refs.set(n.output[0]!, tensorIn(n, i, 0));
            break;
          }
          if (l?.kind === 'nchw') {
            const [h, w, c] = shapeIn(n, i, 0) as [number, number, number];
            single('flatten', n, i);
            layout.set(n.output[0]!, { kind: 'flat', order: chwOrder(h, w, c) });
            break;
          }
          single('flatten', n, i);
          break;
        }
        case 'Transpose': {
          const perm = (attr(n, 'perm')?.ints ?? []).map(Number);
          const c = consts.get(n.input[0]!);
          if (c) {
            consts.set(n.output[0]!, transposeN(c, perm.length ? perm : c.dims.map((_, k) => c.dims.length - 1 - k)));
            break;
          }
          const from = layout.get(n.input[0]!);
          const rank = shapeIn(n, i, 0).length + 1;
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
          const pads = n.input[1] ? Array.from(constIn(n, i, 1).values, Number) : (attr(n, 'pads')?.ints ?? []).map(Number);
          if (pads.some((p) => p !== 0)) throw new ImportError(`${where(n, i)} pads by [${pads.join(', ')}]; Gradflow pads only inside a Conv2D or pooling ('same')`);
          refs.set(n.output[0]!, tensorIn(n, i, 0));
          keepLayout(n);
          break;
        }
        case 'Conv': {
          const x = imageIn(n, i);
          const wc = constIn(n, i, 1);
          if (wc.dims.length !== 4) throw new ImportError(`${where(n, i)} has a ${wc.dims.length}-D kernel; Gradflow's Conv2D convolves 2-D images`);
          if (attrInt(n, 'group', 1) !== 1) throw new ImportError(`${where(n, i)} is a grouped convolution (group = ${attrInt(n, 'group', 1)}); Gradflow's Conv2D connects every input channel to every filter`);
          const [filters, cin, kh, kw] = wc.dims as [number, number, number, number];
          const stride = square(n, i, 'strides', 1);
          const dilation = square(n, i, 'dilations', 1);
          const hw = shapeIn(n, i, 0);
          const pad = padding(n, i, hw, [(kh - 1) * dilation + 1, (kw - 1) * dilation + 1], stride);
          // Gradflow's DropConnect exports p·W: the kernel comes back as W, with a DropConnect before the layer.
          const keep = wc.scaled?.keep ?? 1;
          const kernel = transposeN(wc.scaled ? { dims: wc.dims, values: wc.scaled.unscaled } : wc, [2, 3, 1, 0]);
          let from = x;
          if (keep < 1) {
            const dc = addNode('dropConnect', identityName.get(n.input[0]!) ?? `${n.name || n.output[0]} DropConnect`, { rate: tidy(1 - keep) });
            wire(x, dc);
            from = { node: dc, port: 'out' };
          }
          const bias = n.input[2] ? constIn(n, i, 2) : null;
          const id = addNode('conv2d', wrappedName(n), { filters, kernelSize: [kh, kw], stride, padding: pad, dilation, bias: bias !== null });
          wire(from, id);
          setWeights(id, { kernel: { shape: [kh, kw, cin, filters], values: kernel.values as Float32Array }, ...(bias ? { bias: { shape: [filters], values: Float32Array.from(bias.values) } } : {}) });
          refs.set(n.output[0]!, { node: id, port: 'out' });
          layout.set(n.output[0]!, { kind: 'nchw' });
          break;
        }
        case 'MaxPool':
        case 'AveragePool': {
          const x = imageIn(n, i);
          const window = (attr(n, 'kernel_shape')?.ints ?? []).map(Number) as [number, number];
          if (window.length !== 2) throw new ImportError(`${where(n, i)} pools a window of ${window.length} axes; Gradflow pools 2-D images`);
          if (attrInt(n, 'ceil_mode', 0) !== 0) throw new ImportError(`${where(n, i)} rounds its output size up (ceil_mode = 1); Gradflow rounds down, as TensorFlow does`);
          if (square(n, i, 'dilations', 1) !== 1) throw new ImportError(`${where(n, i)} pools with dilated windows, which Gradflow does not`);
          const stride = square(n, i, 'strides', 1);
          const pad = padding(n, i, shapeIn(n, i, 0), window, stride);
          if (n.opType === 'AveragePool' && pad === 'same' && attrInt(n, 'count_include_pad', 0) !== 0) throw new ImportError(`${where(n, i)} counts the padding zeros in its averages (count_include_pad = 1); Gradflow averages the pixels inside the image`);
          const id = addNode(n.opType === 'MaxPool' ? 'maxPool2d' : 'avgPool2d', wrappedName(n), { poolSize: window, stride, padding: pad });
          wire(x, id);
          refs.set(n.output[0]!, { node: id, port: 'out' });
          layout.set(n.output[0]!, { kind: 'nchw' });
          break;
        }
        case 'GlobalAveragePool':
        case 'ReduceMean': {
          const x = imageIn(n, i);
          let keep = true;
          if (n.opType === 'ReduceMean') {
            // x.mean((2, 3)) in torch: the global average over height and width.
            const axes = (n.input[1] ? Array.from(constIn(n, i, 1).values, Number) : (attr(n, 'axes')?.ints ?? []).map(Number)).map((a) => (a < 0 ? a + 4 : a)).sort();
            if (axes.join(',') !== '2,3') throw new ImportError(`${where(n, i)} averages axes [${axes.join(', ')}] of an image; Gradflow averages over height and width only (GlobalAvgPool2D)`);
            keep = attrInt(n, 'keepdims', 1) === 1;
          }
          const id = addNode('globalAvgPool2d', wrappedName(n));
          wire(x, id);
          refs.set(n.output[0]!, { node: id, port: 'out' });
          if (keep) layout.set(n.output[0]!, { kind: 'pooled' });
          break;
        }
        case 'Reshape': {
          const shape = Array.from(constIn(n, i, 1).values, Number);
          if (!(shape[0] === -1 || shape[0] === 0)) throw new ImportError(`${where(n, i)} reshapes the batch dimension (target ${JSON.stringify(shape)}); Gradflow keeps it`);
          // [N, C, 1, 1] → [N, C] after a global pooling is already Gradflow's shape.
          if (layout.get(n.input[0]!)?.kind === 'pooled' && shape.length === 2) {
            refs.set(n.output[0]!, tensorIn(n, i, 0));
            break;
          }
          natural(n, i);
          single('reshape', n, i, { shape: shape.slice(1) });
          break;
        }
        case 'Concat': {
          const axis = attrInt(n, 'axis', -1);
          const ls = n.input.map((x) => layout.get(x));
          const flat = ls.some((l) => l?.kind === 'flat') && ls.every((l) => !l || l.kind === 'flat');
          const l = flat ? undefined : sameLayout(n, i);
          const id = addNode('concat', n.name || n.output[0]!);
          n.input.forEach((_, k) => wire(tensorIn(n, i, k), id));
          refs.set(n.output[0]!, { node: id, port: 'out' });
          keepLayout(n);
          if (flat) {
            // Vectors in other orders side by side: the joined order, each part shifted by what comes before it.
            if (axis !== 1 && axis !== -1) throw new ImportError(`${where(n, i)} joins vectors along axis ${axis}; Gradflow's Concat joins along the last axis`);
            const parts = n.input.map((x, k) => ({ l: ls[k], size: shapeIn(n, i, k)[0]! }));
            const order = new Int32Array(parts.reduce((a, p) => a + p.size, 0));
            let at = 0;
            for (const p of parts) {
              for (let j = 0; j < p.size; j++) order[at + j] = at + (p.l?.kind === 'flat' ? p.l.order[j]! : j);
              at += p.size;
            }
            layout.set(n.output[0]!, { kind: 'flat', order });
            break;
          }
          // Channels first, axis 1 is the channels: Gradflow's last axis.
          if (l?.kind === 'nchw' ? axis !== 1 : l ? true : axis !== -1 && axis !== inputRankOf(n, i) - 1) throw new ImportError(`${where(n, i)} joins along axis ${axis}${l ? ' of a channels-first tensor' : ''}; Gradflow's Concat joins along the last axis${l?.kind === 'nchw' ? ' (the channels)' : ''}`);
          break;
        }
        case 'BatchNormalization': {
          if (layout.get(n.input[0]!)?.kind === 'flat') throw new ImportError(`${where(n, i)} normalizes a flattened channels-first image, whose features Gradflow holds in another order`);
          const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => constIn(n, i, k));
          const id = single('batchNorm', n, i, { epsilon: tidy(attrFloat(n, 'epsilon', 1e-5)), ...(attr(n, 'momentum') ? { momentum: tidy(attrFloat(n, 'momentum', 0.9)) } : {}) });
          const f = scale!.values.length;
          const w = (c: Const) => ({ shape: [f], values: Float32Array.from(c.values) });
          setWeights(id, { gamma: w(scale!), beta: w(bias!), movingMean: w(mean!), movingVariance: w(variance!) });
          break;
        }
        case 'LayerNormalization': {
          const axis = attrInt(n, 'axis', -1);
          natural(n, i);
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
