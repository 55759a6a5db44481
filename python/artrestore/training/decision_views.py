"""Adding a per-view-count calibration to a shipped decision (training only; scikit-learn needed).

In: a decision folder (None: the bundled one), the one-view training outcome CSV(s) it was fitted
on, and {views: CSV} of the same rows with the U-Net's columns measured averaging that many views
(``artrestore routing outcomes --views N --from CSV``). Out: a copy of the decision with, per view
count, a gain forest, time models and margins and costs fitted by ``decision_fit.fit_decision``
with the hyperparameters the decision records; its own forests, margins and costs are kept byte
for byte (checked: the one-view gains and severity probabilities are identical), so a severity
forest refitted apart (``severity_fit``) stays. The command is ``artrestore routing decision --onto``.
"""
from __future__ import annotations

import pathlib
import shutil
import tempfile

import numpy as np

from artrestore._modelfile import model_folder, read_metadata
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import BUNDLED_DECISION, FORMAT, LearnedDecision, save_decision, view_forest
from artrestore.training.decision_fit import REPEATS, fit_decision
from artrestore.training.routing_outcomes import read_outcomes

__all__ = ["add_views"]


def add_views(decision_folder, outcome_csvs, view_outcomes: dict, out_folder, *, repeats: int = REPEATS) -> pathlib.Path:
    """A copy of the decision in ``decision_folder`` (None: bundled) with per-view calibrations
    added (``view_outcomes``, as in ``fit_decision``; ``outcome_csvs``: the one-view outcomes it
    was fitted on). Its own forests, margins and costs are kept unchanged (a decision whose
    severity forest was refitted apart, ``severity_fit``, keeps it); the new parts are fitted by
    ``fit_decision`` with the hyperparameters the decision records. Returns the new folder."""
    source = model_folder(decision_folder, BUNDLED_DECISION)
    old = LearnedDecision.load(source)
    metadata = read_metadata(source, FORMAT, "decision")
    hyper, calibration = metadata["hyperparameters"], metadata["calibration"]
    with tempfile.TemporaryDirectory() as tmp:
        fitted = fit_decision(outcome_csvs, pathlib.Path(tmp) / "fit", seed=int(hyper["random_state"]),
                              n_estimators=int(hyper["n_estimators"]), min_samples_leaf=int(hyper["min_samples_leaf"]),
                              balanced_time_fraction=float(calibration["balanced_time_fraction"]),
                              speed_time_fraction=float(calibration["speed_time_fraction"]),
                              gpu_speedup=float(metadata["gpu_speedup"]), repeats=repeats,
                              view_outcomes=view_outcomes, copy_outcomes=False,
                              one_view_rule={"margin_db": old.margins, "cost_db_per_s": old.costs})
        new_meta = read_metadata(fitted, FORMAT, "decision")
        views = new_meta["views"]
        prefixes = tuple(f"{view_forest(int(v))}_" for v in views)
        with np.load(fitted / "decision.npz", allow_pickle=False) as npz:
            view_arrays = {name: npz[name] for name in npz.files if name.startswith(prefixes)}
    with np.load(source / "decision.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(view_arrays)
    metadata = {**metadata, "views": {**metadata.get("views", {}), **views}}
    metadata.pop("arrays_sha256", None)
    folder = save_decision(out_folder, arrays, metadata)
    csvs = [outcome_csvs] if isinstance(outcome_csvs, (str, pathlib.Path)) else list(outcome_csvs)
    for p in [*map(pathlib.Path, [*csvs, *view_outcomes.values()]), *source.glob("outcomes_*.csv")]:
        if not (folder / p.name).exists():
            shutil.copyfile(p, folder / p.name)
    new = LearnedDecision.load(folder)
    x = np.array([[r[f"f_{n}"] for p in csvs for r in read_outcomes(p)] for n in ROUTING_FEATURE_NAMES], np.float32).T
    np.testing.assert_array_equal(new.predict_gains(x), old.predict_gains(x))
    np.testing.assert_array_equal(new.predict_severity_proba(x), old.predict_severity_proba(x))
    if old.predict_clean_proba(x) is not None:  # the clean guard travels unchanged
        np.testing.assert_array_equal(new.predict_clean_proba(x), old.predict_clean_proba(x))
    return folder
