/**
 * Writes the synthetic lake to an object store: every generated file encoded as Parquet and put
 * under its key, a few puts in flight at a time, with progress after each chunk.
 */
import { writeParquet } from '../../activities/io/parquet.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { type GeneratedFile, type GenerationStats, generateRawFiles } from './generate.js';
import { truncate } from './odd-files.js';
import type { GeneratorInput } from './options.js';

export interface GenerationSummary extends GenerationStats {
  /** Objects written: raw files and ground-truth parts. */
  filesWritten: number;
  bytesWritten: number;
  elapsedMs: number;
}

export interface GenerationProgress {
  chunksDone: number;
  chunks: number;
  patientsDone: number;
  patients: number;
  filesWritten: number;
  /** Rows in the files written so far, raw and ground truth. */
  rowsWritten: number;
  bytesWritten: number;
  elapsedMs: number;
  /** Estimated from the pace so far. */
  remainingMs: number;
}

const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
const MAX_PUTS_IN_FLIGHT = 8;

/** The bytes a generated file is stored as (a `truncated` file loses its second half). */
export function encodeFile(file: GeneratedFile): Uint8Array {
  const bytes = writeParquet(file.data, file.writeOptions);
  return file.kind === 'raw' && file.corruption === 'truncated' ? truncate(bytes) : bytes;
}

export async function writeRawLake(
  store: ObjectStore,
  input: GeneratorInput = {},
  onProgress?: (progress: GenerationProgress) => void,
): Promise<GenerationSummary> {
  const started = Date.now();
  const files = generateRawFiles(input);
  let inFlight: Promise<unknown>[] = [];
  let filesWritten = 0;
  let bytesWritten = 0;
  let rowsWritten = 0;
  let chunksDone = 0;

  for (;;) {
    const next = await files.next();
    if (next.done) {
      await Promise.all(inFlight);
      const stats = next.value;
      return { ...stats, filesWritten, bytesWritten, elapsedMs: Date.now() - started };
    }
    const file = next.value;
    const bytes = encodeFile(file);
    inFlight.push(store.put(file.key, bytes, { contentType: PARQUET_CONTENT_TYPE }));
    filesWritten++;
    bytesWritten += bytes.byteLength;
    rowsWritten += file.data.numRows;
    if (inFlight.length >= MAX_PUTS_IN_FLIGHT || file.kind === 'ground-truth') {
      await Promise.all(inFlight);
      inFlight = [];
    }
    if (file.kind === 'ground-truth') chunksDone++;
    if (file.kind === 'ground-truth' && onProgress) {
      const elapsedMs = Date.now() - started;
      onProgress({
        chunksDone,
        chunks: file.chunks,
        patientsDone: file.patientsDone,
        patients: file.patients,
        filesWritten,
        rowsWritten,
        bytesWritten,
        elapsedMs,
        remainingMs: Math.round((elapsedMs / chunksDone) * (file.chunks - chunksDone)),
      });
    }
  }
}
