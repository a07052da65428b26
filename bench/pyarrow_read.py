"""Reference for the pipeline benchmarks: pyarrow reading the same Parquet files (rows, seconds).

Benchmarks only: nothing of the product depends on Python. Reads from the S3 server the
benchmark runs, through pyarrow's own S3 filesystem, one thread, as the reference."""
import json, sys, time
import pyarrow.fs as pafs
import pyarrow.parquet as pq

endpoint, bucket, access, secret, prefix = sys.argv[1:6]
s3 = pafs.S3FileSystem(endpoint_override=endpoint, access_key=access, secret_key=secret, scheme="http", region="us-east-1")
files = [f.path for f in s3.get_file_info(pafs.FileSelector(f"{bucket}/{prefix}", recursive=True)) if f.path.endswith(".parquet")]
rows, bad = 0, 0
start = time.perf_counter()
for path in files:
    try:
        rows += pq.read_table(path, filesystem=s3, use_threads=False).num_rows
    except Exception:
        bad += 1
print(json.dumps({"files": len(files), "rows": rows, "unreadable": bad, "seconds": time.perf_counter() - start}))
