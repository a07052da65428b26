/**
 * The page shell every carepipe report shares: one self-contained HTML document (inline CSS and
 * SVG, no script, no external asset or link), escaping of every piece of input text, tables and
 * number formatting. report.html (model evaluation) and profile.html (dataset profile) use it.
 */

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Three decimals; a dash for null or NaN (undefined metric). */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '\u2014';
  if (!Number.isFinite(value)) return value > 0 ? '\u221e' : '-\u221e';
  return value.toFixed(digits);
}

/** "lower to upper", or a dash when either end is undefined. */
export function formatInterval(lower: number | undefined, upper: number | undefined, digits = 3): string {
  if (lower === undefined || upper === undefined || !Number.isFinite(lower) || !Number.isFinite(upper)) return '\u2014';
  return `${formatNumber(lower, digits)} to ${formatNumber(upper, digits)}`;
}

/** Cells must already be escaped (numbers are; callers escape text). */
export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** Heading and facts (label: value pairs) at the top of a page. */
export function header(title: string, facts: ReadonlyArray<{ label: string; value: string }> = []): string {
  const parts = [`<header><h1>${escapeHtml(title)}</h1>`];
  if (facts.length > 0) {
    parts.push('<dl class="facts">');
    for (const f of facts) parts.push(`<div><dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd></div>`);
    parts.push('</dl>');
  }
  parts.push('</header>');
  return parts.join('\n');
}

/** A grid of figures, one per rendered SVG. */
export function figures(svgs: readonly string[], className = 'plots'): string {
  return `<section class="${className}">${svgs.map((s) => `<figure>${s}</figure>`).join('\n')}</section>`;
}

export function page(title: string, body: readonly string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:2rem auto;max-width:1200px;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #d9e2ec;padding-bottom:.25rem}h3{font-size:1rem;margin:1.25rem 0 .4rem}
.facts{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0;font-size:.9rem}.facts div{display:flex;gap:.4rem}.facts dt{color:#627d98}.facts dd{margin:0;font-weight:600}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1rem;margin-top:1.5rem}
figure{margin:0;border:1px solid #d9e2ec;border-radius:6px;padding:.5rem;background:#fff;overflow-x:auto}
svg.chart{max-width:100%;height:auto;display:block;margin:0 auto}
.note{color:#627d98;font-size:.85rem;margin:.5rem 0}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}th,td{padding:.3rem .75rem;text-align:right;border-bottom:1px solid #eef2f6}
th{background:#f5f7fa;color:#334e68;font-weight:600}th:first-child,td:first-child{text-align:left}
`;
