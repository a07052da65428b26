/**
 * The data-quality gate's contract: the limits a run checks its data against, what a check
 * reports, and the sentence a breach fails with. In the spirit of TFX's ExampleValidator and Great
 * Expectations: ingest is checked per table and day (reject rate, quarantined files, rows), the
 * feature dataset against absolute bounds and against its previous version (index stays, label
 * rate, null rate per feature). Workflow-safe: types, constants and pure functions only.
 */

export interface QualityLimits {
  /** Largest share of a table's rows rejected, over the checked days and on any one day... */
  maxRejectRate: number;
  /** ...with at least this many rows (a rate over a handful of rows says nothing). */
  minRowsForDayRate: number;
  /** Largest share of a table's files quarantined over the checked days. */
  maxQuarantineRate: number;
  /** Fewest index stays with full follow-up (labelled) a dataset may train on. */
  minLabelledStays: number;
  minLabelRate: number;
  maxLabelRate: number;
  /** Largest drop in index stays against the previous version, as a share of its count. */
  maxIndexStayDrop: number;
  /** Largest change of the label rate against the previous version (absolute). */
  maxLabelRateChange: number;
  /** Largest change of any feature's null rate against the previous version (absolute). */
  maxNullRateChange: number;
}

export const DEFAULT_QUALITY_LIMITS: Readonly<QualityLimits> = {
  maxRejectRate: 0.05,
  minRowsForDayRate: 200,
  maxQuarantineRate: 0.02,
  minLabelledStays: 50,
  minLabelRate: 0.01,
  maxLabelRate: 0.6,
  maxIndexStayDrop: 0.2,
  maxLabelRateChange: 0.05,
  maxNullRateChange: 0.1,
};

export const QUALITY_LIMIT_NAMES = Object.keys(DEFAULT_QUALITY_LIMITS) as (keyof QualityLimits)[];

export type QualityCheck =
  'reject_rate' | 'day_reject_rate' | 'quarantine_rate' | 'labelled_stays' | 'label_rate' | 'index_stay_drop' | 'label_rate_change' | 'null_rate_change';

export interface QualityBreach {
  stage: 'ingest' | 'features';
  check: QualityCheck;
  /** The table (ingest) or feature (null rates) judged; absent for whole-dataset checks. */
  subject?: string;
  /** The ingest date, for a per-day check. */
  date?: string;
  value: number;
  limit: number;
  /** The limit's name in QualityLimits. */
  limitName: keyof QualityLimits;
  /** Reject reason codes and their counts, most frequent first (ingest checks). */
  reasons?: [string, number][];
}

export interface TableQuality {
  table: string;
  days: number;
  files: number;
  quarantinedFiles: number;
  rowsIn: number;
  rejected: number;
  corrected: number;
  /** Reject reason codes and their counts, most frequent first. */
  reasons: [string, number][];
}

export interface IngestQualityReport {
  stage: 'ingest';
  passed: boolean;
  limits: QualityLimits;
  tables: TableQuality[];
  breaches: QualityBreach[];
}

export interface FeatureQualityReport {
  stage: 'features';
  passed: boolean;
  limits: QualityLimits;
  version: string;
  /** The version compared against (the dataset's newest before this one), when there is one. */
  baselineVersion: string | null;
  indexStays: number;
  labelledStays: number;
  labelRate: number;
  baseline: { indexStays: number; labelRate: number } | null;
  /** The ingest accounting of every curated day the version was built from, per table (lake-wide reject and quarantine rates are judged too). */
  curated: TableQuality[];
  /** The features whose null rate moved most against the baseline (at most 5). */
  nullRateChanges: { feature: string; rate: number; baselineRate: number }[];
  breaches: QualityBreach[];
}

export type QualityReport = IngestQualityReport | FeatureQualityReport;

/** What a run records about the gate: the reports, and the reason a person gave to accept a breach. */
export interface QualityOutcome {
  ingest: IngestQualityReport | null;
  features: FeatureQualityReport | null;
  /** Set when a breach was accepted on purpose (`--accept-quality-breach`). */
  acceptedBreach?: string;
}

/** Limits with overrides applied; a name or value that makes no sense is an error sentence. */
export function resolveQualityLimits(overrides: Partial<QualityLimits> = {}): { limits: QualityLimits; error?: string } {
  const limits = { ...DEFAULT_QUALITY_LIMITS };
  for (const [name, value] of Object.entries(overrides)) {
    if (!(QUALITY_LIMIT_NAMES as string[]).includes(name)) {
      return { limits, error: `unknown quality limit "${name}"; known: ${QUALITY_LIMIT_NAMES.join(', ')}` };
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return { limits, error: `quality limit ${name} must be a number of at least 0, got ${String(value)}` };
    }
    limits[name as keyof QualityLimits] = value;
  }
  return { limits };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const isRate = (name: keyof QualityLimits) => name !== 'minRowsForDayRate' && name !== 'minLabelledStays';
const shown = (name: keyof QualityLimits, x: number) => (isRate(name) ? pct(x) : String(x));

/** One line per breach: what, where, the value, the limit by name, and the top reasons. No row, no PHI. */
export function describeBreach(b: QualityBreach): string {
  const where = [b.subject, b.date].filter(Boolean).join(' on ');
  const reasons = b.reasons?.length
    ? ` (${b.reasons
        .slice(0, 5)
        .map(([code, n]) => `${code}: ${n}`)
        .join(', ')})`
    : '';
  return `${b.stage} ${b.check.replace(/_/g, ' ')}${where ? ` of ${where}` : ''} is ${shown(b.limitName, b.value)}, limit ${b.limitName} = ${shown(b.limitName, b.limit)}${reasons}`;
}

export function describeBreaches(report: QualityReport): string {
  return report.breaches.map(describeBreach).join('; ');
}
