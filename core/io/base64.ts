/**
 * Float32 tensors <-> base64 text for graph files, with the platform's btoa/atob (global in
 * browsers, workers and Node ≥ 16), so the same code runs everywhere without Node's Buffer.
 */

/** Canonical, padded base64: what the encoder writes. atob alone would also take whitespace and missing padding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// String.fromCharCode takes its arguments on the stack: convert in slices well below the
// engines' argument limits.
const SLICE = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += SLICE) binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  return btoa(binary);
}

/** Decode base64; returns null when the text is not valid (canonical, padded) base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Float32 values as little-endian base64 (the byte order every platform Gradflow runs on uses). */
export function encodeFloat32(values: Float32Array): string {
  const le = new Uint8Array(values.length * 4);
  const view = new DataView(le.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytesToBase64(le);
}

/** The float32 values of little-endian base64 text, or null when it is not base64 of whole float32s. */
export function decodeFloat32(text: string): Float32Array | null {
  const bytes = base64ToBytes(text);
  if (!bytes || bytes.length % 4 !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
