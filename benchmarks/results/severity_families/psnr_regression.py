"""Severity read from a regression of input PSNR (docs/routing.md, "Severity from a regression of
input PSNR?"): run from the repository root after benchmarks/results/severity_families/collect.sh
(its rows in work/sev7/). Writes psnr_regression.json beside this file."""
import json
import pathlib

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GroupKFold

CAP = 50.0
FOREST = dict(n_estimators=100, min_samples_leaf=4, max_features=0.5, random_state=0, n_jobs=2)


def load(*names):
    parts = [np.load(f"work/sev7/{n}.npz") for n in names]
    offset, out = 0, {"x": [], "level": [], "psnr": [], "group": []}
    for p in parts:
        out["x"].append(p["x"])
        out["level"].append(p["level"])
        out["psnr"].append(np.minimum(p["input_psnr"], CAP))
        out["group"].append(p["source"] + offset)
        offset += int(p["source"].max()) + 1
    return {k: np.concatenate(v) for k, v in out.items()}


def levels(psnr, cuts):
    hi, lo = cuts  # light above hi, severe below lo
    return np.where(psnr >= hi, 0, np.where(psnr >= lo, 1, 2))


def best_cuts(psnr, level):
    grid = np.arange(10.0, 35.0, 0.25)
    best = (-1.0, None)
    for lo in grid:
        for hi in grid[grid > lo]:
            acc = float((levels(psnr, (hi, lo)) == level).mean())
            if acc > best[0]:
                best = (acc, (float(hi), float(lo)))
    return best[1]


def out_of_fold(rows):
    pred = np.empty_like(rows["psnr"])
    for tr, te in GroupKFold(5).split(rows["x"], groups=rows["group"]):
        pred[te] = RandomForestRegressor(**FOREST).fit(rows["x"][tr], rows["psnr"][tr]).predict(rows["x"][te])
    return pred


def main():
    val = {"broad": load("val_broad"), "proxy": load("val_proxy")}
    report = {}
    for name, parts in (("R-A", ("rows_A",)), ("R-B", ("rows_A", "rows_mix"))):
        rows = load(*parts)
        oof = out_of_fold(rows)
        cuts = best_cuts(oof, rows["level"])
        model = RandomForestRegressor(**FOREST).fit(rows["x"], rows["psnr"])
        entry = {"rows": int(len(rows["psnr"])), "cuts_db": cuts,
                 "out_of_fold_accuracy": float((levels(oof, cuts) == rows["level"]).mean()),
                 "out_of_fold_psnr_mae_db": float(np.abs(oof - rows["psnr"]).mean())}
        for fam, v in val.items():
            p = model.predict(v["x"])
            entry[fam] = {"accuracy": float((levels(p, cuts) == v["level"]).mean()),
                          "per_level": [float((levels(p, cuts)[v["level"] == k] == k).mean()) for k in range(3)],
                          "psnr_mae_db": float(np.abs(p - v["psnr"]).mean()),
                          "true_psnr_accuracy": float((levels(v["psnr"], cuts) == v["level"]).mean())}
        report[name] = entry
        print(name, json.dumps(entry), flush=True)
    pathlib.Path(__file__).with_name("psnr_regression.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
