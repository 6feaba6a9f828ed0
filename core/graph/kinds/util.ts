/** Small helpers shared by the node kinds' shape rules. */
import type { InferContext, KerasContext, KerasLayerView, KerasReader, KerasValue, LocalIssue, OnnxAttribute, OnnxConstant, OnnxContext, OnnxNodeView, OnnxRead, OnnxReader, Shape } from '../types.ts';

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

/**
 * Both directions for a kind that is one standard ONNX op on one input: the exporter
 * ({@link onnxUnary}) and the reader of that op, whose params come from its attributes.
 */
export function onnxOp<P>(opType: string, attributes?: (params: P) => Record<string, OnnxAttribute>, read?: (n: OnnxNodeView) => OnnxRead<P> | null) {
  return {
    onnx: onnxUnary(opType, attributes as ((params: never) => Record<string, OnnxAttribute>) | undefined),
    fromOnnx: { opTypes: [opType], read: read ?? (() => ({ params: {} })) } satisfies OnnxReader<P>,
  };
}

/** A float32 attribute as the decimal a person wrote (0.1, not 0.10000000149). */
export const decimal = (v: number): number => Number(v.toPrecision(7));

/** Refuse a node whose input Gradflow holds in another order than ONNX (it would compute on the wrong axes). */
export function inOnnxOrder(n: OnnxNodeView): void {
  if (n.layout(0)) n.fail(`${n.where} works on a channels-first tensor, whose axes Gradflow holds in another order (channels last)`);
}

/** Where each of Gradflow's h·w·c values of a flattened image sits in ONNX's c·h·w. */
export function chwOrder(h: number, w: number, c: number): Int32Array {
  const order = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) order[(y * w + x) * c + k] = (k * h + y) * w + x;
  return order;
}

/** A constant's values with its axes permuted (ONNX's Transpose of any rank). */
export function transposeConstant(c: OnnxConstant, perm: number[]): OnnxConstant {
  const dims = perm.map((p) => c.dims[p]!);
  const n = c.dims.length;
  const strides = c.dims.map((_, i) => c.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(c.values.length);
  const idx = new Array<number>(n).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < n; k++) src += idx[k]! * strides[perm[k]!]!;
    out[o] = Number(c.values[src]);
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k]! < dims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims, values: out };
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

/**
 * Whether a per-example shape is an image [h, w, c]. model.py holds images NCHW (channels at
 * dim 1, as PyTorch's convolutions take them), so kinds that act along Gradflow's last axis
 * act along dim 1 there, and reshapes put the channels back last first.
 */
export const torchImage = (s: readonly number[] | null | undefined): boolean => s?.length === 3;

/**
 * The `forward` of a model.py module whose body, `channels_last`, acts along the last axis:
 * an NCHW image (dim 4 in PyTorch) goes through it channels last and comes back NCHW.
 */
export const TORCH_CHANNELS_LAST = `def forward(self, x):
        if x.dim() == 4:  # an NCHW image: Gradflow's features are its channels
            return self.channels_last(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.channels_last(x)

    def channels_last(self, x):`;

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

/** A Keras exporter for a one-input, one-output kind that is a single Keras layer. */
export function kerasUnary(className: string, config?: (params: never, ctx: KerasContext<never>) => Record<string, KerasValue>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (ctx: KerasContext<any>): Record<string, string> => ({ out: ctx.layer(className, config?.(ctx.params as never, ctx as never) ?? {}, [ctx.inputs.in![0]!]) });
}

/**
 * Both directions for an activation Keras names by a string (Activation('relu')), plus the
 * dedicated layer classes that compute the same function (`also`: class and its check).
 */
export function kerasActivation(fn: string, also: Record<string, (l: KerasLayerView) => boolean> = {}) {
  return {
    keras: kerasUnary('Activation', () => ({ activation: fn })),
    fromKeras: {
      classNames: ['Activation', ...Object.keys(also)],
      read: (l: KerasLayerView) => ((l.className === 'Activation' ? l.config.activation === fn : also[l.className]!(l)) ? { params: {} } : null),
    } satisfies KerasReader<unknown>,
  };
}

/** A number in a Keras config, its default when absent; throws naming the key when it is not one. */
export function kerasNumber(l: KerasLayerView, key: string, def?: number): number {
  const v = l.config[key];
  if ((v === undefined || v === null) && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`its ${key} is ${JSON.stringify(v) ?? 'missing'}, not a number`);
  return v;
}

/** A Keras size or stride given as n or [a, b], as the pair [a, b]. */
export function kerasPair(l: KerasLayerView, key: string, def?: number): [number, number] {
  const v = l.config[key] ?? def;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return v as [number, number];
  throw new Error(`its ${key} is ${JSON.stringify(v) ?? 'missing'}, not a number or a pair of numbers`);
}

/** Whether a Keras axis (negative from the end, batch axis 0) is the last axis of a per-example shape. */
export function isLastAxis(axis: KerasValue | undefined, shape: Shape | undefined): boolean {
  if (axis === undefined || axis === -1) return true;
  if (Array.isArray(axis)) return axis.length === 1 && isLastAxis(axis[0], shape);
  return typeof axis === 'number' && !!shape && axis === shape.length;
}
