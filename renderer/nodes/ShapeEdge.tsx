/**
 * Edges: the shape of the tensor they carry, and while training, the gradient flowing back
 * through them (colour and width on a log scale, vanishing/exploding flagged) with a small
 * histogram of the layer they feed. Each edge subscribes to its own numbers only.
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import { useRun } from '../train/context.tsx';
import { MiniHistogram } from '../train/MiniHistogram.tsx';
import { formatNumber, gradientColor, gradientFlag, gradientWidth } from '../train/scale.ts';
import { remainingText } from './view.ts';

export type ShapeFlowEdge = Edge<{ shape: string | null; problem: string | null; loss: boolean; /** P_m of the pruned layer this edge feeds. */ remaining?: number | null }, 'shape'>;

export const ShapeEdge = memo(function ShapeEdge(props: EdgeProps<ShapeFlowEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd, target } = props;
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const grad = useRun((s) => s.instrumentation?.edges[id]);
  const mode = useRun((s) => s.histogramMode);
  const layer = useRun((s) => s.instrumentation?.layers[target]);
  const hist = layer ? (mode === 'weights' ? layer.weights : mode === 'gradients' ? layer.gradients : layer.activations) : null;
  const flag = grad ? gradientFlag(grad.rms) : null;
  const cls = `gf-edge${data?.problem ? ' problem' : ''}${data?.loss ? ' loss' : ''}${selected ? ' selected' : ''}${flag ? ` ${flag}` : ''}`;
  const style = grad && !data?.problem ? { stroke: gradientColor(grad.rms), strokeWidth: gradientWidth(grad.rms) } : undefined;
  const title = [
    data?.problem ?? (data?.shape ? `shape ${data.shape}` : null),
    grad ? `gradient dL/da through this edge: mean |g| ${formatNumber(grad.meanAbs)}, RMS ${formatNumber(grad.rms)}${flag ? ` (${flag})` : ''}` : null,
    hist ? `${mode} of ${target}: ${formatNumber(hist.min)} … ${formatNumber(hist.max)}` : null,
    data?.remaining != null ? `pruned: ${remainingText(data.remaining)} of the connections into ${target} remain` : null,
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} markerEnd={markerEnd} interactionWidth={16} {...(style ? { style } : {})} />
      {data?.shape || data?.problem || grad || data?.remaining != null ? (
        <EdgeLabelRenderer>
          <div
            className={`gf-edge-label${data?.problem ? ' problem' : ''}${flag ? ` ${flag}` : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            title={title}
            data-edge-id={id}
            data-grad-rms={grad ? grad.rms : undefined}
            data-grad-mean={grad ? grad.meanAbs : undefined}
            aria-label={`edge ${id}: ${title.replace(/\n/g, '; ')}`}
          >
            <span className="shape-text">{data?.problem ? '!' : data?.shape}</span>
            {flag ? <span className={`flag ${flag}`}>{flag}</span> : null}
            {data?.remaining != null ? (
              <span className="remaining" data-remaining={data.remaining}>
                {remainingText(data.remaining)}
              </span>
            ) : null}
            {hist && hist.counts ? <MiniHistogram counts={hist.counts} label={`${mode} histogram of ${target}`} /> : null}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
});

export const edgeTypes = { shape: ShapeEdge };
