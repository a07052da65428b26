"""The readmission features from the raw zone with DuckDB: the bench's second reference (bench only).

The same definition, the same inputs and the same output as readmission_polars.py, in SQL.
usage: readmission_duckdb.py <lake folder> <output.parquet> [threads]
"""
import json
import os
import sys
import time

import duckdb

from readmission_common import DAY_MS, LABS, MAX_AGE, MAX_SHIFT_DAYS, SKIPPED_RULES, UNIT_FACTORS, chapter, code_mask, epoch_day, mask_score

KEYS = {"patients": "patient_id", "encounters": "encounter_id", "diagnoses": "encounter_id, icd10", "lab_results": "lab_id"}
COLUMNS = {
    "patients": "patient_id, birth_date, sex, race, ethnicity",
    "encounters": "encounter_id, patient_id, encounter_class, epoch_ms(admit_time) AS admit_time, epoch_ms(discharge_time) AS discharge_time, "
                  "primary_dx, discharge_disposition, payer",
    "diagnoses": "encounter_id, icd10",
    "lab_results": "lab_id, patient_id, loinc, value, unit, epoch_ms(observed_at) AS observed_at",
}


def raw(root, table):
    glob = os.path.join(root, "raw", table, "ingest_date=*", "*.parquet")
    return (f"SELECT {COLUMNS[table]}, ingest_date, parse_filename(filename) AS file, file_row_number AS row "
            f"FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'ingest_date': VARCHAR}}, filename = true, "
            f"file_row_number = true, union_by_name = true)")


def winners(root, table):
    """Per primary key the last row in (ingest date, file name, row) order: corrections win."""
    return (f"SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY {KEYS[table]} "
            f"ORDER BY ingest_date DESC, file DESC, row DESC) AS rn FROM ({raw(root, table)})) WHERE rn = 1")


def main(root, out, threads):
    started = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"CREATE TEMP TABLE enc_all AS {raw(root, 'encounters')}")
    con.execute("CREATE TEMP TABLE enc AS SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY encounter_id "
                "ORDER BY ingest_date DESC, file DESC, row DESC) AS rn FROM enc_all) WHERE rn = 1")
    con.execute(f"CREATE TEMP TABLE dx AS SELECT encounter_id, icd10 FROM ({winners(root, 'diagnoses')})")
    con.execute(f"CREATE TEMP TABLE pts AS SELECT patient_id, birth_date, sex, race, ethnicity FROM ({winners(root, 'patients')})")
    data_end = con.execute("SELECT max(ingest_date) FROM enc_all").fetchone()[0]
    data_end_ms = epoch_day(data_end) * DAY_MS

    codes = [r[0] for r in con.execute("SELECT DISTINCT icd10 FROM dx UNION SELECT DISTINCT primary_dx FROM enc WHERE primary_dx IS NOT NULL").fetchall()]
    con.execute("CREATE TEMP TABLE code_info (code VARCHAR, mask BIGINT, chapter VARCHAR)")
    con.executemany("INSERT INTO code_info VALUES (?, ?, ?)", [(c, code_mask(c), chapter(c)) for c in codes])
    con.execute("CREATE TEMP TABLE factors (loinc VARCHAR, unit_key VARCHAR, factor DOUBLE)")
    con.executemany("INSERT INTO factors VALUES (?, ?, ?)", UNIT_FACTORS)

    con.execute("""CREATE TEMP TABLE enc_mask AS SELECT encounter_id, bit_or(mask) AS mask FROM (
        SELECT encounter_id, icd10 AS code FROM dx UNION ALL SELECT encounter_id, primary_dx FROM enc) c
        JOIN code_info USING (code) GROUP BY encounter_id""")
    con.execute("""CREATE TEMP TABLE idx AS SELECT encounter_id AS stay, patient_id, admit_time AS a, discharge_time AS d,
        discharge_disposition, payer, primary_dx FROM enc
        WHERE encounter_class = 'inpatient' AND discharge_time IS NOT NULL AND coalesce(discharge_disposition, '') <> 'expired'""")
    con.execute(f"""CREATE TEMP TABLE history AS SELECT i.stay,
        max(CASE WHEN o.encounter_id <> i.stay AND o.encounter_class = 'inpatient' AND o.admit_time > i.d AND o.admit_time <= i.d + {30 * DAY_MS} THEN 1 ELSE 0 END) AS label,
        sum(CASE WHEN o.encounter_id <> i.stay AND o.encounter_class = 'inpatient' AND o.admit_time >= i.a - {365 * DAY_MS} AND o.admit_time < i.a THEN 1 ELSE 0 END) AS prior_inpatient_365d,
        sum(CASE WHEN o.encounter_id <> i.stay AND o.encounter_class = 'emergency' AND o.admit_time >= i.a - {180 * DAY_MS} AND o.admit_time < i.a THEN 1 ELSE 0 END) AS prior_emergency_180d,
        bit_or(CASE WHEN o.encounter_id = i.stay OR (o.discharge_time >= i.a - {365 * DAY_MS} AND o.discharge_time <= i.a) THEN coalesce(m.mask, 0) ELSE 0 END) AS mask
        FROM idx i JOIN enc o USING (patient_id) LEFT JOIN enc_mask m ON m.encounter_id = o.encounter_id GROUP BY i.stay""")
    masks = [r[0] for r in con.execute("SELECT DISTINCT mask FROM history").fetchall()]
    con.execute("CREATE TEMP TABLE scores (mask BIGINT, charlson_index INTEGER)")
    con.executemany("INSERT INTO scores VALUES (?, ?)", [(m, mask_score(m)) for m in masks])
    con.execute("""CREATE TEMP TABLE arrival AS SELECT encounter_id AS stay, discharge_time AS d,
        min(CAST(ingest_date AS DATE) - DATE '1970-01-01') AS arrived FROM enc_all WHERE discharge_time IS NOT NULL GROUP BY ALL""")
    con.execute(f"""CREATE TEMP TABLE in_stay AS SELECT i.stay, l.loinc,
        arg_max(l.value, (l.observed_at, l.lab_id)) AS last, min(l.value) AS min, max(l.value) AS max, avg(l.value) AS mean, count(*) AS count
        FROM (SELECT w.patient_id, w.lab_id, w.loinc, w.observed_at, w.value * f.factor AS value FROM ({winners(root, 'lab_results')}) w
              JOIN factors f ON f.loinc = w.loinc AND f.unit_key = lower(w.unit) WHERE w.value IS NOT NULL) l
        JOIN idx i ON i.patient_id = l.patient_id AND l.observed_at BETWEEN i.a AND i.d GROUP BY ALL""")
    lab_select = ", ".join(
        f"max(CASE WHEN loinc = '{loinc}' THEN {s} END) AS lab_{name}_{s}" if s != "count" else
        f"coalesce(max(CASE WHEN loinc = '{loinc}' THEN count END), 0) AS lab_{name}_count"
        for name, loinc, _ in LABS for s in ("last", "min", "max", "mean", "count"))
    con.execute(f"CREATE TEMP TABLE lab_wide AS SELECT stay, {lab_select} FROM in_stay GROUP BY stay")
    lab_cols = ", ".join(f"coalesce(w.lab_{name}_count, 0) AS lab_{name}_count" if s == "count" else f"w.lab_{name}_{s}"
                         for name, _, _ in LABS for s in ("last", "min", "max", "mean", "count"))
    day = f"CAST(to_timestamp(i.a / 1000) AS DATE)"
    con.execute(f"""CREATE TEMP TABLE rows AS SELECT i.stay AS encounter_id, i.patient_id, i.a AS admit_time, i.d AS discharge_time,
        h.label, CASE WHEN (greatest(ar.arrived, i.d // {DAY_MS} + 1) * {DAY_MS} + {30 * DAY_MS} <= {data_end_ms})
                       OR (i.d + {30 * DAY_MS} <= {data_end_ms - MAX_SHIFT_DAYS * DAY_MS}) THEN 0 ELSE 1 END AS censored,
        least(date_diff('year', p.birth_date, {day}) - CASE WHEN strftime({day}, '%m%d') < strftime(p.birth_date, '%m%d') THEN 1 ELSE 0 END, {MAX_AGE}) AS age,
        (i.d - i.a) / {DAY_MS} AS los_days, h.prior_inpatient_365d, h.prior_emergency_180d, s.charlson_index,
        p.sex, p.race, p.ethnicity, i.discharge_disposition, i.payer, c.chapter AS dx_chapter, {lab_cols}
        FROM idx i JOIN history h USING (stay) JOIN scores s USING (mask) LEFT JOIN pts p USING (patient_id)
        LEFT JOIN code_info c ON c.code = i.primary_dx LEFT JOIN arrival ar ON ar.stay = i.stay AND ar.d = i.d
        LEFT JOIN lab_wide w ON w.stay = i.stay""")
    con.execute(f"COPY rows TO '{out}' (FORMAT parquet)")
    n, positives, censored, labelled_pos, width = con.execute(
        "SELECT count(*), sum(label), sum(censored), sum(label) FILTER (WHERE censored = 0), (SELECT count(*) FROM (DESCRIBE rows)) FROM rows").fetchone()
    print(json.dumps({
        "engine": "duckdb", "version": duckdb.__version__, "rows": n, "positives": int(positives or 0), "censored": int(censored or 0),
        "label_rate": (labelled_pos or 0) / (n - censored) if n > censored else 0, "columns": width,
        "seconds": time.perf_counter() - started, "skipped": SKIPPED_RULES,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
