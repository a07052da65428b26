/**
 * The raw rows of each patient as a client would send them: read back from a generated lake's
 * landing zone (only the files ingest accepted, in the contract's order: ingest date, file name,
 * row), as JSON in the data contract's shape (timestamps as epoch ms, dates as YYYY-MM-DD), and
 * grouped by patient_id. For the serving test that sends test-split stays as raw rows.
 */
import { DataType } from 'apache-arrow';
import { readJson } from '../../activities/context.js';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { intOrFloatToFloat64, readParquet, timestampColumnToMillis } from '../../activities/io/parquet.js';
import { lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { contractSchemas } from '../../schemas/raw.js';

export type JsonRow = Record<string, string | number | null>;
export interface PatientRows {
  /** The ingest date of the patient's last patients row. */
  asOf: string;
  rows: Record<RawTable, JsonRow[]>;
}

const DAY_MS = 86_400_000;

export async function rawRowsByPatient(store: ObjectStore): Promise<Map<string, PatientRows>> {
  const out = new Map<string, PatientRows>();
  for (const table of RAW_TABLES) {
    const keys: string[] = [];
    for await (const obj of store.list(lake.rawPrefix(table))) keys.push(obj.key);
    // Keys sort by ingest date, then file name: the order in which corrections win.
    keys.sort();
    for (const key of keys) {
      const m = /ingest_date=(\d{4}-\d{2}-\d{2})\/([^/]+)$/.exec(key)!;
      const manifest = await readJson<FileManifest>(store, lake.ingestFileManifest(table, m[1]!, m[2]!));
      if (manifest?.status !== 'ingested') continue;
      const arrow = readParquet(await store.get(key), { source: key });
      const n = arrow.numRows;
      const columns = contractSchemas[table].fields.map((f) => {
        const v = arrow.getChild(f.name);
        const type = f.type as DataType;
        if (!v) return { name: f.name, values: new Array<string | number | null>(n).fill(null) };
        if (DataType.isUtf8(type)) return { name: f.name, values: stringValues(v, n) };
        if (DataType.isTimestamp(type)) return { name: f.name, values: Array.from(timestampColumnToMillis(v, f.name), (x) => (Number.isNaN(x) ? null : x)) };
        if (DataType.isDate(type)) {
          return {
            name: f.name,
            values: Array.from(timestampColumnToMillis(v, f.name), (x) =>
              Number.isNaN(x) ? null : new Date(Math.floor(x / DAY_MS) * DAY_MS).toISOString().slice(0, 10),
            ),
          };
        }
        return { name: f.name, values: Array.from(intOrFloatToFloat64(v, f.name), (x) => (Number.isNaN(x) ? null : x)) };
      });
      const ids = stringValues(arrow.getChild('patient_id'), n);
      for (let r = 0; r < n; r++) {
        const id = ids[r];
        if (!id) continue;
        let p = out.get(id);
        if (!p) out.set(id, (p = { asOf: m[1]!, rows: { patients: [], encounters: [], diagnoses: [], lab_results: [] } }));
        if (table === 'patients') p.asOf = m[1]!;
        p.rows[table].push(Object.fromEntries(columns.map((c) => [c.name, c.values[r] ?? null])));
      }
    }
  }
  return out;
}
