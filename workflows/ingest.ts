import { continueAsNew, defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import { rawFileTag } from '../data-lake/layout.js';
import { resolveQualityLimits } from '../schemas/quality.js';
import type { IngestFileResult, IngestInput, IngestSummary, IngestTotals } from '../schemas/workflows.js';
import { bookkeeping, shardActivity } from './activity-proxies.js';
import { compactCurated } from './compact.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapBounded } from './fan-out.js';
import { checkBucketCount, checkDateRange, checkLake, invalid } from './validate.js';

export interface IngestProgress {
  filesDone: number;
  /** Raw files listed so far (this run's pages): the total once the last page is listed. */
  filesListed: number;
  /** The last page has been listed: filesListed is the total. */
  listingDone: boolean;
  rowsIn: number;
  quarantinedFiles: number;
}
export const ingestProgressQuery = defineQuery<IngestProgress>('progress');

/** Raw keys listed per page: bounds both the activity result size and the history per page. */
const PAGE_SIZE = 250;
/** Raw files a task curates: enough that a day's small files make one task, few enough that a retry redoes little. */
const FILES_PER_TASK = 16;

/** Consecutive keys of one table, at most `size` a batch (a page is in key order: raw/<table>/...). */
function batches(keys: readonly string[], size: number): string[][] {
  const out: string[][] = [];
  for (const key of keys) {
    const last = out[out.length - 1];
    const table = (k: string) => k.split('/')[1];
    if (last && last.length < size && table(last[0]!) === table(key)) last.push(key);
    else out.push([key]);
  }
  return out;
}

/** Quarantined keys carried in the summary; all of them are in the lake's quarantine zone. */
const MAX_LISTED_QUARANTINE = 200;

const ZERO: IngestTotals = { files: 0, skippedFiles: 0, quarantinedFiles: 0, rowsIn: 0, accepted: 0, corrected: 0, rejected: 0 };

/** Quarantined by this run, or by an earlier one and unchanged since (a skipped file keeps its reason type). */
function isQuarantined(r: IngestFileResult): boolean {
  return r.status === 'quarantined' || r.reasonType !== undefined;
}

function add(totals: IngestTotals, r: IngestFileResult): IngestTotals {
  return {
    files: totals.files + 1,
    skippedFiles: totals.skippedFiles + (r.status === 'skipped' ? 1 : 0),
    quarantinedFiles: totals.quarantinedFiles + (isQuarantined(r) ? 1 : 0),
    rowsIn: totals.rowsIn + r.rowsIn,
    accepted: totals.accepted + r.accepted,
    corrected: totals.corrected + r.corrected,
    rejected: totals.rejected + r.rejected,
  };
}

/**
 * Ingests every raw file in the date range: one activity per batch of files of one table (the
 * unit of retry; `filesPerTask`), a bounded window in flight, pages of keys listed as it goes. Continues as new between pages once the
 * history grows long, carrying the cursor and the running totals.
 */
export async function ingestWorkflow(input: IngestInput): Promise<IngestSummary> {
  checkLake(input.lake);
  checkDateRange(input.from, input.to);
  checkBucketCount(input.bucketCount);
  const maxInFlight = input.maxInFlight ?? 32;
  let totals = input.cursor?.totals ?? ZERO;
  const quarantined = [...(input.cursor?.quarantined ?? [])];
  let startAfter = input.cursor?.startAfter ?? '';
  const runs = (input.cursor?.runs ?? 0) + 1;
  const pageSize = input.pageSize ?? PAGE_SIZE;
  const filesPerTask = input.filesPerTask ?? FILES_PER_TASK;
  if (!(Number.isInteger(filesPerTask) && filesPerTask >= 1 && filesPerTask <= 256))
    invalid(`filesPerTask must be a whole number from 1 to 256, got ${filesPerTask}`);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 5_000)) invalid(`pageSize must be a whole number from 1 to 5000, got ${pageSize}`);
  const { limits, error } = resolveQualityLimits(input.quality);
  if (error) invalid(error);
  let filesListed = input.cursor?.totals.files ?? 0;
  let listingDone = false;
  setHandler(ingestProgressQuery, () => ({
    filesDone: totals.files,
    filesListed,
    listingDone,
    rowsIn: totals.rowsIn,
    quarantinedFiles: totals.quarantinedFiles,
  }));

  for (;;) {
    const page = await bookkeeping().listRawFiles({
      lake: input.lake,
      from: input.from,
      to: input.to,
      tables: input.tables,
      startAfter,
      limit: pageSize,
      bucketCount: input.bucketCount,
    });
    filesListed += page.keys.length + (page.skipped?.length ?? 0);
    listingDone = page.nextStartAfter === undefined;
    // Unchanged since their day manifest: counted, and no task started for them.
    for (const result of page.skipped ?? []) {
      totals = add(totals, result);
      if (isQuarantined(result) && quarantined.length < MAX_LISTED_QUARANTINE) quarantined.push(result.key);
    }
    await mapBounded(batches(page.keys, filesPerTask), maxInFlight, async (keys) => {
      const results = await shardActivity(`ingest/${rawFileTag(keys[0]!)}/${keys.length}`).ingestFiles({
        lake: input.lake,
        keys,
        bucketCount: input.bucketCount,
      });
      for (const result of results) {
        totals = add(totals, result);
        if (isQuarantined(result) && quarantined.length < MAX_LISTED_QUARANTINE) quarantined.push(result.key);
      }
    });
    if (page.nextStartAfter === undefined) break;
    startAfter = page.nextStartAfter;
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      await continueAsNew<typeof ingestWorkflow>({ ...input, cursor: { startAfter, totals, quarantined, runs } });
    }
  }
  const manifests = await bookkeeping().writeIngestManifests({ lake: input.lake, from: input.from, to: input.to, tables: input.tables });
  const compaction = input.compact === false ? null : await compactCurated({ lake: input.lake, bucketCount: input.bucketCount });
  const quality = await shardActivity('ingest/quality').checkIngestQuality({ lake: input.lake, manifests, limits });
  return { ...totals, runs, quarantined, manifests, compaction, quality };
}
