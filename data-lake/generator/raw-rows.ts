/**
 * Row builders for the four raw tables, one per table, ingest date and file of a chunk, created
 * on first use. The simulation appends positional values (no object per row); `toTable()` turns
 * a builder into an Arrow table with the contract's schema.
 */
import { type Data, RecordBatch, type Schema, Struct, Table, makeData } from 'apache-arrow';
import type { RawTable } from '../layout.js';
import { contractSchemas } from '../../schemas/raw.js';
import { DateDayBuilder, Float64Builder, Int32Builder, TimestampMsBuilder, Utf8Builder } from './columns.js';

/** Assembles finished columns into a one-batch table with the given schema. */
export function tableOf(schema: Schema, columns: Data[], length: number): Table {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns });
  return new Table([new RecordBatch(schema, struct)]);
}

export class PatientRows {
  readonly table = 'patients' as const;
  length = 0;
  private readonly cols = {
    id: new Utf8Builder(),
    first: new Utf8Builder(),
    last: new Utf8Builder(),
    birth: new DateDayBuilder(),
    sex: new Utf8Builder(),
    race: new Utf8Builder(),
    ethnicity: new Utf8Builder(),
    zip: new Utf8Builder(),
    ssn: new Utf8Builder(),
    phone: new Utf8Builder(),
    email: new Utf8Builder(),
  };

  append(
    id: string,
    first: string,
    last: string,
    birthDay: number,
    sex: string,
    race: string | null,
    ethnicity: string | null,
    zip: string | null,
    ssn: string | null,
    phone: string | null,
    email: string | null,
  ): void {
    const c = this.cols;
    c.id.append(id);
    c.first.append(first);
    c.last.append(last);
    c.birth.append(birthDay);
    c.sex.append(sex);
    c.race.append(race);
    c.ethnicity.append(ethnicity);
    c.zip.append(zip);
    c.ssn.append(ssn);
    c.phone.append(phone);
    c.email.append(email);
    this.length++;
  }

  toTable(): Table {
    const c = this.cols;
    const columns = [c.id, c.first, c.last, c.birth, c.sex, c.race, c.ethnicity, c.zip, c.ssn, c.phone, c.email];
    return tableOf(
      contractSchemas.patients,
      columns.map((b) => b.finish()),
      this.length,
    );
  }
}

export class EncounterRows {
  readonly table = 'encounters' as const;
  length = 0;
  private readonly cols = {
    id: new Utf8Builder(),
    patient: new Utf8Builder(),
    cls: new Utf8Builder(),
    admit: new TimestampMsBuilder(),
    discharge: new TimestampMsBuilder(),
    dx: new Utf8Builder(),
    disposition: new Utf8Builder(),
    facility: new Utf8Builder(),
    payer: new Utf8Builder(),
  };

  /** `dischargeMs` NaN for a stay still open. */
  append(
    id: string,
    patientId: string,
    encounterClass: string,
    admitMs: number,
    dischargeMs: number,
    primaryDx: string,
    disposition: string | null,
    facility: string,
    payer: string | null,
  ): void {
    const c = this.cols;
    c.id.append(id);
    c.patient.append(patientId);
    c.cls.append(encounterClass);
    c.admit.append(admitMs);
    c.discharge.append(dischargeMs);
    c.dx.append(primaryDx);
    c.disposition.append(disposition);
    c.facility.append(facility);
    c.payer.append(payer);
    this.length++;
  }

  toTable(): Table {
    const c = this.cols;
    const columns = [c.id, c.patient, c.cls, c.admit, c.discharge, c.dx, c.disposition, c.facility, c.payer];
    return tableOf(
      contractSchemas.encounters,
      columns.map((b) => b.finish()),
      this.length,
    );
  }
}

export class DiagnosisRows {
  readonly table = 'diagnoses' as const;
  length = 0;
  private readonly cols = { encounter: new Utf8Builder(), patient: new Utf8Builder(), icd10: new Utf8Builder(), rank: new Int32Builder() };

  append(encounterId: string, patientId: string, icd10: string, rank: number): void {
    const c = this.cols;
    c.encounter.append(encounterId);
    c.patient.append(patientId);
    c.icd10.append(icd10);
    c.rank.append(rank);
    this.length++;
  }

  toTable(): Table {
    const c = this.cols;
    return tableOf(contractSchemas.diagnoses, [c.encounter.finish(), c.patient.finish(), c.icd10.finish(), c.rank.finish()], this.length);
  }
}

export class LabRows {
  readonly table = 'lab_results' as const;
  length = 0;
  private readonly cols = {
    id: new Utf8Builder(),
    patient: new Utf8Builder(),
    encounter: new Utf8Builder(),
    loinc: new Utf8Builder(),
    value: new Float64Builder(),
    unit: new Utf8Builder(),
    observed: new TimestampMsBuilder(),
    flag: new Utf8Builder(),
  };

  /** `value` NaN for a missing result. */
  append(
    id: string,
    patientId: string,
    encounterId: string | null,
    loinc: string,
    value: number,
    unit: string | null,
    observedMs: number,
    flag: string | null,
  ): void {
    const c = this.cols;
    c.id.append(id);
    c.patient.append(patientId);
    c.encounter.append(encounterId);
    c.loinc.append(loinc);
    c.value.append(value);
    c.unit.append(unit);
    c.observed.append(observedMs);
    c.flag.append(flag);
    this.length++;
  }

  toTable(): Table {
    const c = this.cols;
    const columns = [c.id, c.patient, c.encounter, c.loinc, c.value, c.unit, c.observed, c.flag];
    return tableOf(
      contractSchemas.lab_results,
      columns.map((b) => b.finish()),
      this.length,
    );
  }
}

export type TableRows = PatientRows | EncounterRows | DiagnosisRows | LabRows;
interface RowsByTable {
  patients: PatientRows;
  encounters: EncounterRows;
  diagnoses: DiagnosisRows;
  lab_results: LabRows;
}
const FACTORIES: { [T in RawTable]: () => RowsByTable[T] } = {
  patients: () => new PatientRows(),
  encounters: () => new EncounterRows(),
  diagnoses: () => new DiagnosisRows(),
  lab_results: () => new LabRows(),
};

/** A chunk's rows, by table, ingest-date index and file index. */
export class ChunkRows {
  private readonly builders = new Map<string, TableRows>();

  constructor(readonly filesPerDay: number) {}

  rows<T extends RawTable>(table: T, day: number, file: number): RowsByTable[T] {
    const key = `${table}/${day}/${file}`;
    let b = this.builders.get(key);
    if (!b) {
      b = FACTORIES[table]();
      this.builders.set(key, b);
    }
    return b as RowsByTable[T];
  }

  /** The builder if any row landed there, handed over: the chunk forgets it. */
  take(table: RawTable, day: number, file: number): TableRows | undefined {
    const key = `${table}/${day}/${file}`;
    const b = this.builders.get(key);
    this.builders.delete(key);
    return b;
  }

  /** The builder if any row landed there. */
  peek(table: RawTable, day: number, file: number): TableRows | undefined {
    return this.builders.get(`${table}/${day}/${file}`);
  }
}
