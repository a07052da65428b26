/**
 * Parquet <-> Arrow for the whole pipeline, through parquet-wasm (Rust's `parquet` crate) and
 * Arrow IPC. Every Parquet byte the pipeline reads or writes goes through here, so that a
 * WebAssembly trap is contained (see parquet-runtime.ts) and errors speak the domain's language.
 *
 * What reading returns, as measured with parquet-wasm 0.8.0 and apache-arrow 21:
 * - INT64 timestamps keep their unit: `Timestamp<MILLISECOND|MICROSECOND|NANOSECOND>`, with
 *   timezone "UTC" when the file marks them adjusted to UTC (pyarrow's `tz=UTC`), none otherwise.
 * - INT96 timestamps take the unit and timezone of the file's embedded Arrow schema when it has
 *   one (pyarrow records the table's own type: ms UTC stays `Timestamp<MILLISECOND, UTC>`), and
 *   are `Timestamp<NANOSECOND>` without a timezone otherwise (Spark, Impala, Hive).
 * - date32 stays `Date32<DAY>`; int64 stays `Int64` (values as BigInt64Array); strings are `Utf8`
 *   (`LargeUtf8` when the writer's embedded Arrow schema says large_string).
 * Normalise with `timestampColumnToMillis` and `intOrFloatToFloat64` (parquet-columns.ts).
 */
import { type Schema, type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { CorruptFileError, InvalidInputError } from '../../core/errors.js';
import { isWasmTrap, type ParquetWasmModule, withParquetWasm } from './parquet-runtime.js';

export { intOrFloatToFloat64, timestampColumnToMillis } from './parquet-columns.js';

/** Rows per decoded batch. Measured 2.7x faster than parquet-wasm's default of 1024. */
export const DEFAULT_READ_BATCH_SIZE = 131_072;

export interface ReadParquetOptions {
  /**
   * Keep only these columns, in the file's order. Names absent from the file are left out: the
   * caller's schema check decides whether that is an error. parquet-wasm 0.8's synchronous reader
   * ignores its own `columns` option, so every column is decoded and the rest dropped afterwards.
   */
  columns?: readonly string[];
  /** Rows per Arrow record batch; a multiple of 1024 keeps re-writes byte-identical. */
  batchSize?: number;
  /** The file name or lake key, for error messages. */
  source?: string;
}

export interface WriteParquetOptions {
  /** Default 'snappy'. */
  compression?: 'snappy' | 'zstd' | 'gzip' | 'uncompressed';
  /** Maximum rows per row group; default 1,048,576 (the parquet crate's default). */
  rowGroupSize?: number;
  /** Dictionary-encode columns; default true. */
  dictionary?: boolean;
  /** Data page header version; default 1, the most widely readable. */
  dataPageVersion?: 1 | 2;
  /** Write min/max/null-count statistics (column chunk and page index); default true. */
  statistics?: boolean;
}

/** Decodes a whole Parquet file into an Arrow table in JS memory. Throws CorruptFileError. */
export function readParquet(bytes: Uint8Array, options: ReadParquetOptions = {}): Table {
  const source = options.source ?? 'input';
  const batchSize = options.batchSize ?? DEFAULT_READ_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidInputError(`parquet: batchSize must be a positive integer, got ${batchSize}`);
  }
  const ipc = decode(source, bytes, (wasm) => wasm.readParquet(bytes, { batchSize }).intoIPCStream());
  const table = tableFromIpc(source, ipc);
  if (options.columns === undefined) return table;
  const wanted = new Set(options.columns);
  return table.select(table.schema.fields.map((field) => field.name).filter((name) => wanted.has(name)));
}

/**
 * The file's Arrow schema, from the footer alone: no column data is decoded (the bytes are still
 * copied into wasm memory once). Schema-level key-value metadata comes back too.
 */
export function readParquetSchema(bytes: Uint8Array, options: Pick<ReadParquetOptions, 'source'> = {}): Schema {
  const source = options.source ?? 'input';
  const ipc = decode(source, bytes, (wasm) => wasm.readSchema(bytes).intoIPCStream());
  return tableFromIpc(source, ipc).schema;
}

/**
 * Encodes an Arrow table as Parquet. Deterministic: the same table (same batches) and options give
 * the same bytes; the file holds no timestamp, `created_by` names the parquet crate's version.
 * The Arrow schema, with its schema- and field-level metadata, is embedded (`ARROW:schema`) and
 * comes back from readParquet. Rows split into batches differently can give different page
 * boundaries, hence different bytes, unless every batch but the last is a multiple of 1024 rows.
 */
export function writeParquet(table: Table, options: WriteParquetOptions = {}): Uint8Array {
  const rowGroupSize = options.rowGroupSize;
  if (rowGroupSize !== undefined && (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1)) {
    throw new InvalidInputError(`parquet: rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  }
  const compression = COMPRESSION_NAME.get(options.compression ?? 'snappy');
  if (compression === undefined) {
    throw new InvalidInputError(`parquet: unsupported compression ${String(options.compression)}`);
  }
  const ipc = tableToIPC(table, 'stream');
  try {
    return withParquetWasm((wasm) => {
      let builder = new wasm.WriterPropertiesBuilder()
        .setCompression(wasm.Compression[compression])
        .setWriterVersion(options.dataPageVersion === 2 ? wasm.WriterVersion.V2 : wasm.WriterVersion.V1)
        .setDictionaryEnabled(options.dictionary ?? true)
        .setStatisticsEnabled(options.statistics === false ? wasm.EnabledStatistics.None : wasm.EnabledStatistics.Page);
      if (rowGroupSize !== undefined) builder = builder.setMaxRowGroupSize(rowGroupSize);
      return wasm.writeParquet(wasm.Table.fromIPCStream(ipc), builder.build());
    });
  } catch (err) {
    const shape = `${table.numRows} rows x ${table.numCols} columns`;
    throw new InvalidInputError(`parquet: cannot write a table of ${shape}: ${reasonOf(err)}`, trapCause(err));
  }
}

const COMPRESSION_NAME = new Map<string, 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD'>([
  ['uncompressed', 'UNCOMPRESSED'],
  ['snappy', 'SNAPPY'],
  ['gzip', 'GZIP'],
  ['zstd', 'ZSTD'],
]);

function decode(source: string, bytes: Uint8Array, fn: (wasm: ParquetWasmModule) => Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) throw new CorruptFileError(`parquet: cannot read ${source}: the file is empty (0 bytes)`);
  try {
    return withParquetWasm(fn);
  } catch (err) {
    throw new CorruptFileError(`parquet: cannot read ${source}: ${reasonOf(err)}`, trapCause(err));
  }
}

function tableFromIpc(source: string, ipc: Uint8Array): Table {
  try {
    return tableFromIPC(ipc);
  } catch (err) {
    // A type parquet-wasm produces but Arrow JS cannot hold (e.g. a view type): unreadable here.
    throw new CorruptFileError(`parquet: cannot read ${source}: Arrow JS: ${reasonOf(err)}`);
  }
}

/**
 * A one-line reason without data values. parquet's messages name structure (encodings, offsets,
 * sizes), but a few quote what they failed on, so quoted text is dropped and the length capped.
 */
function reasonOf(err: unknown): string {
  if (isWasmTrap(err)) return `parquet-wasm trapped (${err.message}) and was restarted`;
  const text = err instanceof Error ? err.message : String(err);
  const clean = text
    .replace(/(["'`]).*?\1/g, '<quoted>')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean || 'unknown error';
}

/** A trap carries no data, so it is kept as the cause; parquet's own errors are summarised instead. */
function trapCause(err: unknown): { cause?: unknown } {
  return isWasmTrap(err) ? { cause: err } : {};
}
