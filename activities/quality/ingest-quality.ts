/**
 * The ingest half of the data-quality gate: the day manifests an ingest run wrote, per table and
 * day, against the limits. Reads manifests only (counts and reason codes, never rows), so it is
 * cheap at any lake size; it reports, and the retrain workflow decides whether a breach stops it.
 */
import type { DayManifest } from '../ingest/day-manifests.js';
import { mapBounded } from '../../core/map-bounded.js';
import type { IngestQualityReport, QualityBreach, QualityLimits, TableQuality } from '../../schemas/quality.js';
import { type ActivityDeps, pauseActivity, readJson } from '../context.js';

export interface CheckIngestQualityInput {
  lake: string;
  /** Day manifest keys (`manifests/ingest/<table>/ingest_date=D.json`), as ingest returns them. */
  manifests: string[];
  limits: QualityLimits;
}

const byCount = (reasons: Record<string, number>): [string, number][] => Object.entries(reasons).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));

export function judgeIngest(days: readonly DayManifest[], limits: QualityLimits): IngestQualityReport {
  const breaches: QualityBreach[] = [];
  const tables = new Map<string, TableQuality & { reasonCounts: Record<string, number> }>();
  for (const day of [...days].sort((a, b) => (a.table + a.ingestDate < b.table + b.ingestDate ? -1 : 1))) {
    let t = tables.get(day.table);
    if (!t) {
      t = { table: day.table, days: 0, files: 0, quarantinedFiles: 0, rowsIn: 0, rejected: 0, corrected: 0, reasons: [], reasonCounts: {} };
      tables.set(day.table, t);
    }
    t.days++;
    t.files += day.files.length;
    t.quarantinedFiles += day.quarantined.length;
    t.rowsIn += day.rowsIn;
    t.rejected += day.rejected;
    t.corrected += day.corrected;
    for (const [code, n] of Object.entries(day.rejectReasons)) t.reasonCounts[code] = (t.reasonCounts[code] ?? 0) + n;
    if (day.rowsIn >= limits.minRowsForDayRate && day.rejected / day.rowsIn > limits.maxRejectRate) {
      breaches.push({
        stage: 'ingest',
        check: 'day_reject_rate',
        subject: day.table,
        date: day.ingestDate,
        value: day.rejected / day.rowsIn,
        limit: limits.maxRejectRate,
        limitName: 'maxRejectRate',
        reasons: byCount(day.rejectReasons),
      });
    }
  }
  const summaries: TableQuality[] = [];
  for (const { reasonCounts, ...t } of tables.values()) {
    const summary = { ...t, reasons: byCount(reasonCounts) };
    summaries.push(summary);
    if (t.rowsIn > 0 && t.rejected / t.rowsIn > limits.maxRejectRate) {
      breaches.push({
        stage: 'ingest',
        check: 'reject_rate',
        subject: t.table,
        value: t.rejected / t.rowsIn,
        limit: limits.maxRejectRate,
        limitName: 'maxRejectRate',
        reasons: summary.reasons,
      });
    }
    if (t.files > 0 && t.quarantinedFiles / t.files > limits.maxQuarantineRate) {
      breaches.push({
        stage: 'ingest',
        check: 'quarantine_rate',
        subject: t.table,
        value: t.quarantinedFiles / t.files,
        limit: limits.maxQuarantineRate,
        limitName: 'maxQuarantineRate',
      });
    }
  }
  // The whole-table breaches first: they say the most; per-day ones then locate them.
  breaches.sort((a, b) => Number(a.check === 'day_reject_rate') - Number(b.check === 'day_reject_rate'));
  return { stage: 'ingest', passed: breaches.length === 0, limits, tables: summaries, breaches };
}

export async function checkIngestQuality(deps: ActivityDeps, input: CheckIngestQualityInput): Promise<IngestQualityReport> {
  const store = deps.lake(input.lake);
  let read = 0;
  const days = await mapBounded(input.manifests, 16, async (key) => {
    const day = await readJson<DayManifest>(store, key);
    if (++read % 200 === 0) await pauseActivity({ step: 'read day manifests', read });
    return day;
  });
  return judgeIngest(
    days.filter((d): d is DayManifest => d !== undefined),
    input.limits,
  );
}
