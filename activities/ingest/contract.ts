/**
 * The raw data contract (docs/data-contract.md) as the reader checks it: each table's columns,
 * their kinds, whether a null is allowed, whether the column may be absent, and the PHI tags.
 */
import { DataType, type Field } from 'apache-arrow';
import { SchemaMismatchError } from '../../core/errors.js';
import type { RawTable } from '../../data-lake/layout.js';

export type ColumnKind = 'string' | 'float' | 'int' | 'timestamp' | 'date';

export interface ContractColumn {
  name: string;
  kind: ColumnKind;
  /** Null values allowed; a nullable column may also be absent from a file (read as all null). */
  nullable: boolean;
  phi: boolean;
}

const col = (name: string, kind: ColumnKind, nullable = false, phi = false): ContractColumn => ({ name, kind, nullable, phi });

export const CONTRACT: Record<RawTable, { primaryKey: string[]; columns: ContractColumn[] }> = {
  patients: {
    primaryKey: ['patient_id'],
    columns: [
      col('patient_id', 'string', false, true), col('first_name', 'string', true, true), col('last_name', 'string', true, true),
      col('birth_date', 'date', false, true), col('sex', 'string'), col('race', 'string', true), col('ethnicity', 'string', true),
      col('zip', 'string', true, true), col('ssn', 'string', true, true), col('phone', 'string', true, true), col('email', 'string', true, true),
    ],
  },
  encounters: {
    primaryKey: ['encounter_id'],
    columns: [
      col('encounter_id', 'string'), col('patient_id', 'string', false, true), col('encounter_class', 'string'),
      col('admit_time', 'timestamp', false, true), col('discharge_time', 'timestamp', true, true), col('primary_dx', 'string'),
      col('discharge_disposition', 'string', true), col('facility_id', 'string'), col('payer', 'string', true),
    ],
  },
  diagnoses: {
    primaryKey: ['encounter_id', 'icd10'],
    columns: [col('encounter_id', 'string'), col('patient_id', 'string', false, true), col('icd10', 'string'), col('dx_rank', 'int')],
  },
  lab_results: {
    primaryKey: ['lab_id'],
    columns: [
      col('lab_id', 'string'), col('patient_id', 'string', false, true), col('encounter_id', 'string', true), col('loinc', 'string'),
      col('value', 'float', true), col('unit', 'string', true), col('observed_at', 'timestamp', false, true), col('abnormal_flag', 'string', true),
    ],
  },
};

function valueType(type: DataType): DataType {
  return DataType.isDictionary(type) ? (type.dictionary as DataType) : type;
}

function accepts(kind: ColumnKind, type: DataType): boolean {
  const t = valueType(type);
  switch (kind) {
    case 'string': return DataType.isUtf8(t) || DataType.isLargeUtf8(t);
    case 'float': return DataType.isFloat(t) || DataType.isInt(t); // ints widen safely to float64
    case 'int': return DataType.isInt(t);
    case 'timestamp': return DataType.isTimestamp(t);
    case 'date': return DataType.isDate(t) || DataType.isTimestamp(t);
  }
}

/**
 * Checks a file's schema against the contract. Extra columns are ignored; an absent nullable
 * column reads as null; anything else is a SchemaMismatchError naming the file and the column.
 * Returns the contract columns missing from the file.
 */
export function checkSchema(table: RawTable, fields: readonly Field[], source: string): Set<string> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const missing = new Set<string>();
  for (const c of CONTRACT[table].columns) {
    const field = byName.get(c.name);
    if (!field) {
      if (!c.nullable) throw new SchemaMismatchError(`${source}: required column "${c.name}" is missing`);
      missing.add(c.name);
      continue;
    }
    if (!accepts(c.kind, field.type as DataType)) {
      throw new SchemaMismatchError(`${source}: column "${c.name}" has type ${String(field.type)}, the contract expects ${c.kind}`);
    }
  }
  return missing;
}
