import type { WriteParquetOptions } from '../io/parquet.js';

/**
 * How curated Parquet (fragments and generations) is written. Codes, keys and lineage columns
 * repeat, so dictionary pages pay, and ZSTD over them beats Snappy (measured: docs/architecture.md,
 * "The lake"). A leaf module: curator threads import it.
 */
export const CURATED_PARQUET: WriteParquetOptions = { compression: 'zstd', dictionary: true };
