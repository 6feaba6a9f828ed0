/**
 * The geometry of the landscape plots, kept apart from the canvas code so it is tested
 * without a browser: filling the points not computed yet (coarse-to-fine pictures), the
 * value scale (linear or log), contour lines by marching squares, and the rotation and
 * projection of the 3-D surface.
 */

/** A complete grid: each missing value (null) takes the nearest computed one, so a partial picture reads at once. */
export function fillGrid(values: readonly (number | null)[], nx: number, ny: number): number[] | null {
  const known: number[] = [];
  values.forEach((v, i) => {
    if (v !== null && Number.isFinite(v)) known.push(i);
  });
  if (!known.length) return null;
  return values.map((v, i) => {
    if (v !== null && Number.isFinite(v)) return v;
    const x = i % nx;
    const y = Math.floor(i / nx);
    let best = known[0]!;
    let bestD = Infinity;
    for (const k of known) {
      const d = (k % nx - x) ** 2 + (Math.floor(k / nx) - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return values[best]!;
  }).slice(0, nx * ny);
}

/** A value mapped to [0, 1] between min and max, through log10 when `log` (losses span decades near a minimum). */
export function scaler(min: number, max: number, log: boolean): (v: number) => number {
  const f = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  const lo = f(min);
  const hi = f(max);
  const span = hi - lo || 1;
  return (v) => Math.min(1, Math.max(0, (f(v) - lo) / span));
}

/** `count` contour levels between min and max, evenly spaced (on the log scale when `log`), excluding the ends. */
export function contourLevels(min: number, max: number, count: number, log: boolean): number[] {
  const f = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  const inv = (v: number) => (log ? 10 ** v : v);
  const lo = f(min);
  const hi = f(max);
  return Array.from({ length: count }, (_, i) => inv(lo + ((i + 1) * (hi - lo)) / (count + 1)));
}

export interface Segment {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Contour segments of a row-major nx × ny grid at `level`, by marching squares, in grid
 * coordinates (x from 0 to nx − 1, y from 0 to ny − 1). Saddle cells take both pairs of
 * crossings by the cell's mean, as the usual disambiguation does.
 */
export function contourSegments(grid: readonly number[], nx: number, ny: number, level: number): Segment[] {
  const out: Segment[] = [];
  const at = (x: number, y: number) => grid[y * nx + x]!;
  const lerp = (a: number, b: number) => (a === b ? 0.5 : (level - a) / (b - a));
  for (let y = 0; y < ny - 1; y++) {
    for (let x = 0; x < nx - 1; x++) {
      const v0 = at(x, y); // corners: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left (y grows downward in grid terms)
      const v1 = at(x + 1, y);
      const v2 = at(x + 1, y + 1);
      const v3 = at(x, y + 1);
      const code = (v0 > level ? 8 : 0) | (v1 > level ? 4 : 0) | (v2 > level ? 2 : 0) | (v3 > level ? 1 : 0);
      if (code === 0 || code === 15) continue;
      const top = { x: x + lerp(v0, v1), y };
      const right = { x: x + 1, y: y + lerp(v1, v2) };
      const bottom = { x: x + lerp(v3, v2), y: y + 1 };
      const left = { x, y: y + lerp(v0, v3) };
      const seg = (a: { x: number; y: number }, b: { x: number; y: number }) => out.push({ x1: a.x, y1: a.y, x2: b.x, y2: b.y });
      const centreHigh = (v0 + v1 + v2 + v3) / 4 > level;
      switch (code) {
        case 1:
        case 14:
          seg(left, bottom);
          break;
        case 2:
        case 13:
          seg(bottom, right);
          break;
        case 3:
        case 12:
          seg(left, right);
          break;
        case 4:
        case 11:
          seg(top, right);
          break;
        case 6:
        case 9:
          seg(top, bottom);
          break;
        case 7:
        case 8:
          seg(left, top);
          break;
        case 5:
          if (centreHigh) {
            seg(left, top);
            seg(bottom, right);
          } else {
            seg(left, bottom);
            seg(top, right);
          }
          break;
        case 10:
          if (centreHigh) {
            seg(left, bottom);
            seg(top, right);
          } else {
            seg(left, top);
            seg(bottom, right);
          }
          break;
      }
    }
  }
  return out;
}

/** A point of the 3-D view after rotation: screen x, y (y up) and depth (larger is nearer). */
export interface Projected {
  x: number;
  y: number;
  depth: number;
}

/**
 * Rotate (x, y, z) about the vertical axis by `yaw`, then tilt by `pitch` (radians), and
 * project orthographically: the viewer looks along −depth. x, y span the grid's plane and z
 * is the height (the loss), all already scaled to about [−1, 1].
 */
export function project(x: number, y: number, z: number, yaw: number, pitch: number): Projected {
  const cx = Math.cos(yaw);
  const sx = Math.sin(yaw);
  const xr = x * cx - y * sx;
  const yr = x * sx + y * cx;
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  return { x: xr, y: z * cp + yr * sp, depth: -yr * cp + z * sp };
}

/** A perceptually ordered colour map (viridis, sampled), for t in [0, 1]. */
export function viridis(t: number): string {
  const stops = [
    [68, 1, 84],
    [72, 40, 120],
    [62, 74, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [109, 205, 89],
    [180, 222, 44],
    [253, 231, 37],
  ];
  const u = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const c = stops[i]!.map((a, k) => Math.round(a + f * (stops[i + 1]![k]! - a)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
