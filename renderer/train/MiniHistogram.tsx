/** A histogram drawn on one small canvas (cheap: no DOM element per bar). */
import { memo, useEffect, useRef } from 'react';
import { prepareCanvas } from '../canvas.ts';

export const MiniHistogram = memo(function MiniHistogram({ counts, width = 64, height = 18, color = 'currentColor', label }: { counts: number[]; width?: number; height?: number; color?: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = prepareCanvas(c, width, height);
    if (!c || !ctx) return;
    const max = Math.max(1, ...counts);
    const w = width / Math.max(1, counts.length);
    ctx.fillStyle = color === 'currentColor' ? getComputedStyle(c).color : color;
    counts.forEach((n, i) => {
      const h = n > 0 ? Math.max(1, (n / max) * height) : 0;
      ctx.fillRect(i * w, height - h, Math.max(1, w - 0.5), h);
    });
  }, [counts, width, height, color]);
  return <canvas ref={ref} style={{ width, height }} role="img" aria-label={label} data-counts={counts.join(',')} />;
});
