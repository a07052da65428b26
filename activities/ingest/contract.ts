/**
 * The raw data contract (docs/data-contract.md, as Arrow schemas in schemas/raw.ts) as the reader
 * checks it: each table's columns, their kinds, whether a null is allowed (and so whether the
 * column may be absent), and the PHI tags.
 */
import { DataType, type Field } from 'apache-arrow';
import { SchemaMismatchError } from '../../core/errors.js';
import { RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { contractSchemas, isPhiField, RAW_PRIMARY_KEYS } from '../../schemas/raw.js';

export type ColumnKind = 'string' | 'float' | 'int' | 'timestamp' | 'date';

export interface ContractColumn {
  name: string;
  kind: ColumnKind;
  /** Null values allowed; a nullable column may also be absent from a file (read as all null). */
  nullable: boolean;
  phi: boolean;
}

function kindOf(type: DataType): ColumnKind {
  if (DataType.isUtf8(type)) return 'string';
  if (DataType.isFloat(type)) return 'float';
  if (DataType.isInt(type)) return 'int';
  if (DataType.isTimestamp(type)) return 'timestamp';
  if (DataType.isDate(type)) return 'date';
  throw new Error(`schemas/raw.ts: no column kind for Arrow type id ${String(type.typeId)}`);
}

/** The contract (schemas/raw.ts) as the reader checks it. */
export const CONTRACT: Record<RawTable, { primaryKey: readonly string[]; columns: ContractColumn[] }> = Object.fromEntries(
  RAW_TABLES.map((table) => [
    table,
    {
      primaryKey: RAW_PRIMARY_KEYS[table],
      columns: contractSchemas[table].fields.map((f) => ({ name: f.name, kind: kindOf(f.type as DataType), nullable: f.nullable, phi: isPhiField(f) })),
    },
  ]),
) as Record<RawTable, { primaryKey: readonly string[]; columns: ContractColumn[] }>;

function valueType(type: DataType): DataType {
  return DataType.isDictionary(type) ? (type.dictionary as DataType) : type;
}

function accepts(kind: ColumnKind, type: DataType): boolean {
  const t = valueType(type);
  switch (kind) {
    case 'string':
      return DataType.isUtf8(t) || DataType.isLargeUtf8(t);
    case 'float':
      return DataType.isFloat(t) || DataType.isInt(t); // ints widen safely to float64
    case 'int':
      return DataType.isInt(t);
    case 'timestamp':
      return DataType.isTimestamp(t);
    case 'date':
      return DataType.isDate(t) || DataType.isTimestamp(t);
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
