"""training.decision_graft: the fitted decision's gains, the donor's severity and clean guard."""
import json

import numpy as np

from artrestore.decision import BUNDLED_DECISION, LearnedDecision, save_decision
from artrestore.training.decision_graft import graft


def _bundled():
    metadata = json.loads((BUNDLED_DECISION / "model_metadata.json").read_text())
    with np.load(BUNDLED_DECISION / "decision.npz") as data:
        return {k: data[k] for k in data.files}, {k: v for k, v in metadata.items() if k != "arrays_sha256"}


def test_graft_keeps_the_fitted_gains_and_the_donors_severity_and_guard(tmp_path):
    arrays, metadata = _bundled()
    # A "refitted" decision: gains doubled, severity probabilities reversed, no clean guard.
    fitted = {k: v for k, v in arrays.items() if not k.startswith("clean_")}
    fitted["gain_value"] = arrays["gain_value"] * 2
    fitted["severity_value"] = arrays["severity_value"][..., ::-1].copy()
    save_decision(tmp_path / "fitted", fitted, {k: v for k, v in metadata.items() if k != "clean_guard"})
    out = graft(tmp_path / "fitted", "bundled", tmp_path / "out")

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(16, len(metadata["feature_names"]))).astype(np.float32)
    bundled, refit, grafted = LearnedDecision.load(), LearnedDecision.load(tmp_path / "fitted"), LearnedDecision.load(out)
    assert np.allclose(grafted.predict_gains(vectors), refit.predict_gains(vectors))
    assert np.allclose(grafted.predict_gains(vectors), 2 * bundled.predict_gains(vectors), atol=1e-5)
    assert np.allclose(grafted.predict_severity_proba(vectors), bundled.predict_severity_proba(vectors))
    assert not np.allclose(refit.predict_severity_proba(vectors), bundled.predict_severity_proba(vectors))
    assert refit.predict_clean_proba(vectors) is None
    assert np.allclose(grafted.predict_clean_proba(vectors), bundled.predict_clean_proba(vectors))
    assert json.loads((out / "model_metadata.json").read_text())["grafted"]["forests"] == ["severity", "clean"]
