/**
 * NumPy's .npz files (a zip of .npy arrays), written and read without NumPy: float32 and
 * int32 arrays for the PyTorch project's weights.npz and data.npz, and the weights that
 * `train.py --save` writes back (np.savez: stored entries; np.savez_compressed: deflate).
 */

/** One array: its dtype, shape and row-major values. */
export type NpyArray = { dtype: 'float32'; shape: number[]; data: Float32Array } | { dtype: 'int32'; shape: number[]; data: Int32Array };

/** Thrown for bytes that are not a readable .npz; the message says what and where. */
export class NpzError extends Error {}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The .npy (version 1.0) bytes of one array. */
export function encodeNpy(a: NpyArray): Uint8Array {
  const descr = a.dtype === 'float32' ? '<f4' : '<i4';
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The header (with magic, version and length) is padded to a multiple of 64 bytes, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, total);
  return out;
}

/** Parse one .npy; `where` names the entry in messages. */
export function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new NpzError(`${where} is not a .npy array`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpzError(`${where} has a damaged .npy header`);
  if (fortran === 'True') throw new NpzError(`${where} is stored in Fortran order; save it with numpy's default C order`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpzError(`${where} has a damaged shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  // A copy, aligned for the typed arrays (a Node Buffer's slice would be an unaligned view).
  const body = new Uint8Array(Math.max(0, bytes.length - start - headerLen));
  body.set(bytes.subarray(start + headerLen));
  const need = (size: number) => {
    if (body.length < n * size) throw new NpzError(`${where} is truncated: ${body.length} bytes for ${n} values`);
  };
  const le = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (descr) {
    case '<f4': {
      need(4);
      return { dtype: 'float32', shape, data: new Float32Array(body.buffer, body.byteOffset, n) };
    }
    case '<f8': {
      need(8);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = le.getFloat64(i * 8, true);
      return { dtype: 'float32', shape, data };
    }
    case '<i4': {
      need(4);
      return { dtype: 'int32', shape, data: new Int32Array(body.buffer, body.byteOffset, n) };
    }
    case '<i8': {
      need(8);
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(le.getBigInt64(i * 8, true));
      return { dtype: 'int32', shape, data };
    }
    default:
      throw new NpzError(`${where} holds ${descr} values; Gradflow reads float32, float64, int32 and int64 arrays`);
  }
}

/** A .npz (an uncompressed zip of .npy entries named KEY.npy), keys in the given order. */
export function encodeNpz(arrays: Record<string, NpyArray>): Uint8Array {
  return encodeZip(Object.entries(arrays).map(([key, a]) => ({ path: `${key}.npy`, bytes: encodeNpy(a) })));
}

/** An uncompressed zip of the given files (the PyTorch project as one download in the web build). */
export function encodeZip(files: { path: string; bytes: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.path);
    const data = f.bytes;
    const crc = crc32(data);
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true);
    lv.setUint16(12, 0x21, true); // 1980-01-01, so the same arrays give the same bytes
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function inflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Read the files of a zip (stored or deflated, zip64 included), by path; `keep` chooses the
 * entries to read. `kind` names the format in messages ('.npz', '.zip').
 */
export async function decodeZip(bytes: Uint8Array, file: string, keep: (path: string) => boolean = () => true, kind = '.zip'): Promise<Record<string, Uint8Array>> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new NpzError(`${file} is not a ${kind === '.zip' ? '.zip' : `${kind} (zip)`} file`);
  let count = dv.getUint16(eocd + 10, true);
  let at = dv.getUint32(eocd + 16, true);
  if (at === 0xffffffff || count === 0xffff) {
    // Zip64 (numpy writes it for large arrays): read the zip64 end of central directory.
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw new NpzError(`${file} is a damaged zip64 file`);
    const rec = Number(dv.getBigUint64(loc + 8, true));
    count = Number(dv.getBigUint64(rec + 32, true));
    at = Number(dv.getBigUint64(rec + 48, true));
  }
  const out: Record<string, Uint8Array> = {};
  const dec = new TextDecoder();
  for (let e = 0; e < count; e++) {
    if (at + 46 > bytes.length || dv.getUint32(at, true) !== 0x02014b50) throw new NpzError(`${file} has a damaged zip directory`);
    const method = dv.getUint16(at + 10, true);
    let compressed = dv.getUint32(at + 20, true);
    const nameLen = dv.getUint16(at + 28, true);
    const extraLen = dv.getUint16(at + 30, true);
    const commentLen = dv.getUint16(at + 32, true);
    let localAt = dv.getUint32(at + 42, true);
    const name = dec.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    // Zip64 extra field: sizes and offset that did not fit 32 bits, in this order.
    for (let x = at + 46 + nameLen; x < at + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(x, true);
      const size = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let p = x + 4;
        if (dv.getUint32(at + 24, true) === 0xffffffff) p += 8;
        if (compressed === 0xffffffff) {
          compressed = Number(dv.getBigUint64(p, true));
          p += 8;
        }
        if (localAt === 0xffffffff) localAt = Number(dv.getBigUint64(p, true));
      }
      x += 4 + size;
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (!keep(name)) continue;
    const key = name;
    const dataAt = localAt + 30 + dv.getUint16(localAt + 26, true) + dv.getUint16(localAt + 28, true);
    const raw = bytes.subarray(dataAt, dataAt + compressed);
    if (raw.length < compressed) throw new NpzError(`${file}: the entry '${key}' is truncated`);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) data = await inflateRaw(raw);
    else throw new NpzError(`${file}: the entry '${key}' uses zip method ${method}; Gradflow reads stored and deflated entries`);
    out[key] = data;
  }
  return out;
}

/** Read every array of a .npz, by key (the entry name without .npy). */
export async function decodeNpz(bytes: Uint8Array, file = 'the .npz file'): Promise<Record<string, NpyArray>> {
  const entries = await decodeZip(bytes, file, (name) => name.endsWith('.npy'), '.npz');
  return Object.fromEntries(Object.entries(entries).map(([name, data]) => [name.slice(0, -4), decodeNpy(data, `'${name.slice(0, -4)}' in ${file}`)]));
}
