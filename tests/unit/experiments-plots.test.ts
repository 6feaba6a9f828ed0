/**
 * The geometry behind the landscape plots: partial (coarse-to-fine) grids fill from their
 * nearest computed point, contour lines cross cell edges where the level lies, the log scale
 * spaces decades evenly, and the 3-D rotation keeps lengths.
 */
import { describe, expect, it } from 'vitest';
import { contourLevels, contourSegments, fillGrid, project, scaler } from '../../renderer/experiments/plot-math.ts';

describe('plot geometry', () => {
  it('fills points not computed yet from the nearest computed one, and gives null when there is none', () => {
    expect(fillGrid([1, null, null, null, null, null, null, null, 9], 3, 3)).toEqual([1, 1, 1, 1, 1, 9, 1, 9, 9]);
    expect(fillGrid([null, null], 2, 1)).toBeNull();
  });

  it('contours of a cone are closed rings at the level, crossing edges by linear interpolation', () => {
    const n = 21;
    const grid = Array.from({ length: n * n }, (_, k) => Math.hypot((k % n) - 10, Math.floor(k / n) - 10));
    const segs = contourSegments(grid, n, n, 5);
    expect(segs.length).toBeGreaterThan(20);
    for (const s of segs) {
      // Every end lies on a grid line, and (to the grid's resolution) on the circle of radius 5.
      expect(Number.isInteger(s.x1) || Number.isInteger(s.y1)).toBe(true);
      expect(Math.abs(Math.hypot(s.x1 - 10, s.y1 - 10) - 5)).toBeLessThan(0.1);
    }
    // A level outside the values draws nothing.
    expect(contourSegments(grid, n, n, 100)).toEqual([]);
  });

  it('the log scale spaces decades evenly; levels lie strictly between the ends', () => {
    const s = scaler(0.01, 10, true);
    expect(s(0.01)).toBe(0);
    expect(s(10)).toBe(1);
    expect(s(0.1)).toBeCloseTo(1 / 3, 10);
    const levels = contourLevels(0.01, 10, 2, true);
    expect(levels[0]).toBeCloseTo(0.1, 10);
    expect(levels[1]).toBeCloseTo(1, 10);
    expect(contourLevels(0, 3, 2, false)).toEqual([1, 2]);
  });

  it('rotation keeps distances from the centre (an orthographic view)', () => {
    for (const [yaw, pitch] of [[0, 0], [0.7, 0.4], [-2, 1.2]] as const) {
      const p = project(0.3, -0.8, 0.5, yaw, pitch);
      expect(Math.hypot(p.x, p.y, p.depth)).toBeCloseTo(Math.hypot(0.3, -0.8, 0.5), 10);
    }
    // Seen from above (pitch = π/2), the height goes into depth and the grid lies flat on screen.
    const top = project(1, 0, 0.5, 0, Math.PI / 2);
    expect(top.x).toBeCloseTo(1, 10);
    expect(top.depth).toBeCloseTo(0.5, 10);
  });
});
