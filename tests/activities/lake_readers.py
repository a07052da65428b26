"""Reads a file:// lake the way other engines do, for tests/activities/lake-readers.test.ts.

- pyarrow's dataset API with Hive partitioning, one dataset per table of raw/, curated/ and
  rejects/, and one per feature dataset version (its `*.parquet` shards);
- a `**/*.parquet` glob from the lake root that, like polars' and DuckDB's, also matches names
  starting with a dot (Python's glob skips them unless asked), each match read as Parquet.

Prints one JSON object: {"datasets": {path: {"rows", "columns"}}, "globbed": {path: rows},
"unreadable": {path: error}}, paths relative to the lake root. Never raises on a bad file: the
test wants every failure named.
"""
import glob
import json
import os
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def visible_dirs(path):
    if not os.path.isdir(path):
        return []
    return sorted(os.path.join(path, n) for n in os.listdir(path) if not n.startswith(".") and os.path.isdir(os.path.join(path, n)))


def main(root):
    datasets, unreadable = {}, {}

    def read_dataset(name, source):
        try:
            table = ds.dataset(source, format="parquet", partitioning="hive").to_table()
            datasets[name] = {"rows": table.num_rows, "columns": table.column_names}
        except Exception as err:  # noqa: BLE001 - every failure is reported, not raised
            unreadable[name] = f"{type(err).__name__}: {err}"

    for zone in ("raw", "curated", "rejects"):
        for table_dir in visible_dirs(os.path.join(root, zone)):
            read_dataset(os.path.relpath(table_dir, root), table_dir)
    # A version folder also holds plan.json, manifest.json and each shard's .stats.json, so a
    # reader points at its shards, as Spark would with features/<dataset>/<version>/*.parquet.
    for dataset_dir in visible_dirs(os.path.join(root, "features")):
        for version_dir in visible_dirs(dataset_dir):
            shards = sorted(glob.glob(os.path.join(version_dir, "*.parquet")))
            read_dataset(os.path.relpath(version_dir, root), shards)

    globbed = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True, include_hidden=True)):
        name = os.path.relpath(path, root)
        try:
            globbed[name] = pq.read_table(path).num_rows
        except Exception as err:  # noqa: BLE001
            unreadable[name] = f"{type(err).__name__}: {err}"

    json.dump({"datasets": datasets, "globbed": globbed, "unreadable": unreadable}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
