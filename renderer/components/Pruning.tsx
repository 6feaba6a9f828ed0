/**
 * What pruning saves (parameters, FLOPs, bytes dense vs sparse) for a node or the graph, and
 * the mask view of a pruned layer: for a layer fed by a square image (MNIST's 784 = 28 × 28
 * inputs), each unit's mask as a small image, white where a connection survives.
 */
import { useEffect, useMemo, useRef } from 'react';
import type { GraphDocument } from '../../core/graph/document.ts';
import { formatBytes, formatCount, type SavingsFigures } from '../../core/graph/savings.ts';
import { readStoredMask } from '../../core/io/masks.ts';
import { remainingText } from '../nodes/view.ts';

export function SavingsTable({ figures, fractionKept, label }: { figures: SavingsFigures; fractionKept: number; label: string }) {
  const rows: [string, string, string][] = [
    ['Parameters', figures.params.toLocaleString('en-US'), figures.paramsKept.toLocaleString('en-US')],
    ['FLOPs / example', formatCount(figures.flops), formatCount(figures.flopsKept)],
    ['Storage', formatBytes(figures.bytesDense), formatBytes(figures.bytesSparse)],
  ];
  return (
    <table className="savings" aria-label={label}>
      <caption>What pruning saves: {remainingText(fractionKept)} of the prunable weights remain</caption>
      <thead>
        <tr>
          <th />
          <th>dense</th>
          <th>pruned</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([what, dense, pruned]) => (
          <tr key={what}>
            <td>{what}</td>
            <td>{dense}</td>
            <td data-testid={`savings-${what.split(' ')[0]!.toLowerCase()}`}>{pruned}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const MAX_UNITS = 100;

/** Each unit's mask over its inputs; as images when the inputs form a square (28 × 28 for MNIST). */
export function MaskView({ doc, nodeId }: { doc: GraphDocument; nodeId: string }) {
  const stored = doc.masks?.[nodeId];
  const name = stored ? Object.keys(stored)[0] : undefined;
  const mask = useMemo(() => {
    if (!stored || !name) return null;
    const r = readStoredMask(stored[name]!);
    return r.ok && r.mask.shape.length === 2 ? r.mask : null;
  }, [stored, name]);
  const ref = useRef<HTMLCanvasElement>(null);
  const [fanIn, units] = mask ? [mask.shape[0]!, mask.shape[1]!] : [0, 0];
  const side = Math.round(Math.sqrt(fanIn));
  const square = side * side === fanIn && side >= 4;
  const shown = Math.min(units, MAX_UNITS);
  const cols = Math.ceil(Math.sqrt(shown));
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !mask || !square) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const cell = side + 1;
    const img = ctx.createImageData(cols * cell, Math.ceil(shown / cols) * cell);
    for (let u = 0; u < shown; u++) {
      const ox = (u % cols) * cell;
      const oy = Math.floor(u / cols) * cell;
      for (let i = 0; i < fanIn; i++) {
        // The kernel is [inputs, units], row-major: input i of unit u is entry i · units + u.
        const on = mask.bits[i * units + u]!;
        const p = ((oy + Math.floor(i / side)) * cols * cell + ox + (i % side)) * 4;
        img.data[p] = img.data[p + 1] = img.data[p + 2] = on ? 255 : 24;
        img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [mask, square, side, cols, shown, fanIn, units]);
  if (!mask || !square) return null;
  const cell = side + 1;
  return (
    <figure className="mask-view" data-testid="mask-view">
      <canvas ref={ref} role="img" width={cols * cell} height={Math.ceil(shown / cols) * cell} style={{ width: cols * cell * 2 }} aria-label={`pruning masks of ${shown} units of ${nodeId}, ${side} × ${side} each`} />
      <figcaption>
        Each unit's mask over its {side} × {side} inputs (white: kept){units > shown ? `, first ${shown} of ${units} units` : ''}
      </figcaption>
    </figure>
  );
}
