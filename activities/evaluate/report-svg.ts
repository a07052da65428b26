/**
 * Inline SVG charts for report.html: unit-square line plots (ROC, PR, calibration) and a
 * horizontal bar chart (feature importance). Plain strings, no DOM, no external assets; the
 * SVG carries no xmlns because inline SVG in HTML does not need one, which keeps the report
 * free of any http(s) reference. Styling comes from classes defined in report-html.ts.
 */

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

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

export interface UnitLine {
  x: readonly number[];
  y: readonly number[];
  className: string;
  markers?: boolean;
}
export interface UnitBar {
  lower: number;
  upper: number;
  height: number;
}

export interface UnitPlot {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: readonly UnitLine[];
  /** Dashed reference line y = x (chance for ROC, perfect calibration). */
  diagonal?: boolean;
  /** Dashed horizontal reference line (the prevalence baseline of a PR curve). */
  baseline?: number;
  /** Bars along the bottom, heights in [0, 1] of a fifth of the plot (bin counts). */
  bars?: readonly UnitBar[];
}

const W = 380;
const H = 360;
const LEFT = 52;
const TOP = 30;
const PW = 312;
const PH = 280;
const sx = (v: number): string => (LEFT + v * PW).toFixed(1);
const sy = (v: number): string => (TOP + (1 - v) * PH).toFixed(1);

/** A chart over [0, 1] x [0, 1] with grid, ticks at 0.2 and axis titles. */
export function unitSquarePlot(plot: UnitPlot): string {
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(plot.title)}">`);
  parts.push(`<text class="chart-title" x="${W / 2}" y="18" text-anchor="middle">${escapeHtml(plot.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = k / 5;
    parts.push(`<line class="grid" x1="${sx(v)}" y1="${sy(0)}" x2="${sx(v)}" y2="${sy(1)}"/>`);
    parts.push(`<line class="grid" x1="${sx(0)}" y1="${sy(v)}" x2="${sx(1)}" y2="${sy(v)}"/>`);
    parts.push(`<text class="tick" x="${sx(v)}" y="${(TOP + PH + 16).toFixed(1)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text class="tick" x="${LEFT - 6}" y="${sy(v)}" text-anchor="end" dominant-baseline="middle">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect class="frame" x="${LEFT}" y="${TOP}" width="${PW}" height="${PH}"/>`);
  for (const bar of plot.bars ?? []) {
    const h = Math.max(0, Math.min(1, bar.height)) * 0.2;
    if (h === 0) continue;
    parts.push(
      `<rect class="bar-count" x="${sx(bar.lower)}" y="${sy(h)}" width="${((bar.upper - bar.lower) * PW).toFixed(1)}" height="${(h * PH).toFixed(1)}"/>`,
    );
  }
  if (plot.diagonal) parts.push(`<line class="reference" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(1)}"/>`);
  if (plot.baseline !== undefined && Number.isFinite(plot.baseline)) {
    parts.push(`<line class="reference" x1="${sx(0)}" y1="${sy(plot.baseline)}" x2="${sx(1)}" y2="${sy(plot.baseline)}"/>`);
  }
  for (const line of plot.lines) {
    const coords = line.x.map((xv, i) => `${sx(xv)},${sy(line.y[i]!)}`);
    if (coords.length > 0) parts.push(`<polyline class="${escapeHtml(line.className)}" points="${coords.join(' ')}"/>`);
    if (line.markers)
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        parts.push(`<circle class="${escapeHtml(line.className)}-marker" cx="${cx}" cy="${cy}" r="3.5"/>`);
      }
  }
  parts.push(`<text class="axis-title" x="${(LEFT + PW / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle">${escapeHtml(plot.xLabel)}</text>`);
  parts.push(
    `<text class="axis-title" transform="translate(14 ${(TOP + PH / 2).toFixed(1)}) rotate(-90)" text-anchor="middle">${escapeHtml(plot.yLabel)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Horizontal bars from a zero axis; negative values extend left (signed coefficients). */
export function barChart(title: string, items: ReadonlyArray<{ label: string; value: number }>): string {
  const rowH = 20;
  const labelW = 220;
  const valueW = 70;
  const width = 720;
  const barsW = width - labelW - valueW - 16;
  const height = 34 + items.length * rowH + 8;
  const finite = items.map((it) => (Number.isFinite(it.value) ? it.value : 0));
  const maxPos = Math.max(0, ...finite);
  const maxNeg = Math.max(0, ...finite.map((v) => -v));
  const span = maxPos + maxNeg || 1;
  const zero = labelW + (maxNeg / span) * barsW;
  const parts = [`<svg class="chart wide" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`];
  parts.push(`<text class="chart-title" x="${width / 2}" y="18" text-anchor="middle">${escapeHtml(title)}</text>`);
  items.forEach((item, i) => {
    const v = finite[i]!;
    const y = 30 + i * rowH;
    const w = (Math.abs(v) / span) * barsW;
    const x = v >= 0 ? zero : zero - w;
    parts.push(`<text class="bar-label" x="${labelW - 8}" y="${y + rowH / 2}" text-anchor="end" dominant-baseline="middle">${escapeHtml(item.label)}</text>`);
    parts.push(`<rect class="${v >= 0 ? 'bar-pos' : 'bar-neg'}" x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}"/>`);
    parts.push(
      `<text class="tick" x="${width - 8}" y="${y + rowH / 2}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatNumber(item.value))}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${zero.toFixed(1)}" y1="28" x2="${zero.toFixed(1)}" y2="${height - 6}"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Three decimals; a dash for null or NaN (undefined metric). */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '\u2014';
  if (!Number.isFinite(value)) return value > 0 ? '\u221e' : '-\u221e';
  return value.toFixed(digits);
}
