import type { CompactionSummary } from '../schemas/workflows.js';

/** One line of what a compaction did, for `lake compact`, `ingest` and `features`. */
export function compactionLine(c: CompactionSummary | null): string {
  if (!c) return 'compaction: not run (--no-compact)';
  if (!c.plan) return 'compaction: the curated generations already held every ingested day';
  return (
    `compaction: ${c.dirtyDays} day(s), ${c.files} file(s): ${c.fragmentsFolded} fragments folded into ${c.generationsWritten} generation(s) ` +
    `(${c.generationsUnchanged} unchanged, ${c.filesReused} files carried over), ${c.fragmentsDeleted} fragments and ${c.generationsDeleted} old generations deleted`
  );
}
