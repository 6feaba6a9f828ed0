/** Each hidden unit's own output over the input plane, drawn on its node (as TensorFlow Playground does). */
import { memo, useEffect, useRef } from 'react';
import { useRun } from './context.tsx';

const CELL = 30;

export const UnitMaps = memo(function UnitMaps({ nodeId }: { nodeId: string }) {
  const maps = useRun((s) => s.views?.boundary?.units[nodeId]);
  const res = useRun((s) => s.views?.boundary?.plane.res ?? 0);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || !maps || !res) return;
    const perRow = 6;
    const rows = Math.ceil(maps.units / perRow);
    c.width = perRow * (CELL + 2);
    c.height = rows * (CELL + 2);
    const img = ctx.createImageData(res, res);
    const scratch = document.createElement('canvas');
    scratch.width = res;
    scratch.height = res;
    const sctx = scratch.getContext('2d')!;
    // Diverging colours around 0 (orange negative, blue positive), scaled per layer.
    const span = Math.max(Math.abs(maps.min), Math.abs(maps.max)) || 1;
    for (let u = 0; u < maps.units; u++) {
      for (let i = 0; i < res * res; i++) {
        const v = maps.values[u * res * res + i]! / span;
        const a = Math.min(1, Math.abs(v));
        const [r, g, b] = v >= 0 ? [59, 111, 224] : [224, 110, 59];
        img.data.set([255 - (255 - r) * a, 255 - (255 - g) * a, 255 - (255 - b) * a, 255], i * 4);
      }
      sctx.putImageData(img, 0, 0);
      ctx.drawImage(scratch, (u % perRow) * (CELL + 2), Math.floor(u / perRow) * (CELL + 2), CELL, CELL);
    }
  }, [maps, res]);
  if (!maps) return null;
  return <canvas ref={ref} className="unit-maps nodrag" role="img" aria-label={`Output of each unit of ${nodeId} over the input plane`} />;
});
