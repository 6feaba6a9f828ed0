/** The log scale on which gradient magnitudes are drawn on edges, and its thresholds. */

/** Below this RMS gradient an edge is flagged as vanishing. */
export const VANISHING = 1e-6;
/** Above this RMS gradient an edge is flagged as exploding. */
export const EXPLODING = 1e3;
const LOG_MIN = -8;
const LOG_MAX = 4;

/** Position of a magnitude on the scale, 0 (1e-8 or less) to 1 (1e4 or more). */
export function gradientLevel(rms: number): number {
  if (!(rms > 0)) return 0;
  return Math.min(1, Math.max(0, (Math.log10(rms) - LOG_MIN) / (LOG_MAX - LOG_MIN)));
}

/** Blue (vanishing) through green and yellow to red (exploding). */
export function gradientColor(rms: number): string {
  const hue = 240 - 240 * gradientLevel(rms);
  return `hsl(${hue.toFixed(0)}, 80%, 45%)`;
}

export function gradientWidth(rms: number): number {
  return 1 + 6 * gradientLevel(rms);
}

export function gradientFlag(rms: number): 'vanishing' | 'exploding' | null {
  if (!Number.isFinite(rms) || rms > EXPLODING) return 'exploding';
  if (rms < VANISHING) return 'vanishing';
  return null;
}

export const SCALE_TICKS = [-8, -6, -4, -2, 0, 2, 4].map((e) => ({ value: 10 ** e, label: `1e${e}` }));

/** A measured value (a loss, a gradient RMS) in three significant digits, or in exponent form when very large or small. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}
