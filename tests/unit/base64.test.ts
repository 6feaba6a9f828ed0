/** Weights in graph files: float32 <-> base64 with the platform's btoa/atob, checked against Node's Buffer. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/data/rng.ts';
import { base64ToBytes, bytesToBase64, decodeFloat32, encodeFloat32 } from '../../core/io/base64.ts';

describe('base64 for stored tensors', () => {
  it.each([0, 1, 2, 3, 4, 5, 0x8000 - 1, 0x8000, 0x8000 + 1, 3 * 0x8000 + 2])('%i bytes encode as Buffer does and decode back', (n) => {
    const rng = createRng(n + 1);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(rng.next() * 256);
    const text = bytesToBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(text)).toEqual(bytes);
  });

  it('float32 values round-trip bit for bit, little-endian', () => {
    const values = new Float32Array([0, -0, 1.5, -3.25e-7, Infinity, -Infinity, NaN, 3.4e38, 1e-45]);
    const text = encodeFloat32(values);
    expect(text).toBe(Buffer.from(new Uint8Array(values.buffer)).toString('base64')); // this machine is little-endian
    const back = decodeFloat32(text)!;
    expect(new Uint32Array(back.buffer)).toEqual(new Uint32Array(values.buffer));
  });

  it.each([
    ['a character outside the alphabet', 'not*base64'],
    ['missing padding', 'AAA'],
    ['whitespace', 'AAAA AAAA'],
    ['padding in the middle', 'AA==AAAA'],
    ['a URL-safe character', 'AA-_'],
  ])('refuses %s', (_what, text) => {
    expect(base64ToBytes(text)).toBeNull();
    expect(decodeFloat32(text)).toBeNull();
  });

  it('refuses bytes that are not whole float32s', () => {
    expect(decodeFloat32(bytesToBase64(new Uint8Array([1, 2, 3])))).toBeNull();
    expect(decodeFloat32('')).toEqual(new Float32Array(0));
  });
});
