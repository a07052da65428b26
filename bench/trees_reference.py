"""Reference learners for `npm run bench -- --only trees` (bench/trees.ts): scikit-learn's
HistGradientBoostingClassifier and RandomForestClassifier and LightGBM, on the same rows and
split as carepipe's learners, single-threaded. Benchmark only: nothing in the product uses Python.

  python3 bench/trees_reference.py DIR LEARNER

DIR holds x_train.f64 / y_train.u8 / x_test.f64 / y_test.u8 (row-major, little-endian) and
meta.json ({"d": ...}); the test predictions go to DIR/pred-LEARNER.f64 and one JSON line of
timings to stdout. ROC AUC is computed by the caller, with the same code for every learner.
"""
import json
import os
import sys
import time

# One thread everywhere (set before numpy and the learners load their thread pools).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402


def peak_rss_mib() -> float:
    """VmHWM: this process's own peak (getrusage's maxrss would include the parent's, inherited at fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    directory, learner = sys.argv[1], sys.argv[2]
    d = json.load(open(os.path.join(directory, "meta.json")))["d"]
    load = lambda name, dtype: np.fromfile(os.path.join(directory, name), dtype=dtype)  # noqa: E731
    x_train = load("x_train.f64", "<f8").reshape(-1, d)
    y_train = load("y_train.u8", np.uint8)
    x_test = load("x_test.f64", "<f8").reshape(-1, d)
    if learner == "sklearn-hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        model = HistGradientBoostingClassifier(random_state=0)  # defaults: 100 iterations, 31 leaves, early stopping above 10,000 rows
    elif learner == "sklearn-rf":
        from sklearn.ensemble import RandomForestClassifier
        model = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0)
    elif learner == "lightgbm":
        import lightgbm
        model = lightgbm.LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1, n_jobs=1, verbose=-1, random_state=0)
    else:
        raise SystemExit(f"unknown learner {learner}")
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x_train, y_train)
    train_seconds, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scores = model.predict_proba(x_test)[:, 1]
        best = min(best, time.perf_counter() - start)
    scores.astype("<f8").tofile(os.path.join(directory, f"pred-{learner}.f64"))
    print(json.dumps({
        "trainSeconds": train_seconds, "trainCpuSeconds": train_cpu, "predictSeconds": best,
        "peakRssMiB": peak_rss_mib(),
        "trees": int(getattr(model, "n_iter_", 0) or getattr(model, "n_estimators", 0)),
    }))


if __name__ == "__main__":
    main()
