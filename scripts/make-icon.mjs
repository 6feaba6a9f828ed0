#!/usr/bin/env node
// Draw the app icon (electron/resources/icon.png, 512×512): a small network, three layers of
// nodes wired together, on a blue rounded square. Drawn in code so that it needs no image
// tools and stays small; electron-builder derives the Windows .ico and macOS .icns from it.
// Run again after changing it: node scripts/make-icon.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SS = 3; // samples per axis, for smooth edges

const layers = [
  [{ x: 136, y: 176 }, { x: 136, y: 336 }],
  [{ x: 256, y: 126 }, { x: 256, y: 256 }, { x: 256, y: 386 }],
  [{ x: 376, y: 256 }],
];
const edges = [];
for (let l = 0; l + 1 < layers.length; l++) for (const a of layers[l]) for (const b of layers[l + 1]) edges.push([a, b]);
const nodes = layers.flat();

function segDist(px, py, a, b) {
  const dx = b.x - a.x, dy = b.y - a.y;
  const t = Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
}

function insideRoundedSquare(x, y, inset, r) {
  const lo = inset, hi = SIZE - inset;
  if (x < lo || x > hi || y < lo || y > hi) return false;
  const cx = Math.min(Math.max(x, lo + r), hi - r), cy = Math.min(Math.max(y, lo + r), hi - r);
  return Math.hypot(x - cx, y - cy) <= r;
}

/** RGBA (0..1) of one sample point. */
function sample(x, y) {
  if (!insideRoundedSquare(x, y, 16, 96)) return [0, 0, 0, 0];
  const t = y / SIZE;
  let c = [0.31 + (0.17 - 0.31) * t, 0.5 + (0.33 - 0.5) * t, 0.94 + (0.75 - 0.94) * t];
  const over = (col, a) => (c = c.map((v, i) => v * (1 - a) + col[i] * a));
  if (edges.some(([a, b]) => segDist(x, y, a, b) <= 7)) over([1, 1, 1], 0.55);
  for (const n of nodes) {
    const d = Math.hypot(x - n.x, y - n.y);
    if (d <= 36) over([1, 1, 1], 1);
    if (d <= 20) over([0.98, 0.62, 0.2], 1);
  }
  return [...c, 1];
}

const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) {
  raw[y * (SIZE * 4 + 1)] = 0; // PNG filter: none
  for (let x = 0; x < SIZE; x++) {
    const acc = [0, 0, 0, 0];
    for (let sy = 0; sy < SS; sy++)
      for (let sx = 0; sx < SS; sx++) {
        const s = sample(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS);
        for (let i = 0; i < 3; i++) acc[i] += s[i] * s[3];
        acc[3] += s[3];
      }
    const o = y * (SIZE * 4 + 1) + 1 + x * 4;
    const a = acc[3] / (SS * SS);
    for (let i = 0; i < 3; i++) raw[o + i] = acc[3] > 0 ? Math.round((acc[i] / acc[3]) * 255) : 0;
    raw[o + 3] = Math.round(a * 255);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'electron', 'resources', 'icon.png');
writeFileSync(out, png);
console.log(`Wrote ${out} (${png.length} bytes)`);
