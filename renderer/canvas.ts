/** Canvas set-up shared by the small plots (experiment plots, histograms on edges). */

/**
 * Size a canvas's backing store for the screen's pixel density, so lines stay sharp on
 * high-DPI screens, and return its 2-D context cleared and scaled to draw in CSS pixels
 * (width × height); null when there is no canvas or no 2-D context. Setting the size resets
 * the context, so every draw starts from the same state.
 */
export function prepareCanvas(canvas: HTMLCanvasElement | null, width: number, height: number): CanvasRenderingContext2D | null {
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx) return null;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}
