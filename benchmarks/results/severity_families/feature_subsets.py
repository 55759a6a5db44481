"""Severity forests on feature subsets (docs/routing.md, "A forest on fewer features?"): run from the
repository root after benchmarks/results/severity_families/collect.sh (its rows in work/sev7/)."""
import json

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from artrestore.analysis import FEATURE_NAMES

A = np.load("work/sev7/rows_A.npz")
vb = np.load("work/sev7/val_broad.npz")
vp = np.load("work/sev7/val_proxy.npz")
n14 = len(FEATURE_NAMES)
subsets = {"all_27": list(range(27)), "damage_13": list(range(n14, 27)), "fft_14": list(range(n14))}
out = {}
for name, cols in subsets.items():
    f = RandomForestClassifier(n_estimators=100, min_samples_leaf=4, max_features=0.5, random_state=0, n_jobs=2)
    f.fit(A["x"][:, cols], A["level"])
    out[name] = {fam: float((f.predict(v["x"][:, cols]) == v["level"]).mean()) for fam, v in (("broad", vb), ("proxy", vp))}
    print(name, out[name], flush=True)
json.dump(out, open("benchmarks/results/severity_families/feature_subsets.json", "w"), indent=1)
