/**
 * Canvas nodes, one memoised component per family of kinds. All share NodeCard: title,
 * key parameters, typed ports with shapes, parameter count, and problem badges.
 */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useRun } from '../train/context.tsx';
import { ConvMaps } from '../train/ConvMaps.tsx';
import { UnitMaps } from '../train/UnitMaps.tsx';
import { remainingText, type NodeView, type PortView } from './view.ts';

export type GraphFlowNode = Node<{ view: NodeView }, string>;

const PORT_GAP = 18;
const PORT_TOP = 38;

function PortHandle({ port, index, side, nodeId }: { port: PortView; index: number; side: 'in' | 'out'; nodeId: string }) {
  const isIn = side === 'in';
  return (
    <>
      <Handle
        type={isIn ? 'target' : 'source'}
        position={isIn ? Position.Left : Position.Right}
        id={port.name}
        className={`port port-${port.type}${port.issue ? ' port-problem' : ''}`}
        style={{ top: PORT_TOP + index * PORT_GAP }}
        aria-label={`${isIn ? 'input' : 'output'} ${port.name} of ${nodeId}`}
        title={port.issue ?? `${port.name} (${port.type === 'loss' ? 'loss' : 'tensor'}${port.multiple ? ', takes several' : ''})${port.shape ? ` ${port.shape}` : ''}`}
        data-port={port.name}
      />
      <span className={`port-label port-label-${side}`} style={{ top: PORT_TOP + index * PORT_GAP - 8 }}>
        {port.name}
        {port.shape && !isIn ? <span className="port-shape">{port.shape}</span> : null}
      </span>
    </>
  );
}

function NodeCard({ id, view, selected, accent, detail }: { id: string; view: NodeView; selected: boolean; accent: string; detail?: string }) {
  const ports = Math.max(view.inputs.length, view.outputs.length);
  const problem = view.errors[0] ?? view.warnings[0];
  const fault = useRun((s) => (s.fault?.nodeId === id ? s.fault.message : null));
  return (
    <div
      className={`gf-node family-${accent}${fault ? ' fault' : ''}${selected ? ' selected' : ''}${view.errors.length ? ' has-error' : view.warnings.length ? ' has-warning' : ''}${view.known ? '' : ' unknown'}`}
      style={{ minHeight: PORT_TOP + ports * PORT_GAP + 10 }}
      role="group"
      aria-label={`${view.title} ${view.label ?? id}`}
      data-node-id={id}
      data-kind={view.kind}
    >
      <div className="gf-node-head">
        <span className="gf-node-title">{view.label ?? view.title}</span>
        <span className="gf-node-id">{view.label ? view.title : id}</span>
        {view.errors.length ? (
          <span className="badge badge-error" role="img" aria-label={`${view.errors.length} error${view.errors.length === 1 ? '' : 's'}`} title={view.errors.join('\n')}>
            {view.errors.length}
          </span>
        ) : view.warnings.length ? (
          <span className="badge badge-warning" role="img" aria-label={`${view.warnings.length} warning${view.warnings.length === 1 ? '' : 's'}`} title={view.warnings.join('\n')}>
            {view.warnings.length}
          </span>
        ) : null}
      </div>
      <div className="gf-node-body" style={{ marginTop: ports * PORT_GAP + 2 }}>
        {view.summary.map((s) => (
          <div key={s} className="gf-node-param">
            {s}
          </div>
        ))}
        {detail ? <div className="gf-node-detail">{detail}</div> : null}
        {view.params ? <div className="gf-node-count">{view.params.toLocaleString('en-US')} parameters</div> : null}
        {view.remaining !== null ? (
          <div className="gf-node-sparsity" data-remaining={view.remaining} title="Fraction of this layer's connection weights its pruning mask keeps (P_m)">
            <span className="sparsity-bar" aria-hidden="true">
              <span style={{ width: `${100 * view.remaining}%` }} />
            </span>
            {remainingText(view.remaining)} of weights remain
          </div>
        ) : null}
        {problem ? <div className="gf-node-problem">{problem}</div> : null}
        {fault ? <div className="gf-node-problem" role="alert">{fault}</div> : null}
        <UnitMaps nodeId={id} />
        <ConvMaps nodeId={id} />
      </div>
      {view.inputs.map((p, i) => (
        <PortHandle key={`in-${p.name}`} port={p} index={i} side="in" nodeId={id} />
      ))}
      {view.outputs.map((p, i) => (
        <PortHandle key={`out-${p.name}`} port={p} index={i} side="out" nodeId={id} />
      ))}
    </div>
  );
}

const family = (accent: string, detail?: (v: NodeView) => string | undefined) =>
  memo(function FamilyNode({ id, data, selected }: NodeProps<GraphFlowNode>) {
    return <NodeCard id={id} view={data.view} selected={!!selected} accent={accent} detail={detail?.(data.view)} />;
  });

export const DataNode = family('data');
export const LayerNode = family('layer');
export const ActivationNode = family('activation');
export const RegularizationNode = family('regularization');
export const NormalizationNode = family('normalization');
export const LossNode = family('loss', () => 'minimized by the optimizer');
export const OptimizerNode = family('optimizer');
export const UnknownNode = family('unknown', () => 'blocks training until replaced or removed');

export const nodeTypes = {
  Data: DataNode,
  Layers: LayerNode,
  Activations: ActivationNode,
  Regularization: RegularizationNode,
  Normalization: NormalizationNode,
  Losses: LossNode,
  Optimizers: OptimizerNode,
  Unknown: UnknownNode,
};
