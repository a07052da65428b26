/**
 * Vega-Lite specs for the reports' charts, built from plain arrays. Each function returns a
 * spec only; rendering is vega-svg.ts's. Data values are inlined in the spec (no URL), so the
 * rendered SVG depends on nothing outside it.
 */
import type { ChartSpec } from './vega-svg.js';

const SQUARE = { width: 300, height: 280 } as const;
const unit = (title: string) => ({ title, type: 'quantitative' as const, scale: { domain: [0, 1] }, axis: { tickCount: 5 } });
const dashed = { strokeDash: [5, 4], color: '#9fb3c8', strokeWidth: 1.2 };

export interface XY {
  x: number;
  y: number;
}

/** A curve on the unit square with an optional dashed diagonal (y = x) or horizontal baseline. */
export function unitCurveChart(opts: {
  title: string;
  xTitle: string;
  yTitle: string;
  points: readonly XY[];
  diagonal?: boolean;
  baseline?: number;
}): ChartSpec {
  const layers: object[] = [];
  if (opts.diagonal)
    layers.push({
      data: {
        values: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      mark: { type: 'line', ...dashed },
      encoding: { x: { field: 'x', ...unit(opts.xTitle) }, y: { field: 'y', ...unit(opts.yTitle) } },
    });
  if (opts.baseline !== undefined && Number.isFinite(opts.baseline))
    layers.push({ data: { values: [{ y: opts.baseline }] }, mark: { type: 'rule', ...dashed }, encoding: { y: { field: 'y', ...unit(opts.yTitle) } } });
  layers.push({
    data: { values: opts.points.map((p, i) => ({ x: p.x, y: p.y, i })) },
    mark: { type: 'line', color: '#2563eb', strokeWidth: 2, interpolate: 'linear' },
    encoding: { x: { field: 'x', ...unit(opts.xTitle) }, y: { field: 'y', ...unit(opts.yTitle) }, order: { field: 'i', type: 'quantitative' } },
  });
  return { title: opts.title, ...SQUARE, layer: layers } as unknown as ChartSpec;
}

export interface CalibrationPoint {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number | null;
  fractionPositive: number | null;
}

/** Reliability diagram: observed against predicted per bin, the diagonal, and bin counts as grey bars along the bottom (scaled to a fifth of the height). */
export function calibrationChart(title: string, bins: readonly CalibrationPoint[]): ChartSpec {
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const filled = bins.filter((b) => b.count > 0 && b.meanPredicted !== null && b.fractionPositive !== null);
  return {
    title,
    ...SQUARE,
    layer: [
      {
        data: { values: bins.filter((b) => b.count > 0).map((b) => ({ lower: b.lower, upper: b.upper, h: (0.2 * b.count) / maxCount, h0: 0 })) },
        mark: { type: 'rect', color: '#d9e2ec' },
        encoding: {
          x: { field: 'lower', ...unit('Mean predicted risk') },
          x2: { field: 'upper' },
          y: { field: 'h0', ...unit('Observed fraction positive') },
          y2: { field: 'h' },
        },
      },
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', ...dashed },
        encoding: { x: { field: 'x', ...unit('Mean predicted risk') }, y: { field: 'y', ...unit('Observed fraction positive') } },
      },
      {
        data: { values: filled.map((b) => ({ x: b.meanPredicted, y: b.fractionPositive })) },
        mark: { type: 'line', color: '#2563eb', strokeWidth: 2, point: { filled: true, size: 40, color: '#2563eb' } },
        encoding: { x: { field: 'x', ...unit('Mean predicted risk') }, y: { field: 'y', ...unit('Observed fraction positive') } },
      },
    ],
  } as unknown as ChartSpec;
}

/** Several named lines over a shared quantitative x (decision curves, rates over time as numbers). */
export function multiLineChart(opts: {
  title: string;
  xTitle: string;
  yTitle: string;
  series: ReadonlyArray<{ name: string; points: readonly XY[]; dashed?: boolean }>;
  yDomain?: [number, number];
  xTemporal?: boolean;
  width?: number;
}): ChartSpec {
  const values = opts.series.flatMap((s, k) => s.points.filter((p) => Number.isFinite(p.y)).map((p) => ({ x: p.x, y: p.y, series: s.name, k })));
  const names = opts.series.map((s) => s.name);
  return {
    title: opts.title,
    width: opts.width ?? SQUARE.width,
    height: SQUARE.height,
    data: { values },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 'x', type: opts.xTemporal ? 'temporal' : 'quantitative', title: opts.xTitle },
      y: { field: 'y', type: 'quantitative', title: opts.yTitle, ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}) },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: { domain: names } },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: names,
        scale: { domain: names, range: opts.series.map((s) => (s.dashed ? [5, 4] : [1, 0])) },
      },
    },
  } as unknown as ChartSpec;
}

/** Horizontal bars, one per label in the given order; negative values extend left (signed coefficients). */
export function barChart(opts: { title: string; xTitle: string; bars: ReadonlyArray<{ label: string; value: number }>; width?: number }): ChartSpec {
  const labels = opts.bars.map((b) => b.label);
  return {
    title: opts.title,
    width: opts.width ?? 480,
    height: { step: 18 },
    data: { values: opts.bars.map((b) => ({ label: b.label, value: Number.isFinite(b.value) ? b.value : 0, sign: b.value >= 0 ? 'pos' : 'neg' })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 220 } },
      x: { field: 'value', type: 'quantitative', title: opts.xTitle },
      color: { field: 'sign', type: 'nominal', legend: null, scale: { domain: ['pos', 'neg'], range: ['#2563eb', '#dc6803'] } },
    },
  } as unknown as ChartSpec;
}

/** A histogram from precomputed bins (the data is summarised before it reaches a chart). */
export function histogramChart(opts: { title: string; xTitle: string; bins: ReadonlyArray<{ lower: number; upper: number; count: number }> }): ChartSpec {
  return {
    title: opts.title,
    width: 300,
    height: 160,
    data: { values: opts.bins.map((b) => ({ lower: b.lower, upper: b.upper, count: b.count })) },
    mark: { type: 'rect', color: '#2563eb', stroke: '#ffffff', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lower', type: 'quantitative', title: opts.xTitle, scale: { zero: false } },
      x2: { field: 'upper' },
      y: { field: 'count', type: 'quantitative', title: 'Rows' },
    },
  } as unknown as ChartSpec;
}
