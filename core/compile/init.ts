/**
 * Initial weights, drawn on the host from the run's seeded generator so that the same file
 * and seed start from the same weights on every backend. Variances as in the course:
 * Xavier/Glorot Var(W) = 1/(fan_in + fan_out), He Var(W) = 2/fan_in; uniform variants use
 * the same variance (a uniform on [−a, a] has variance a²/3).
 */
import type { Rng } from '../data/rng.ts';
import type { InitSpec } from '../graph/types.ts';

/** The standard deviation an initializer aims for (0 for constants). */
export function initStd(spec: InitSpec): number {
  const fanIn = Math.max(1, spec.fanIn ?? 1);
  const fanOut = Math.max(1, spec.fanOut ?? 1);
  switch (spec.name) {
    case 'normal':
      return spec.value ?? 0.01;
    case 'glorotNormal':
    case 'glorotUniform':
      return Math.sqrt(1 / (fanIn + fanOut));
    case 'heNormal':
    case 'heUniform':
      return Math.sqrt(2 / fanIn);
    default:
      return 0;
  }
}

export function initialValues(spec: InitSpec, size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  const std = initStd(spec);
  switch (spec.name) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(spec.value ?? 0);
      break;
    case 'normal':
    case 'glorotNormal':
    case 'heNormal':
      for (let i = 0; i < size; i++) out[i] = std * rng.normal();
      break;
    case 'glorotUniform':
    case 'heUniform': {
      const a = Math.sqrt(3) * std;
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-a, a);
      break;
    }
  }
  return out;
}
