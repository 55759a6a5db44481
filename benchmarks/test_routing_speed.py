"""Routing speed (issue 16): the 14 features + 13 damage measures beside the 14 alone, and the learned
decision beside the guide's threshold rule, measured in the same run.

Run: pytest benchmarks/test_routing_speed.py --benchmark-json=out/routing.json
then: python benchmarks/report.py out/routing.json
Targets: analysis (14 + 13) <= 3 ms at 1024^2; routing (the decision on the routing vector, after
analysis) <= 0.1 ms per image.
"""
import numpy as np
import pytest

import reference
from artrestore import _core


@pytest.mark.parametrize("size", [512, 1024, 2048])
def test_routing_analysis_artrestore(benchmark, photo_at, size):
    """14 features + 13 damage measures from one resampling pass."""
    benchmark.group = f"routing analysis {size}^2"
    benchmark(_core.analyze_routing, photo_at(size))


@pytest.mark.parametrize("size", [512, 1024, 2048])
def test_routing_analysis_the_14_alone_peer(benchmark, photo_at, size):
    """The existing analysis (the 14 features only): what the damage measures add to."""
    benchmark.group = f"routing analysis {size}^2"
    benchmark(_core.analyze, photo_at(size))


def test_routing_analysis_numpy_reference_peer(benchmark, photo_at):
    benchmark.group = "routing analysis 1024^2"
    image = photo_at(1024)
    benchmark.pedantic(lambda: (reference.features(image), reference.extra_features(image)), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def decision():
    from artrestore.decision import LearnedDecision

    try:
        return LearnedDecision.load()
    except FileNotFoundError:
        pytest.skip("no bundled decision model (python/artrestore/models/decision)")


def test_decide_learned_artrestore(benchmark, decision, photo_at):
    """Gain forest + severity forest in the core, then the choice rule: one image."""
    benchmark.group = "decision per image"
    vector = _core.analyze_routing(photo_at(1024))
    benchmark(decision.decide, vector, 1024 * 1024)


def test_decide_rule_peer(benchmark, photo_at):
    """The guide's threshold rule on two features: the cheapest possible decision."""
    from artrestore.analysis import FEATURE_NAMES
    from artrestore.router import DecisionEngine

    benchmark.group = "decision per image"
    features = dict(zip(FEATURE_NAMES, map(float, _core.analyze(photo_at(1024)))))
    benchmark(DecisionEngine().decide, features)


def test_decide_sklearn_peer(benchmark, decision, photo_at):
    """Two scikit-learn forests of the same tree counts (fitted on random data: scikit-learn's
    per-call overhead, not the trees, dominates one image)."""
    pytest.importorskip("sklearn")
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    benchmark.group = "decision per image"
    rng = np.random.default_rng(0)
    n_paths = len(decision.paths)
    x = rng.normal(size=(300, 27)).astype(np.float32)
    gain = RandomForestRegressor(n_estimators=decision._gain.n_trees, min_samples_leaf=3, random_state=0)
    gain.fit(x, rng.normal(size=(300, n_paths)))
    severity = RandomForestClassifier(n_estimators=decision._severity.n_trees, min_samples_leaf=2, random_state=0)
    severity.fit(x, rng.integers(0, 3, 300))
    vector = _core.analyze_routing(photo_at(1024)).reshape(1, -1)
    benchmark(lambda: (gain.predict(vector), severity.predict_proba(vector)))


@pytest.mark.parametrize("size", [512, 1024])
def test_unet_check_change_features_artrestore(benchmark, photo_at, size):
    """The check after the U-Net (artrestore.acceptance): its 15 change features of an output against
    its input, measured at a 384 px side whatever the size; the routing analysis above is the peer
    (same image, same group), the U-Net it follows takes about 1 s at 1024^2 on this machine."""
    import cv2

    from artrestore.acceptance import change_features

    benchmark.group = f"routing analysis {size}^2"
    image = photo_at(size)
    after = cv2.GaussianBlur(image, (0, 0), 1.0)
    benchmark(change_features, image, after)
