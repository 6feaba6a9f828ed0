/** Small helpers shared by the node kinds' shape rules. */
import type { InferContext, LocalIssue, OnnxAttribute, OnnxContext, Shape } from '../types.ts';

/** A shape inside a message: "[28, 28]", or "[?]" when unknown. */
export const fmt = (s: Shape | null): string => (s ? `[${s.join(', ')}]` : '[?]');
/** A shape for people reading a graph (canvas, inspector, `gradflow check`): "[28, 28]", "scalar" for [], "?" when unknown. */
export const describeShape = (s: Shape | null): string => (s === null ? '?' : s.length === 0 ? 'scalar' : fmt(s));
export const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/**
 * The single shape wired into a port, or null. Missing inputs are reported by validation
 * (it knows about wiring); here we only say null so the output is unknown too.
 */
export function single(ctx: InferContext<unknown>, port: string): Shape | null {
  const shapes = ctx.inputs[port]?.shapes ?? [];
  return shapes.length === 1 ? (shapes[0] ?? null) : null;
}

export function error(code: string, message: string, extra: Partial<LocalIssue> = {}): LocalIssue {
  return { severity: 'error', code, message, ...extra };
}

export function warning(code: string, message: string, extra: Partial<LocalIssue> = {}): LocalIssue {
  return { severity: 'warning', code, message, ...extra };
}

/** An ONNX exporter for a one-input, one-output kind that is a single standard op. */
export function onnxUnary(opType: string, attributes?: (params: never) => Record<string, OnnxAttribute>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (ctx: OnnxContext<any>): Record<string, string> => ({ out: ctx.op(opType, [ctx.inputs.in![0]!], attributes?.(ctx.params as never)) });
}

/** A JSON-like value as a Python literal (True/False, None, tuples for arrays). */
export function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} as a Python number`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `(${v.map(py).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (v === null || v === undefined) return 'None';
  throw new Error(`cannot write ${typeof v} as Python`);
}

/** A PyTorch exporter for a kind that is one built-in torch module. */
export function torchBuiltin(module: string | ((params: never) => string)) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (ctx: { params: any }) => ({ module: typeof module === 'string' ? module : module(ctx.params as never) });
}

/** Layers that compute h·W need a flat [features] input; say how to fix anything else. */
export function needsFlat(ctx: InferContext<unknown>, title: string, port = 'in'): { width: number | null; issues: LocalIssue[] } {
  const s = single(ctx, port);
  if (!s) return { width: null, issues: [] };
  if (s.length !== 1) {
    return {
      width: null,
      issues: [
        error('shape/needs-flat', `${title} ${ctx.name} needs a flat input but gets ${fmt(s)}: add a Flatten before it`, { port }),
      ],
    };
  }
  return { width: s[0] ?? null, issues: [] };
}
