"""The readmission features from the raw zone with polars: the bench's reference (bench only).

Reads raw/<table>/ingest_date=*/*.parquet under a lake folder, resolves corrections (per primary key,
the row of the latest ingest date, then the latest file name, then the last row of that file), and
builds activities/features/readmission.ts's definition: index stays, the 30-day readmission label,
censoring, and every feature of its header. Writes them to one Parquet file and prints
{"engine", "rows", "positives", "censored", "label_rate", "seconds", "skipped"} as JSON.

usage: readmission_polars.py <lake folder> <output.parquet> [threads]
"""
import json
import os
import sys
import time

if len(sys.argv) > 3:
    os.environ["POLARS_MAX_THREADS"] = sys.argv[3]
import polars as pl  # noqa: E402  (after the thread count is set)

from readmission_common import (  # noqa: E402
    DAY_MS, LABS, MAX_AGE, MAX_SHIFT_DAYS, SKIPPED_RULES, UNIT_FACTORS, chapter, code_mask, epoch_day, mask_score,
)

KEYS = {"patients": ["patient_id"], "encounters": ["encounter_id"], "diagnoses": ["encounter_id", "icd10"], "lab_results": ["lab_id"]}
COLUMNS = {
    "patients": ["patient_id", "birth_date", "sex", "race", "ethnicity"],
    "encounters": ["encounter_id", "patient_id", "encounter_class", "admit_time", "discharge_time", "primary_dx", "discharge_disposition", "payer"],
    "diagnoses": ["encounter_id", "icd10"],
    "lab_results": ["lab_id", "patient_id", "loinc", "value", "unit", "observed_at"],
}


def scan(root, table):
    """Every raw row of a table with its ingest date and file name (the correction order)."""
    lf = pl.scan_parquet(
        os.path.join(root, "raw", table, "ingest_date=*", "*.parquet"),
        hive_partitioning=True, hive_schema={"ingest_date": pl.String}, include_file_paths="path",
    )
    cols = COLUMNS[table]
    return lf.select(*cols, "ingest_date", "path").with_columns(
        pl.col("path").str.split("/").list.last().alias("file"),
        *(pl.col(c).dt.cast_time_unit("ms").dt.replace_time_zone(None).cast(pl.Int64)
          for c in ("admit_time", "discharge_time", "observed_at") if c in cols),
    ).drop("path")


def winners(lf, table):
    """Per primary key the last row in (ingest date, file name, row) order: corrections win."""
    return (lf.with_row_index("row").sort(["ingest_date", "file", "row"])
            .unique(subset=KEYS[table], keep="last", maintain_order=False).drop("row"))


def main(root, out):
    started = time.perf_counter()
    enc_all = scan(root, "encounters")
    enc = winners(enc_all, "encounters").collect()
    data_end = enc_all.select(pl.col("ingest_date").max()).collect().item()
    data_end_ms = epoch_day(data_end) * DAY_MS
    patients = winners(scan(root, "patients"), "patients").select("patient_id", "birth_date", "sex", "race", "ethnicity")
    dx = winners(scan(root, "diagnoses"), "diagnoses").select("encounter_id", "icd10").collect()

    # Charlson categories per code, looked up once per distinct code; OR-ed per encounter.
    codes = pl.concat([dx.get_column("icd10"), enc.get_column("primary_dx")]).drop_nulls().unique()
    code_masks = pl.DataFrame({"code": codes, "mask": [code_mask(c) for c in codes]}, schema={"code": pl.String, "mask": pl.Int64})
    enc_codes = pl.concat([dx.rename({"icd10": "code"}), enc.select("encounter_id", pl.col("primary_dx").alias("code"))])
    enc_mask = enc_codes.join(code_masks, on="code").group_by("encounter_id").agg(pl.col("mask").bitwise_or())
    chapters = pl.DataFrame({"primary_dx": codes, "dx_chapter": [chapter(c) for c in codes]}, schema={"primary_dx": pl.String, "dx_chapter": pl.String})

    # Follow-up by arrival: the earliest ingest date of a row carrying the final discharge, not before
    # the midnight after the discharge (ingest's discharge_lag_days).
    arrival = (enc_all.filter(pl.col("discharge_time").is_not_null())
               .group_by("encounter_id", "discharge_time")
               .agg(pl.col("ingest_date").min().str.to_date().cast(pl.Int32).alias("arrived"))).collect()

    idx = enc.filter((pl.col("encounter_class") == "inpatient") & pl.col("discharge_time").is_not_null()
                     & (pl.col("discharge_disposition").fill_null("") != "expired"))
    idx = idx.select(pl.col("encounter_id").alias("stay"), "patient_id", pl.col("admit_time").alias("a"), pl.col("discharge_time").alias("d"),
                     "discharge_disposition", "payer", "primary_dx")
    others = enc.join(enc_mask, on="encounter_id", how="left").select(
        "patient_id", pl.col("encounter_id").alias("other"), "encounter_class", "admit_time", "discharge_time", pl.col("mask").fill_null(0))
    pairs = idx.select("stay", "patient_id", "a", "d").join(others, on="patient_id")
    stay_mask = pl.col("stay") == pl.col("other")
    history = pairs.group_by("stay").agg(
        pl.when(~stay_mask & (pl.col("encounter_class") == "inpatient") & (pl.col("admit_time") > pl.col("d"))
                & (pl.col("admit_time") <= pl.col("d") + 30 * DAY_MS)).then(1).otherwise(0).max().alias("label"),
        (~stay_mask & (pl.col("encounter_class") == "inpatient") & (pl.col("admit_time") >= pl.col("a") - 365 * DAY_MS)
         & (pl.col("admit_time") < pl.col("a"))).sum().alias("prior_inpatient_365d"),
        (~stay_mask & (pl.col("encounter_class") == "emergency") & (pl.col("admit_time") >= pl.col("a") - 180 * DAY_MS)
         & (pl.col("admit_time") < pl.col("a"))).sum().alias("prior_emergency_180d"),
        pl.when(stay_mask | (pl.col("discharge_time").is_not_null() & (pl.col("discharge_time") >= pl.col("a") - 365 * DAY_MS)
                             & (pl.col("discharge_time") <= pl.col("a")))).then(pl.col("mask")).otherwise(0).bitwise_or().alias("mask"),
    )
    scores = history.select("mask").unique()
    scores = scores.with_columns(pl.Series("charlson_index", [mask_score(m) for m in scores.get_column("mask")], dtype=pl.Int32))

    # Labs of the catalogue in its unit, each index stay's results observed in [admission, discharge].
    factors = pl.DataFrame(UNIT_FACTORS, schema=["loinc", "unit_key", "factor"], orient="row")
    labs = (winners(scan(root, "lab_results"), "lab_results")
            .filter(pl.col("value").is_not_null() & pl.col("unit").is_not_null())
            .with_columns(pl.col("unit").str.to_lowercase().alias("unit_key"))
            .join(factors.lazy(), on=["loinc", "unit_key"])
            .select("patient_id", "lab_id", "loinc", "observed_at", (pl.col("value") * pl.col("factor")).alias("value")))
    in_stay = (labs.join(idx.lazy().select("stay", "patient_id", "a", "d"), on="patient_id")
               .filter((pl.col("observed_at") >= pl.col("a")) & (pl.col("observed_at") <= pl.col("d")))
               .sort("observed_at", "lab_id")
               .group_by("stay", "loinc")
               .agg(pl.col("value").last().alias("last"), pl.col("value").min().alias("min"), pl.col("value").max().alias("max"),
                    pl.col("value").mean().alias("mean"), pl.len().alias("count"))).collect()
    lab_cols = []
    for name, loinc, _ in LABS:
        one = in_stay.filter(pl.col("loinc") == loinc).select(
            "stay", *(pl.col(s).alias(f"lab_{name}_{s}") for s in ("last", "min", "max", "mean", "count")))
        lab_cols.append(one)

    pts = patients.collect()
    rows = (idx.join(history, on="stay").join(scores, on="mask").join(pts, on="patient_id", how="left")
            .join(chapters, on="primary_dx", how="left")
            .join(arrival.rename({"encounter_id": "stay", "discharge_time": "d"}), on=["stay", "d"], how="left"))
    for one in lab_cols:
        rows = rows.join(one, on="stay", how="left")
    admit_date = pl.from_epoch(pl.col("a"), time_unit="ms").dt.date()
    arrived_day = pl.max_horizontal(pl.col("arrived"), (pl.col("d") // DAY_MS + 1).cast(pl.Int32))
    followed = ((arrived_day.cast(pl.Int64) * DAY_MS + 30 * DAY_MS <= data_end_ms)
                | (pl.col("d") + 30 * DAY_MS <= data_end_ms - MAX_SHIFT_DAYS * DAY_MS))
    # dt.month() is an Int8: widen before scaling, or month * 100 wraps.
    month_day = lambda d: d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)  # noqa: E731
    age = (admit_date.dt.year() - pl.col("birth_date").dt.year() - (month_day(admit_date) < month_day(pl.col("birth_date"))).cast(pl.Int32))
    rows = rows.with_columns(
        pl.when(followed).then(0).otherwise(1).alias("censored"),
        pl.min_horizontal(age, pl.lit(MAX_AGE)).alias("age"),
        ((pl.col("d") - pl.col("a")) / DAY_MS).alias("los_days"),
        *(pl.col(f"lab_{name}_count").fill_null(0) for name, _, _ in LABS),
    ).drop("mask", "arrived", "birth_date", "primary_dx").rename({"stay": "encounter_id", "a": "admit_time", "d": "discharge_time"})
    rows.write_parquet(out)

    n = rows.height
    positives = int(rows.get_column("label").sum())
    censored = int(rows.get_column("censored").sum())
    labelled_pos = int(rows.filter(pl.col("censored") == 0).get_column("label").sum())
    print(json.dumps({
        "engine": "polars", "version": pl.__version__, "rows": n, "positives": positives, "censored": censored,
        "label_rate": labelled_pos / (n - censored) if n > censored else 0, "columns": rows.width,
        "seconds": time.perf_counter() - started, "skipped": SKIPPED_RULES,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
