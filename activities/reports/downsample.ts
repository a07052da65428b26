/** Thinning of long curves (ROC, precision-recall) before they become chart data. */

/**
 * Keeps at most maxPoints points of a curve, spaced along its path: a point is kept when the
 * path since the last kept point is at least length / (maxPoints - 2), and the last point is
 * always kept. Spacing by path length (not by index) keeps the corners of a step-shaped ROC
 * curve where the curve moves, and thins the long runs where thousands of thresholds sit close
 * together. Points with a NaN coordinate are dropped.
 */
export function downsampleCurve(xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints = 200): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const m = Math.min(xs.length, ys.length);
  let length = 0;
  let px = NaN;
  let py = NaN;
  for (let i = 0; i < m; i++) {
    const cx = xs[i]!;
    const cy = ys[i]!;
    if (Number.isNaN(cx) || Number.isNaN(cy)) continue;
    if (!Number.isNaN(px)) length += Math.hypot(cx - px, cy - py);
    px = cx;
    py = cy;
  }
  const spacing = length / Math.max(1, maxPoints - 2);
  let sinceKept = 0;
  let lastI = -1;
  px = NaN;
  py = NaN;
  for (let i = 0; i < m; i++) {
    const cx = xs[i]!;
    const cy = ys[i]!;
    if (Number.isNaN(cx) || Number.isNaN(cy)) continue;
    if (Number.isNaN(px)) {
      x.push(cx);
      y.push(cy);
    } else {
      sinceKept += Math.hypot(cx - px, cy - py);
      if (sinceKept >= spacing && sinceKept > 0) {
        x.push(cx);
        y.push(cy);
        sinceKept = 0;
      }
    }
    px = cx;
    py = cy;
    lastI = i;
  }
  if (sinceKept > 0) {
    x.push(xs[lastI]!);
    y.push(ys[lastI]!);
  }
  return { x, y };
}
