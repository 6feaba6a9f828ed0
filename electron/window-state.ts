/**
 * The window's size and position, saved when it closes and restored at the next launch, but
 * only onto a screen that still exists: a window saved on an unplugged monitor comes back
 * centred on the primary one instead of off-screen where nobody can reach it.
 */

/** A rectangle in screen coordinates (Electron's Rectangle). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What is saved of the window between launches. */
export interface WindowState {
  /** The normal (not maximized) bounds, so un-maximizing after a restart goes back to them. */
  bounds: Rect;
  maximized: boolean;
  fullScreen: boolean;
}

export const DEFAULT_SIZE = { width: 1400, height: 900 } as const;
export const MIN_SIZE = { width: 720, height: 480 } as const;
/** How much of the title bar must be on a screen for saved bounds to count as reachable. */
const MIN_VISIBLE = { width: 120, height: 40 } as const;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Read saved state; anything malformed is null (the default placement is used). */
export function parseWindowState(raw: unknown): WindowState | null {
  const r = raw as { bounds?: Partial<Rect>; maximized?: unknown; fullScreen?: unknown } | null;
  const b = r?.bounds;
  if (!b || !finite(b.x) || !finite(b.y) || !finite(b.width) || !finite(b.height)) return null;
  if (b.width < 1 || b.height < 1 || b.width > 100_000 || b.height > 100_000) return null;
  return {
    bounds: { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) },
    maximized: r?.maximized === true,
    fullScreen: r?.fullScreen === true,
  };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/**
 * Where to open the window, given the saved state and the screens' work areas (primary
 * first). Saved bounds are kept when their title bar is on some screen, shrunk to fit it;
 * otherwise the window is centred on the primary screen with the saved (or default) size.
 */
export function placeWindow(saved: WindowState | null, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0] ?? { x: 0, y: 0, ...DEFAULT_SIZE };
  const want = saved?.bounds ?? { x: 0, y: 0, ...DEFAULT_SIZE };
  const titleBar = { x: want.x, y: want.y, width: want.width, height: Math.min(want.height, 40) };
  const home = saved
    ? workAreas.find((area) => {
        const o = overlap(titleBar, area);
        return o.width >= Math.min(MIN_VISIBLE.width, want.width) && o.height >= Math.min(MIN_VISIBLE.height, titleBar.height);
      })
    : undefined;
  const area = home ?? primary;
  const width = Math.max(Math.min(want.width, area.width), Math.min(MIN_SIZE.width, area.width));
  const height = Math.max(Math.min(want.height, area.height), Math.min(MIN_SIZE.height, area.height));
  const bounds = home
    ? {
        x: Math.min(Math.max(want.x, area.x), area.x + area.width - width),
        y: Math.min(Math.max(want.y, area.y), area.y + area.height - height),
        width,
        height,
      }
    : { x: Math.round(area.x + (area.width - width) / 2), y: Math.round(area.y + (area.height - height) / 2), width, height };
  return { bounds, maximized: saved?.maximized ?? false, fullScreen: saved?.fullScreen ?? false };
}
