/**
 * The one way carepipe draws: a chart is a Vega-Lite spec, compiled with vega-lite and rendered
 * by vega's headless View to an SVG string at build time. Reports embed the SVG inline, so they
 * need no network and no JavaScript to view. The namespace attributes vega writes are removed:
 * inline SVG in HTML does not need them, and a report then holds no http(s) string at all.
 * Rendering is a pure function of the spec (no clock, no random), so a report's bytes repeat.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** House style: the palette and fonts of the reports' CSS. */
export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  background: '#ffffff',
  padding: 6,
  title: { fontSize: 13, fontWeight: 600, color: '#102a43', anchor: 'middle' },
  axis: {
    labelColor: '#334e68',
    titleColor: '#334e68',
    labelFontSize: 11,
    titleFontSize: 12,
    gridColor: '#eef2f6',
    domainColor: '#9fb3c8',
    tickColor: '#9fb3c8',
  },
  legend: { labelColor: '#334e68', titleColor: '#334e68', labelFontSize: 11, orient: 'bottom' },
  view: { stroke: '#9fb3c8' },
  range: { category: ['#2563eb', '#dc6803', '#627d98', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#a16207'] },
} as const;

/**
 * Renders one Vega-Lite spec to an inline <svg> element labelled with its title for screen
 * readers. vega numbers clip paths with a process-wide counter; they are renamed to
 * `<idPrefix>clip<k>` (k counting from 1 in this SVG), so a report's bytes do not depend on what
 * was rendered before it and the SVGs of one page (which share one id space) must be given
 * distinct prefixes.
 */
export async function renderSvg(spec: ChartSpec, label: string, idPrefix = 'chart-'): Promise<string> {
  const compiled = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const aria = escapeAttribute(label);
    const ids = new Map<string, string>();
    const local = (id: string): string => ids.get(id) ?? (ids.set(id, `${idPrefix}clip${ids.size + 1}`), ids.get(id)!);
    return svg
      .replace(/ xmlns(:xlink)?="[^"]*"/g, '')
      .replace(/id="(clip\d+)"/g, (_, id: string) => `id="${local(id)}"`)
      .replace(/url\(#(clip\d+)\)/g, (_, id: string) => `url(#${local(id)})`)
      .replace(/^<svg /, `<svg role="img" aria-label="${aria}" `)
      .replace(/ class="marks"/, ' class="chart marks"');
  } finally {
    view.finalize();
  }
}

/** Renders several specs in order (one at a time: vega views are CPU-bound, nothing to overlap); the i-th gets ids `<idPrefix><i>-`. */
export async function renderSvgs(charts: ReadonlyArray<{ spec: ChartSpec; label: string }>, idPrefix = 'chart-'): Promise<string[]> {
  const out: string[] = [];
  for (const [i, c] of charts.entries()) out.push(await renderSvg(c.spec, c.label, `${idPrefix}${i}-`));
  return out;
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
