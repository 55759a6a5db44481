"""benchmarks/decision_on_outcomes.py: every path's and the oracle's means against NumPy, and the
replayed decision against the runtime rule (``LearnedDecision.decide``) row by row."""
import pathlib
import sys

import numpy as np
import pytest

from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import BUNDLED_DECISION, PREFERENCES, LearnedDecision
from artrestore.training.routing_outcomes import read_outcomes, write_outcomes

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import decision_on_outcomes  # noqa: E402

PATHS = ("classical", "ml_guided", "deep_learning")
# Features on the scale the bundled forests split on: the first rows it was fitted on, jittered below.
TRAINING_FEATURES = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES]
                              for r in read_outcomes(BUNDLED_DECISION / "outcomes_train.csv")[:24]])


def _rows(family="broad", n=24, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        severity = ("light", "moderate", "severe", "clean")[i % 4]
        row = {"source": f"s{i // 4}", "family": family, "severity": severity, "seed": 0, "height": 300,
               "width": 400, **{f"f_{name}": float(v) for name, v in zip(ROUTING_FEATURE_NAMES,
                                                                          TRAINING_FEATURES[i % len(TRAINING_FEATURES)]
                                                                          * rng.uniform(0.9, 1.1, 27))},
               "psnr_none": 20.0, "ssim_none": 0.5, "ms_none": 1.0}
        for path in PATHS:
            row.update({f"psnr_{path}": 20 + float(rng.normal(0, 2)), f"ssim_{path}": 0.5,
                        f"ms_{path}": float(rng.uniform(2, 90))})
        rows.append(row)
    assert list(LearnedDecision.load().paths) == list(PATHS)
    return rows


def test_paths_oracle_and_the_replayed_decision(tmp_path):
    rows = _rows()
    write_outcomes(tmp_path / "o.csv", rows)
    result = decision_on_outcomes.evaluate(tmp_path / "o.csv", ["bundled"])
    rows = read_outcomes(tmp_path / "o.csv")
    gains = np.array([[r[f"psnr_{p}"] - r["psnr_none"] for p in PATHS] for r in rows])
    severity = np.array([r["severity"] for r in rows])
    for j, path in enumerate(PATHS):
        for level in ("light", "moderate", "severe"):
            assert result["paths"][path][level] == pytest.approx(gains[severity == level, j].mean(), abs=1e-3)
    damaged = severity != "clean"
    assert result["oracle"]["all_damaged"] == pytest.approx(np.maximum(gains.max(1), 0)[damaged].mean(), abs=1e-3)
    decision = LearnedDecision.load()
    for prefer in PREFERENCES:
        chosen = [decision.decide(np.array([r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES]), r["height"] * r["width"],
                                  prefer=prefer).path for r in rows]
        want = [0.0 if c == "none" else gains[i, PATHS.index(c)] for i, c in enumerate(chosen)]
        assert result["decisions"]["bundled"][prefer]["all_damaged"] == pytest.approx(
            np.mean(np.array(want)[damaged]), abs=1e-3)


def test_check_family_rows_are_refused(tmp_path):
    write_outcomes(tmp_path / "o.csv", _rows(family="check"))
    with pytest.raises(ValueError, match="check family is for the report"):
        decision_on_outcomes.evaluate(tmp_path / "o.csv", ["bundled"])


def test_proxy_family_rows_are_replayed(tmp_path):
    write_outcomes(tmp_path / "o.csv", _rows(family="proxy"))
    assert decision_on_outcomes.evaluate(tmp_path / "o.csv", ["bundled"])["rows"] > 0
