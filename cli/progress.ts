/**
 * Progress of a long run, fed by its progress query: on a terminal, one bar per stage redrawn in
 * place (`features [#######.......] 12/32 shards  4,520 rows  3.1 shards/s  ~8 s left`); on a
 * pipe or file, one plain line per change, so logs and CI output stay readable; nothing with
 * --json (stdout then carries only the JSON document).
 */

/** What a run reports at one moment: units done of a total (when known) and rows so far. */
export interface ProgressSnapshot {
  /** The stage, e.g. `ingest`, `features`, `train`. */
  label: string;
  /** What `done` and `total` count: `files`, `shards`, `dates`, ... */
  unit: string;
  done: number;
  /** Absent while unknown (e.g. an ingest still listing its files). */
  total?: number;
  rows?: number;
}

export interface ProgressView {
  update(s: ProgressSnapshot): void;
  /** A line of its own (the bar is redrawn under it). */
  log(line: string): void;
  /** Ends the current bar's line. */
  finish(): void;
}

export type ProgressMode = 'bar' | 'lines' | 'quiet';

/** Bars on a terminal, lines elsewhere, nothing for --json. */
export function progressMode(json: boolean | undefined, stream: { isTTY?: boolean } = process.stdout): ProgressMode {
  if (json) return 'quiet';
  return stream.isTTY ? 'bar' : 'lines';
}

const BAR_WIDTH = 24;
const number = new Intl.NumberFormat('en-US');

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Rate (units per second since the stage started) and time left, when there is enough to say. */
export function estimate(s: ProgressSnapshot, firstDone: number, elapsedSeconds: number): { rate?: number; secondsLeft?: number } {
  const progressed = s.done - firstDone;
  if (elapsedSeconds <= 0 || progressed <= 0) return {};
  const rate = progressed / elapsedSeconds;
  return { rate, ...(s.total !== undefined ? { secondsLeft: Math.max(0, s.total - s.done) / rate } : {}) };
}

/** One line: the bar (on a terminal) or the counts alone; pure, for tests. */
export function renderProgress(s: ProgressSnapshot, est: { rate?: number; secondsLeft?: number }, withBar: boolean): string {
  const parts: string[] = [s.label.padEnd(8)];
  if (withBar) {
    if (s.total !== undefined && s.total > 0) {
      const filled = Math.min(BAR_WIDTH, Math.round((s.done / s.total) * BAR_WIDTH));
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`);
    } else {
      parts.push(`[${'.'.repeat(BAR_WIDTH)}]`);
    }
  }
  parts.push(s.total !== undefined ? `${number.format(s.done)}/${number.format(s.total)} ${s.unit}` : `${number.format(s.done)} ${s.unit}`);
  if (s.rows !== undefined) parts.push(`${number.format(s.rows)} rows`);
  if (est.rate !== undefined) parts.push(`${est.rate >= 10 ? est.rate.toFixed(0) : est.rate.toFixed(1)} ${s.unit}/s`);
  if (est.secondsLeft !== undefined) parts.push(`~${duration(est.secondsLeft)} left`);
  return parts.join('  ');
}

export function createProgressView(
  mode: ProgressMode,
  write: (text: string) => void = (t) => process.stdout.write(t),
  now: () => number = Date.now,
): ProgressView {
  let stage: { label: string; startedAt: number; firstDone: number } | undefined;
  let drawn = false;
  const endLine = () => {
    if (drawn) write('\n');
    drawn = false;
  };
  return {
    update(s) {
      if (mode === 'quiet') return;
      if (stage?.label !== s.label) {
        if (mode === 'bar') endLine();
        stage = { label: s.label, startedAt: now(), firstDone: s.done };
      }
      const line = renderProgress(s, estimate(s, stage.firstDone, (now() - stage.startedAt) / 1000), mode === 'bar');
      if (mode === 'bar') {
        write(`\r\x1b[K${line}`);
        drawn = true;
      } else {
        write(`  ${line}\n`);
      }
    },
    log(line) {
      if (mode === 'quiet') return;
      if (mode === 'bar' && drawn) write('\r\x1b[K');
      write(`${line}\n`);
      drawn = false;
    },
    finish() {
      if (mode === 'bar') endLine();
    },
  };
}
