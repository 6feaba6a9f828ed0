/** Small helpers shared by the node kinds' shape rules. */
import type { InferContext, LocalIssue, Shape } from '../types.ts';

export const fmt = (s: Shape | null): string => (s ? `[${s.join(', ')}]` : '[?]');
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
