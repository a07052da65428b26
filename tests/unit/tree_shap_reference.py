"""The reference for serving/tree-shap.ts: the `shap` package's TreeExplainer, path-dependent.

Reads a JSON file (argv[1]) holding one of our forests exported tree by tree in shap's dict form
(children_left/right/default, features, thresholds ("Infinity" as a string), values, node_sample_weight; values already
divided by the tree count for a random forest), its base_offset and the rows to explain (null for a
missing value). Prints {"expected_value": e, "contributions": [[...], ...]} as JSON.

Tests only: nothing of the product depends on Python.
"""
import json
import sys

import numpy as np
import shap


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    trees = []
    for t in spec["trees"]:
        trees.append({
            "children_left": np.array(t["children_left"], dtype=np.int32),
            "children_right": np.array(t["children_right"], dtype=np.int32),
            "children_default": np.array(t["children_default"], dtype=np.int32),
            "features": np.array(t["features"], dtype=np.int32),
            # float() reads "Infinity": the threshold of a split of missing against present values.
            "thresholds": np.array([float(v) for v in t["thresholds"]], dtype=np.float64),
            "values": np.array(t["values"], dtype=np.float64).reshape(-1, 1),
            "node_sample_weight": np.array(t["node_sample_weight"], dtype=np.float64),
        })
    model = {"trees": trees, "base_offset": spec["base_offset"], "input_dtype": np.float64, "internal_dtype": np.float64}
    x = np.array([[np.nan if v is None else v for v in row] for row in spec["rows"]], dtype=np.float64)
    explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    phi = explainer.shap_values(x, check_additivity=False)
    expected = float(np.ravel(explainer.expected_value)[0])
    json.dump({"expected_value": expected, "contributions": np.asarray(phi).reshape(len(x), -1).tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
