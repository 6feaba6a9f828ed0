/**
 * The ONNX file format (onnx.proto, IR version 8) read and written with protobufjs. Only
 * the messages a feed-forward model needs are declared, with the field numbers of
 * onnx/onnx.proto; fields not declared here are skipped when reading, so files from other
 * tools (torch.onnx.export) still decode.
 */
import protobuf from 'protobufjs/minimal.js';

// Field numbers of onnx/onnx.proto. The codec below is written out by hand on protobufjs's
// Reader and Writer (as its static code generator would), not built from a schema at run
// time: that needs eval, which the desktop app's Content-Security-Policy forbids.
/** TensorProto.DataType values Gradflow reads or writes. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
}
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
export interface Dim {
  dimValue?: number;
  dimParam?: string;
}
export interface ValueInfoProto {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Dim[] } } };
  docString?: string;
}
export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  docString?: string;
}
export interface ModelProto {
  irVersion: number;
  opsetImport: { domain?: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphProto;
  metadataProps?: { key: string; value: string }[];
}

const { Reader, Writer } = protobuf;
type W = protobuf.Writer;
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
const tag = (w: W, field: number, wire: number) => w.uint32((field << 3) | wire);
const str = (w: W, field: number, v: string | undefined) => v !== undefined && v !== '' && tag(w, field, LEN).string(v);
const msg = (w: W, field: number, write: (w: W) => void) => {
  tag(w, field, LEN).fork();
  write(w);
  w.ldelim();
};

function writeTensor(w: W, t: TensorProto): void {
  for (const d of t.dims) tag(w, 1, VARINT).int64(d);
  tag(w, 2, VARINT).int32(t.dataType);
  if (t.floatData?.length) msg(w, 4, (w) => t.floatData!.forEach((v) => w.float(v)));
  if (t.int64Data?.length) msg(w, 7, (w) => t.int64Data!.forEach((v) => w.int64(v)));
  str(w, 8, t.name);
  if (t.rawData) tag(w, 9, LEN).bytes(t.rawData);
}

function writeAttribute(w: W, a: AttributeProto): void {
  str(w, 1, a.name);
  if (a.f !== undefined) tag(w, 2, I32).float(a.f);
  if (a.i !== undefined) tag(w, 3, VARINT).int64(a.i);
  if (a.s !== undefined) tag(w, 4, LEN).bytes(a.s);
  if (a.t !== undefined) msg(w, 5, (w) => writeTensor(w, a.t!));
  for (const v of a.floats ?? []) tag(w, 7, I32).float(v);
  for (const v of a.ints ?? []) tag(w, 8, VARINT).int64(v);
  tag(w, 20, VARINT).int32(a.type);
}

function writeValueInfo(w: W, v: ValueInfoProto): void {
  str(w, 1, v.name);
  const t = v.type?.tensorType;
  if (t)
    msg(w, 2, (w) =>
      msg(w, 1, (w) => {
        if (t.elemType !== undefined) tag(w, 1, VARINT).int32(t.elemType);
        if (t.shape)
          msg(w, 2, (w) => {
            for (const d of t.shape!.dim ?? []) msg(w, 1, (w) => (d.dimValue !== undefined ? tag(w, 1, VARINT).int64(d.dimValue) : str(w, 2, d.dimParam)));
          });
      }),
    );
  str(w, 3, v.docString);
}

function writeNode(w: W, n: NodeProto): void {
  for (const i of n.input) tag(w, 1, LEN).string(i);
  for (const o of n.output) tag(w, 2, LEN).string(o);
  str(w, 3, n.name);
  str(w, 4, n.opType);
  for (const a of n.attribute ?? []) msg(w, 5, (w) => writeAttribute(w, a));
  str(w, 6, n.docString);
  str(w, 7, n.domain);
}

/** Serialize a model to the bytes of a .onnx file. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = Writer.create();
  tag(w, 1, VARINT).int64(m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 6, m.docString);
  msg(w, 7, (w) => {
    const g = m.graph;
    for (const n of g.node) msg(w, 1, (w) => writeNode(w, n));
    str(w, 2, g.name);
    for (const t of g.initializer) msg(w, 5, (w) => writeTensor(w, t));
    str(w, 10, g.docString);
    for (const v of g.input) msg(w, 11, (w) => writeValueInfo(w, v));
    for (const v of g.output) msg(w, 12, (w) => writeValueInfo(w, v));
  });
  for (const o of m.opsetImport)
    msg(w, 8, (w) => {
      str(w, 1, o.domain);
      tag(w, 2, VARINT).int64(o.version);
    });
  for (const p of m.metadataProps ?? [])
    msg(w, 14, (w) => {
      str(w, 1, p.key);
      str(w, 2, p.value);
    });
  return w.finish();
}

/** Thrown when bytes are not an ONNX model; the message says why. */
export class OnnxFormatError extends Error {}

type R = protobuf.Reader;
// int64s come back as numbers (or as Long objects when long.js is around): sizes and enum
// values in a model are far below 2^53.
const int64 = (r: R): number => {
  const v = r.int64() as unknown as number | { toNumber(): number };
  return typeof v === 'number' ? v : v.toNumber();
};
/** Read a message's fields from r until `end`; `field` handles the ones it knows. */
function fields(r: R, end: number, field: (no: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 0) throw new OnnxFormatError('not an ONNX model (a field has number 0)');
    if (!field(t >>> 3, t & 7)) r.skipType(t & 7);
  }
}
const sub = (r: R) => r.uint32() + r.pos;
/** A repeated scalar field, packed or not. */
function repeated(r: R, wire: number, read: () => number, into: number[]): void {
  if (wire === LEN) {
    const end = sub(r);
    while (r.pos < end) into.push(read());
  } else into.push(read());
}

function readTensor(r: R, end: number): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: 0 };
  fields(r, end, (no, wire) => {
    switch (no) {
      case 1: return repeated(r, wire, () => int64(r), t.dims), true;
      case 2: return (t.dataType = r.int32()), true;
      case 4: return repeated(r, wire, () => r.float(), (t.floatData ??= [])), true;
      case 5: return repeated(r, wire, () => r.int32(), (t.int32Data ??= [])), true;
      case 7: return repeated(r, wire, () => int64(r), (t.int64Data ??= [])), true;
      case 8: return (t.name = r.string()), true;
      case 9: return (t.rawData = r.bytes()), true;
      case 10: return repeated(r, wire, () => r.double(), (t.doubleData ??= [])), true;
      case 14: return (t.dataLocation = r.int32()), true;
      default: return false;
    }
  });
  return t;
}

function readAttribute(r: R, end: number): AttributeProto {
  const a: AttributeProto = { name: '', type: 0 };
  fields(r, end, (no, wire) => {
    switch (no) {
      case 1: return (a.name = r.string()), true;
      case 2: return (a.f = r.float()), true;
      case 3: return (a.i = int64(r)), true;
      case 4: return (a.s = r.bytes()), true;
      case 5: return (a.t = readTensor(r, sub(r))), true;
      case 7: return repeated(r, wire, () => r.float(), (a.floats ??= [])), true;
      case 8: return repeated(r, wire, () => int64(r), (a.ints ??= [])), true;
      case 20: return (a.type = r.int32()), true;
      default: return false;
    }
  });
  return a;
}

function readValueInfo(r: R, end: number): ValueInfoProto {
  const v: ValueInfoProto = { name: '' };
  fields(r, end, (no) => {
    if (no === 1) return (v.name = r.string()), true;
    if (no === 3) return (v.docString = r.string()), true;
    if (no !== 2) return false;
    fields(r, sub(r), (tno) => {
      if (tno !== 1) return false;
      const tensorType: NonNullable<NonNullable<ValueInfoProto['type']>['tensorType']> = {};
      fields(r, sub(r), (eno) => {
        if (eno === 1) return (tensorType.elemType = r.int32()), true;
        if (eno !== 2) return false;
        const dim: Dim[] = [];
        fields(r, sub(r), (sno) => {
          if (sno !== 1) return false;
          const d: Dim = {};
          fields(r, sub(r), (dno) => {
            if (dno === 1) return (d.dimValue = int64(r)), true;
            if (dno === 2) return (d.dimParam = r.string()), true;
            return false;
          });
          dim.push(d);
          return true;
        });
        tensorType.shape = { dim };
        return true;
      });
      v.type = { tensorType };
      return true;
    });
    return true;
  });
  return v;
}

function readNode(r: R, end: number): NodeProto {
  const n: NodeProto = { input: [], output: [], opType: '', attribute: [] };
  fields(r, end, (no) => {
    switch (no) {
      case 1: return n.input.push(r.string()), true;
      case 2: return n.output.push(r.string()), true;
      case 3: return (n.name = r.string()), true;
      case 4: return (n.opType = r.string()), true;
      case 5: return n.attribute!.push(readAttribute(r, sub(r))), true;
      case 6: return (n.docString = r.string()), true;
      case 7: return (n.domain = r.string()), true;
      default: return false;
    }
  });
  return n;
}

/** Parse the bytes of a .onnx file. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const r = Reader.create(bytes);
  const m: ModelProto = { irVersion: 0, opsetImport: [], graph: undefined as unknown as GraphProto };
  try {
    fields(r, bytes.length, (no) => {
      switch (no) {
        case 1: return (m.irVersion = int64(r)), true;
        case 2: return (m.producerName = r.string()), true;
        case 3: return (m.producerVersion = r.string()), true;
        case 6: return (m.docString = r.string()), true;
        case 8: {
          const o: { domain?: string; version: number } = { version: 0 };
          fields(r, sub(r), (ono) => (ono === 1 ? ((o.domain = r.string()), true) : ono === 2 ? ((o.version = int64(r)), true) : false));
          return m.opsetImport.push(o), true;
        }
        case 7: {
          const g: GraphProto = { node: [], initializer: [], input: [], output: [] };
          fields(r, sub(r), (gno) => {
            switch (gno) {
              case 1: return g.node.push(readNode(r, sub(r))), true;
              case 2: return (g.name = r.string()), true;
              case 5: return g.initializer.push(readTensor(r, sub(r))), true;
              case 10: return (g.docString = r.string()), true;
              case 11: return g.input.push(readValueInfo(r, sub(r))), true;
              case 12: return g.output.push(readValueInfo(r, sub(r))), true;
              default: return false;
            }
          });
          return (m.graph = g), true;
        }
        default: return false;
      }
    });
  } catch (e) {
    if (e instanceof OnnxFormatError) throw e;
    throw new OnnxFormatError(`not an ONNX model (the protobuf does not decode: ${(e as Error).message})`);
  }
  if (!m.graph) throw new OnnxFormatError('not an ONNX model: it has no graph');
  return m;
}
