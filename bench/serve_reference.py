"""The serving benchmark's reference: FastAPI on uvicorn serving the same model versions as
carepipe serve (bench/serve.ts exports them): the same preprocessing pipeline (median imputation,
missing indicators, standardisation, one-hot with an unknown slot), then the same logistic
regression coefficients (a NumPy dot product) or the same gradient-boosted trees (walked level by
level over all rows at once with NumPy: a vectorised predictor). One process, access log off.

    python3 serve_reference.py <models.json> <port>
"""
import json
import math
import sys
from typing import Optional, Union

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel


class Instance(BaseModel):
    features: dict[str, Optional[Union[float, str]]]


class PredictBody(BaseModel):
    instances: list[Instance]
    contributions: bool = False


def transformer(pipeline):
    steps = pipeline["steps"]
    width = pipeline["width"]
    names = {s["name"] for s in steps}

    def transform(records):
        n = len(records)
        out = np.zeros((n, width))
        for r in records:
            for k in r:
                if k not in names:
                    raise HTTPException(status_code=400, detail=f"unknown feature {k}")
        col = 0
        for s in steps:
            name = s["name"]
            if s["kind"] == "numeric":
                v = np.array([r.get(name) if isinstance(r.get(name), (int, float)) else np.nan for r in records], dtype=float)
                missing = np.isnan(v)
                out[:, col] = (np.where(missing, s["median"], v) - s["mean"]) / s["std"]
                if s["missingIndicator"]:
                    out[:, col + 1] = missing
                    col += 2
                else:
                    col += 1
            else:
                index = {c: i for i, c in enumerate(s["vocabulary"])}
                unknown = len(s["vocabulary"])
                for i, r in enumerate(records):
                    value = r.get(name)
                    out[i, col + index.get("__missing__" if value is None else value, unknown)] = 1
                col += unknown + 1
        return out

    return transform


def logreg_predictor(m):
    coef = np.array(m["coef"])
    intercept = m["intercept"]
    return lambda x: 1 / (1 + np.exp(-(x @ coef + intercept)))


def forest_predictor(f):
    start = np.array(f["treeStart"], dtype=np.int64)
    feature = np.array(f["feature"], dtype=np.int64)
    threshold = np.array(f["threshold"])
    left = np.array(f["left"], dtype=np.int64)
    missing_left = np.array(f["missingLeft"], dtype=bool)
    value = np.array(f["value"])
    trees = len(start) - 1

    def predict(x):
        n = x.shape[0]
        rows = np.arange(n)
        total = np.zeros(n)
        for t in range(trees):
            node = np.full(n, start[t])
            while True:
                l = left[node]
                inner = l >= 0
                if not inner.any():
                    break
                v = x[rows, feature[node]]
                go_left = (v <= threshold[node]) | (np.isnan(v) & missing_left[node])
                node = np.where(inner, start[t] + l + np.where(go_left, 0, 1), node)
            total += value[node]
        if f["kind"] == "gbdt":
            return 1 / (1 + np.exp(-(f["baseScore"] + total)))
        return total / max(trees, 1)

    return predict


def main():
    models = json.load(open(sys.argv[1]))
    served = {}
    for m in models:
        transform = transformer(m["pipeline"])
        predict = logreg_predictor(m["logreg"]) if m["family"] == "logreg" else forest_predictor(m["forest"])
        served[m["version"]] = (transform, predict, m)
    app = FastAPI()

    @app.post("/v1/models/{name}/versions/{version}:predict")
    def predict(name: str, version: str, body: PredictBody):
        if version not in served:
            raise HTTPException(status_code=404, detail="no such version")
        transform, predictor, m = served[version]
        if len(body.instances) > 1000:
            raise HTTPException(status_code=400, detail="batch too large")
        p = predictor(transform([i.features for i in body.instances]))
        return {"model": name, "version": version, "family": m["family"], "predictions": [{"probability": float(v)} for v in p]}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
