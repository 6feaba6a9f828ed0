/**
 * A Conv2D node's filters as small images (the kh × kw weights of input channel 0, blue
 * positive, orange negative) and, on demand, its feature maps for one validation example,
 * redrawn whenever the worker sends views (about once a second while training).
 */
import { memo, useEffect, useRef, useState } from 'react';
import type { ConvLayerView } from '../../core/train/views.ts';
import { useRun, useTraining } from './context.tsx';

const FILTER_CELL = 18;
const MAP_CELL = 36;
const PER_ROW = 8;

/** Draw `count` images of h × w values (image-major, row-major) in a grid on `c`, scaled by ±span or 0..span. */
function drawGrid(c: HTMLCanvasElement, values: Float32Array, count: number, h: number, w: number, span: number, cell: number, diverging: boolean): void {
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const perRow = Math.min(PER_ROW, count);
  c.width = perRow * (cell + 2);
  c.height = Math.ceil(count / perRow) * (cell + 2);
  const scratch = document.createElement('canvas');
  scratch.width = w;
  scratch.height = h;
  const sctx = scratch.getContext('2d')!;
  const img = sctx.createImageData(w, h);
  const s = span || 1;
  ctx.imageSmoothingEnabled = false;
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < h * w; i++) {
      const v = values[k * h * w + i]! / s;
      if (diverging) {
        const a = Math.min(1, Math.abs(v));
        const [r, g, b] = v >= 0 ? [59, 111, 224] : [224, 110, 59];
        img.data.set([255 - (255 - r) * a, 255 - (255 - g) * a, 255 - (255 - b) * a, 255], i * 4);
      } else {
        const g = 255 - Math.round(255 * Math.min(1, Math.max(0, v)));
        img.data.set([g, g, g, 255], i * 4);
      }
    }
    sctx.putImageData(img, 0, 0);
    ctx.drawImage(scratch, (k % perRow) * (cell + 2), Math.floor(k / perRow) * (cell + 2), cell, cell);
  }
}

function Grid(props: { values: Float32Array; count: number; h: number; w: number; span: number; cell: number; diverging: boolean; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { values, count, h, w, span, cell, diverging } = props;
  useEffect(() => {
    if (ref.current) drawGrid(ref.current, values, count, h, w, span, cell, diverging);
  }, [values, count, h, w, span, cell, diverging]);
  return <canvas ref={ref} className="conv-grid" role="img" aria-label={props.label} />;
}

export const ConvMaps = memo(function ConvMaps({ nodeId }: { nodeId: string }) {
  const layer: ConvLayerView | undefined = useRun((s) => s.views?.conv?.layers[nodeId]);
  const example = useRun((s) => s.views?.conv?.example ?? 0);
  const input = useRun((s) => s.views?.conv?.input ?? null);
  const client = useTraining();
  const [showMaps, setShowMaps] = useState(false);
  if (!layer) return null;
  const shown = layer.maps.length / (layer.oh * layer.ow);
  return (
    <div className="conv-maps nodrag" data-testid={`conv-maps-${nodeId}`}>
      <div className="conv-caption">
        {layer.filters} filters {layer.kh}×{layer.kw}
        {layer.channels > 1 ? ` (input channel 1 of ${layer.channels})` : ''}
      </div>
      <Grid values={layer.kernel} count={layer.filters} h={layer.kh} w={layer.kw} span={layer.kernelSpan} cell={FILTER_CELL} diverging label={`Filters of ${nodeId}`} />
      <button type="button" className="conv-toggle" aria-pressed={showMaps} onClick={() => setShowMaps(!showMaps)}>
        {showMaps ? 'Hide feature maps' : 'Feature maps'}
      </button>
      {showMaps ? (
        <>
          <label className="conv-caption">
            Example{' '}
            <input
              type="number"
              min={0}
              step={1}
              value={example}
              aria-label="Validation example shown"
              onChange={(e) => {
                const v = Number(e.target.value);
                if (Number.isInteger(v) && v >= 0) client.setViewExample(v);
              }}
            />
          </label>
          {input ? <Grid values={input} count={1} h={28} w={28} span={1} cell={MAP_CELL} diverging={false} label={`Validation example ${example}`} /> : null}
          <Grid values={layer.maps} count={shown} h={layer.oh} w={layer.ow} span={layer.mapSpan} cell={MAP_CELL} diverging label={`Feature maps of ${nodeId} for validation example ${example}`} />
          {shown < layer.filters ? <div className="conv-caption">first {shown} of {layer.filters} maps</div> : null}
        </>
      ) : null}
    </div>
  );
});
