import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZE, MIN_SIZE, parseWindowState, placeWindow } from '../../electron/window-state.ts';

describe('window size and position', () => {
  const primary = { x: 0, y: 0, width: 1920, height: 1050 };
  const right = { x: 1920, y: 0, width: 2560, height: 1400 };

  it('opens centred at the default size the first time', () => {
    expect(placeWindow(null, [primary])).toEqual({
      bounds: { x: (1920 - DEFAULT_SIZE.width) / 2, y: (1050 - DEFAULT_SIZE.height) / 2, ...DEFAULT_SIZE },
      maximized: false,
      fullScreen: false,
    });
  });

  it('restores saved bounds on a screen that still exists', () => {
    const saved = parseWindowState({ bounds: { x: 2000, y: 100, width: 1200, height: 800 }, maximized: true, fullScreen: false })!;
    expect(placeWindow(saved, [primary, right])).toEqual({ bounds: { x: 2000, y: 100, width: 1200, height: 800 }, maximized: true, fullScreen: false });
  });

  it('brings a window from an unplugged screen back onto the primary one, keeping its size', () => {
    const saved = parseWindowState({ bounds: { x: 2000, y: 100, width: 1200, height: 800 }, maximized: false })!;
    const p = placeWindow(saved, [primary]);
    expect(p.bounds).toEqual({ x: 360, y: 125, width: 1200, height: 800 });
  });

  it('shrinks a window larger than its screen and keeps its title bar reachable', () => {
    const saved = parseWindowState({ bounds: { x: -50, y: -20, width: 4000, height: 3000 }, maximized: false })!;
    const p = placeWindow(saved, [primary]);
    expect(p.bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1050 });
  });

  it('never goes below the minimum size unless the screen is smaller', () => {
    const saved = parseWindowState({ bounds: { x: 10, y: 10, width: 100, height: 100 } })!;
    expect(placeWindow(saved, [primary]).bounds).toMatchObject({ width: MIN_SIZE.width, height: MIN_SIZE.height });
  });

  it.each([null, {}, { bounds: { x: 'a', y: 0, width: 1, height: 1 } }, { bounds: { x: 0, y: 0, width: -5, height: 10 } }, { bounds: { x: NaN, y: 0, width: 10, height: 10 } }])(
    'ignores damaged saved state %j',
    (raw) => {
      expect(parseWindowState(raw)).toBeNull();
    },
  );
});
