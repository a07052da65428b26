"""An independent reference for the readmission feature build (activities/features/readmission.ts).

Reads the curated Parquet of a file:// lake with pyarrow and computes every feature of every
index stay row by row, in plain Python, from the definitions written in readmission.ts's header
(no code shared with the TypeScript: Quan's mapping, the chapters and the lab list are typed out
again here). Prints one JSON object: {"data_end": ..., "rows": {encounter_id: {column: value}}}.

Tests only: nothing of the product depends on Python.
"""
import datetime as dt
import json
import os
import re
import sys

import pyarrow.parquet as pq

DAY_MS = 86_400_000
MAX_SHIFT_DAYS = 180

LABS = [
    ("glucose", "2345-7", "mg/dL"), ("creatinine", "2160-0", "mg/dL"), ("hemoglobin", "718-7", "g/dL"),
    ("hematocrit", "4544-3", "%"), ("sodium", "2951-2", "mmol/L"), ("potassium", "2823-3", "mmol/L"),
    ("chloride", "2075-0", "mmol/L"), ("bicarbonate", "2028-9", "mmol/L"), ("bun", "3094-0", "mg/dL"),
    ("calcium", "17861-6", "mg/dL"), ("wbc", "6690-2", "10*3/uL"), ("platelets", "777-3", "10*3/uL"),
    ("albumin", "1751-7", "g/dL"), ("bilirubin", "1975-2", "mg/dL"), ("alt", "1742-6", "U/L"),
    ("ast", "1920-8", "U/L"), ("lactate", "2524-7", "mmol/L"), ("inr", "6301-6", "{INR}"),
    ("magnesium", "19123-9", "mg/dL"), ("phosphate", "2777-1", "mg/dL"), ("hba1c", "4548-4", "%"),
    ("troponin", "10839-9", "ng/mL"),
]

# Quan et al. 2005, ICD-10 coding of the Charlson comorbidities; Charlson 1987 weights.
QUAN = {
    "mi": (1, "I21 I22 I25.2"),
    "chf": (1, "I09.9 I11.0 I13.0 I13.2 I25.5 I42.0 I42.5-I42.9 I43 I50 P29.0"),
    "pvd": (1, "I70 I71 I73.1 I73.8 I73.9 I77.1 I79.0 I79.2 K55.1 K55.8 K55.9 Z95.8 Z95.9"),
    "cvd": (1, "G45 G46 H34.0 I60-I69"),
    "dementia": (1, "F00-F03 F05.1 G30 G31.1"),
    "copd": (1, "I27.8 I27.9 J40-J47 J60-J67 J68.4 J70.1 J70.3"),
    "rheum": (1, "M05 M06 M31.5 M32-M34 M35.1 M35.3 M36.0"),
    "pud": (1, "K25-K28"),
    "mild_liver": (1, "B18 K70.0-K70.3 K70.9 K71.3-K71.5 K71.7 K73 K74 K76.0 K76.2-K76.4 K76.8 K76.9 Z94.4"),
    "dm": (1, "E10.0 E10.1 E10.6 E10.8 E10.9 E11.0 E11.1 E11.6 E11.8 E11.9 E12.0 E12.1 E12.6 E12.8 E12.9 "
              "E13.0 E13.1 E13.6 E13.8 E13.9 E14.0 E14.1 E14.6 E14.8 E14.9"),
    "dm_comp": (2, "E10.2-E10.5 E10.7 E11.2-E11.5 E11.7 E12.2-E12.5 E12.7 E13.2-E13.5 E13.7 E14.2-E14.5 E14.7"),
    "hemiplegia": (2, "G04.1 G11.4 G80.1 G80.2 G81 G82 G83.0-G83.4 G83.9"),
    "renal": (2, "I12.0 I13.1 N03.2-N03.7 N05.2-N05.7 N18 N19 N25.0 Z49.0-Z49.2 Z94.0 Z99.2"),
    "cancer": (2, "C00-C26 C30-C34 C37-C41 C43 C45-C58 C60-C76 C81-C85 C88 C90-C97"),
    "severe_liver": (3, "I85.0 I85.9 I86.4 I98.2 K70.4 K71.1 K72.1 K72.9 K76.5 K76.6 K76.7"),
    "metastatic": (6, "C77-C80"),
    "hiv": (6, "B20-B22 B24"),
}
HIERARCHY = [("dm_comp", "dm"), ("severe_liver", "mild_liver"), ("metastatic", "cancer")]

CHAPTERS = [
    ("A00", "B99", "infectious"), ("C00", "D49", "neoplasms"), ("D50", "D89", "blood_immune"),
    ("E00", "E89", "endocrine_metabolic"), ("F01", "F99", "mental_behavioural"), ("G00", "G99", "nervous"),
    ("H00", "H59", "eye"), ("H60", "H95", "ear"), ("I00", "I99", "circulatory"), ("J00", "J99", "respiratory"),
    ("K00", "K95", "digestive"), ("L00", "L99", "skin"), ("M00", "M99", "musculoskeletal"),
    ("N00", "N99", "genitourinary"), ("O00", "O9A", "pregnancy"), ("P00", "P96", "perinatal"),
    ("Q00", "Q99", "congenital"), ("R00", "R99", "symptoms_findings"), ("S00", "T88", "injury_poisoning"),
    ("U00", "U85", "special_purposes"), ("V00", "Y99", "external_causes"), ("Z00", "Z99", "health_factors"),
]


def quan_prefixes():
    out = {}
    for name, (_, spec) in QUAN.items():
        prefixes = []
        for item in spec.split():
            if "-" not in item:
                prefixes.append(item.replace(".", ""))
                continue
            lo, hi = (x.replace(".", "") for x in item.split("-"))
            digits = len(lo) - 1
            for n in range(int(lo[1:]), int(hi[1:]) + 1):
                prefixes.append(lo[0] + str(n).zfill(digits))
        out[name] = prefixes
    return out


PREFIXES = quan_prefixes()


def categories(code):
    c = code.replace(".", "").replace(" ", "").upper()
    return {name for name, prefixes in PREFIXES.items() if any(c.startswith(p) for p in prefixes)}


def charlson(codes):
    present = set()
    for code in codes:
        present |= categories(code)
    for over, under in HIERARCHY:
        if over in present:
            present.discard(under)
    return sum(QUAN[c][0] for c in present)


def chapter(code):
    if code is None:
        return None
    c = code.replace(".", "").replace(" ", "").upper()
    if not re.match(r"^[A-Z][0-9][0-9A-Z]", c):
        return None
    cat = c[:3]
    for lo, hi, name in CHAPTERS:
        if lo <= cat <= hi:
            return name
    return None


def read_table(root, table):
    """Every curated row of a table, in key order of its fragments, then row order."""
    rows = []
    base = os.path.join(root, "curated", table)
    paths = []
    for d, _, files in os.walk(base):
        paths += [os.path.join(d, f) for f in files if f.endswith(".parquet") and not f.startswith(".")]
    for path in sorted(paths, key=lambda p: os.path.relpath(p, root)):
        t = pq.read_table(path)
        cols = {}
        for name in t.column_names:
            col = t.column(name)
            if str(col.type).startswith("timestamp"):
                col = col.cast("int64")
            elif str(col.type) == "date32[day]":
                col = col.cast("int32")
            cols[name] = col.to_pylist()
        for i in range(t.num_rows):
            rows.append({name: values[i] for name, values in cols.items()})
    return rows


def winners(rows, key):
    best = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in best or (r["ingest_date"], r["source_file"]) >= (best[k]["ingest_date"], best[k]["source_file"]):
            best[k] = r
    return list(best.values())


def epoch_day(date):
    return (dt.date.fromisoformat(date) - dt.date(1970, 1, 1)).days


def main(root):
    enc_all = read_table(root, "encounters")
    encounters = winners(enc_all, ["encounter_id"])
    patients = {r["patient_key"]: r for r in winners(read_table(root, "patients"), ["patient_key"])}
    diagnoses = winners(read_table(root, "diagnoses"), ["encounter_id", "icd10"])
    labs = winners(read_table(root, "lab_results"), ["lab_id"])

    dates = [r["ingest_date"] for r in enc_all]
    man = os.path.join(root, "manifests", "ingest", "encounters")
    if os.path.isdir(man):
        dates += [f[len("ingest_date="):-len(".json")] for f in os.listdir(man) if f.startswith("ingest_date=") and f.endswith(".json")]
    data_end = max(dates) if dates else ""
    data_end_ms = epoch_day(data_end) * DAY_MS if data_end else None

    codes_of = {}
    for e in encounters:
        codes_of[e["encounter_id"]] = [e["primary_dx"]] if e["primary_dx"] else []
    for d in diagnoses:
        if d["encounter_id"] in codes_of and d["icd10"]:
            codes_of[d["encounter_id"]].append(d["icd10"])

    # Per encounter and discharge time, the day from which the lake held that discharge, known and
    # past: the file's ingest date plus its lag, on the earliest row. One pass, not one per stay.
    arrived = {}
    for r in enc_all:
        if r["discharge_time"] is None:
            continue
        k = (r["encounter_id"], r["discharge_time"])
        day = epoch_day(r["ingest_date"]) + (r.get("discharge_lag_days") or 0)
        arrived[k] = min(arrived.get(k, day), day)

    by_patient = {}
    for e in encounters:
        by_patient.setdefault(e["patient_key"], []).append(e)
    labs_by_patient = {}
    lab_of = {loinc: (name, unit) for name, loinc, unit in LABS}
    for l in labs:
        spec = lab_of.get(l["loinc"])
        if spec is None or l["value"] is None or l["unit"] is None or l["unit"].lower() != spec[1].lower():
            continue
        labs_by_patient.setdefault(l["patient_key"], []).append(l)

    out = {}
    for pk, encs in by_patient.items():
        for e in encs:
            if e["encounter_class"] != "inpatient" or e["discharge_time"] is None or e["discharge_disposition"] == "expired":
                continue
            a, d = e["admit_time"], e["discharge_time"]
            others = [o for o in encs if o["encounter_id"] != e["encounter_id"]]
            label = int(any(o["encounter_class"] == "inpatient" and d < o["admit_time"] <= d + 30 * DAY_MS for o in others))
            prior_ip = sum(1 for o in others if o["encounter_class"] == "inpatient" and a - 365 * DAY_MS <= o["admit_time"] < a)
            prior_ed = sum(1 for o in others if o["encounter_class"] == "emergency" and a - 180 * DAY_MS <= o["admit_time"] < a)
            codes = list(codes_of[e["encounter_id"]])
            for o in others:
                if o["discharge_time"] is not None and a - 365 * DAY_MS <= o["discharge_time"] <= a:
                    codes += codes_of[o["encounter_id"]]
            # The discharge is known and past from the file's ingest date plus its lag (the file may
            # carry a discharge later than its own date), on the earliest row that carries it.
            arrival = arrived.get((e["encounter_id"], d))
            followed = False
            if data_end_ms is not None:
                if arrival is not None and arrival * DAY_MS + 30 * DAY_MS <= data_end_ms:
                    followed = True
                if d + 30 * DAY_MS <= data_end_ms - MAX_SHIFT_DAYS * DAY_MS:
                    followed = True
            p = patients.get(pk)
            age = None
            if p is not None and p["birth_date"] is not None:
                born = dt.date(1970, 1, 1) + dt.timedelta(days=p["birth_date"])
                admitted = dt.date(1970, 1, 1) + dt.timedelta(days=a // DAY_MS)
                age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
                age = min(age, 90)
            row = {
                "encounter_id": e["encounter_id"], "patient_key": pk, "admit_time": a, "discharge_time": d,
                "label": label, "censored": 0 if followed else 1, "age": age, "los_days": (d - a) / DAY_MS,
                "prior_inpatient_365d": prior_ip, "prior_emergency_180d": prior_ed, "charlson_index": charlson(codes),
                "sex": p["sex"] if p else None, "race": p["race"] if p else None, "ethnicity": p["ethnicity"] if p else None,
                "discharge_disposition": e["discharge_disposition"], "payer": e["payer"], "dx_chapter": chapter(e["primary_dx"]),
            }
            in_stay = sorted((l for l in labs_by_patient.get(pk, []) if a <= l["observed_at"] <= d),
                             key=lambda l: (l["observed_at"], l["lab_id"].encode()))
            for name, loinc, _ in LABS:
                values = [l["value"] for l in in_stay if l["loinc"] == loinc]
                row[f"lab_{name}_count"] = len(values)
                row[f"lab_{name}_last"] = values[-1] if values else None
                row[f"lab_{name}_min"] = min(values) if values else None
                row[f"lab_{name}_max"] = max(values) if values else None
                row[f"lab_{name}_mean"] = sum(values) / len(values) if values else None
            out[e["encounter_id"]] = row
    print(json.dumps({"data_end": data_end, "rows": out}))


if __name__ == "__main__":
    main(sys.argv[1])
