/**
 * The data-quality gate as a person reads it: top reject reasons per table, the feature dataset
 * against its baseline, and each breach with its limit. Counts and codes only, never a row.
 */
import { describeBreach, type FeatureQualityReport, type IngestQualityReport, type QualityLimits, QUALITY_LIMIT_NAMES } from '../schemas/quality.js';
import { ConfigError } from '../core/errors.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export function ingestQualityLines(report: IngestQualityReport, top = 5): string[] {
  return [
    `data quality (ingest): ${report.passed ? 'within limits' : `${report.breaches.length} breach(es)`}`,
    ...tableLines(report.tables, top),
    ...breachLines(report),
  ];
}

function tableLines(tables: IngestQualityReport['tables'], top = 5): string[] {
  return tables.map((t) => {
    const reasons = t.reasons
      .slice(0, top)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    return (
      `  ${t.table}: ${t.rowsIn} rows in ${t.days} day(s), ${t.rejected} rejected (${pct(t.rowsIn ? t.rejected / t.rowsIn : 0)})` +
      `${reasons ? `: ${reasons}` : ''}${t.quarantinedFiles ? `; ${t.quarantinedFiles} of ${t.files} files quarantined` : ''}`
    );
  });
}

export function featureQualityLines(report: FeatureQualityReport): string[] {
  const base = report.baseline
    ? `against ${report.baselineVersion}: ${report.baseline.indexStays} index stays, label rate ${pct(report.baseline.labelRate)}`
    : 'no earlier version to compare against';
  return [
    `data quality (features): ${report.passed ? 'within limits' : `${report.breaches.length} breach(es)`}; ${report.indexStays} index stays, ` +
      `${report.labelledStays} labelled, label rate ${pct(report.labelRate)}; ${base}`,
    '  the curated days it was built from:',
    ...tableLines(report.curated).map((l) => `  ${l}`),
    ...breachLines(report),
  ];
}

function breachLines(report: IngestQualityReport | FeatureQualityReport): string[] {
  return report.breaches.map((b) => `  BREACH ${describeBreach(b)}`);
}

/** `--quality maxRejectRate=0.1` (repeatable) into limit overrides. */
export function parseQualityLimits(values: readonly string[]): Partial<QualityLimits> {
  const out: Partial<QualityLimits> = {};
  for (const v of values) {
    const m = /^([A-Za-z]+)=([0-9.eE+-]+)$/.exec(v);
    if (!m) throw new ConfigError(`--quality must be name=number (e.g. maxRejectRate=0.1), got "${v}"`);
    const name = m[1] as keyof QualityLimits;
    if (!QUALITY_LIMIT_NAMES.includes(name)) throw new ConfigError(`--quality: unknown limit "${m[1]}"; known: ${QUALITY_LIMIT_NAMES.join(', ')}`);
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`--quality ${name} must be a number of at least 0, got "${m[2]}"`);
    out[name] = value;
  }
  return out;
}
