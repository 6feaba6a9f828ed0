/** Edges labelled with the shape of the tensor they carry; red when the edge has a problem. */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';

export type ShapeFlowEdge = Edge<{ shape: string | null; problem: string | null; loss: boolean }, 'shape'>;

export const ShapeEdge = memo(function ShapeEdge(props: EdgeProps<ShapeFlowEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd } = props;
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const cls = `gf-edge${data?.problem ? ' problem' : ''}${data?.loss ? ' loss' : ''}${selected ? ' selected' : ''}`;
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} markerEnd={markerEnd} interactionWidth={16} />
      {data?.shape || data?.problem ? (
        <EdgeLabelRenderer>
          <div
            className={`gf-edge-label${data.problem ? ' problem' : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            title={data.problem ?? undefined}
            data-edge-id={id}
            aria-label={`edge ${id}: ${data.problem ?? data.shape}`}
          >
            {data.problem ? '!' : data.shape}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
});

export const edgeTypes = { shape: ShapeEdge };
