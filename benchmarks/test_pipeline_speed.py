"""Routing and whole-pipeline speed beside their peers, measured in the same run.

Run: pytest benchmarks/test_pipeline_speed.py --benchmark-json=out/pipeline.json
then: python benchmarks/report.py out/pipeline.json
"""
import subprocess
import sys

import numpy as np
import pytest

import artrestore
from artrestore.router import Router


@pytest.fixture(scope="module")
def features(photo_at):
    return artrestore.analyze_vector(photo_at(512))


@pytest.fixture(scope="module")
def sklearn_router():
    """The same forest as the bundled router, refitted with scikit-learn (the peer)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from artrestore.router import BUNDLED_ROUTER
    from artrestore.training import router_fit

    router = Router.load()
    x, y, _ = router_fit._read_training_table(BUNDLED_ROUTER / "regression_training_data.csv")
    hp = router.metadata["hyperparameters"]
    model = make_pipeline(StandardScaler(), RandomForestRegressor(n_jobs=1, **hp)).fit(x, y)
    np.testing.assert_allclose(router.predict_raw(x), model.predict(x), rtol=1e-12)
    return model


def test_route_one_image_artrestore(benchmark, features):
    benchmark.group = "route one image (100 trees)"
    router = Router.load()
    benchmark(router.predict, features)


def test_route_one_image_sklearn_peer(benchmark, features, sklearn_router):
    benchmark.group = "route one image (100 trees)"
    benchmark(sklearn_router.predict, features[None].astype(np.float64))


def light_image(photo_at, size):
    from artrestore.training.synthesis import synthesize_damage

    return synthesize_damage(photo_at(size), "light", seed=0)[0]


def test_auto_light_1024_artrestore(benchmark, photo_at):
    """analysis + routing + classical restore of a light-damage 1024^2 image, in process."""
    benchmark.group = "auto restore 1024^2 light damage"
    restorer = artrestore.HybridRestorer(use_dl=False)
    image = light_image(photo_at, 1024)
    assert restorer.restore(image)[1]["method"] != "deep_learning"
    benchmark(restorer.restore, image)


def test_auto_light_1024_opencv_numpy_peer(benchmark, photo_at):
    """The same steps written with scipy.fft, scikit-learn and OpenCV (the seed's stack)."""
    benchmark.group = "auto restore 1024^2 light damage"
    import cv2
    from sklearn.ensemble import RandomForestRegressor

    from test_core_speed import opencv_color_correct, scipy_features

    image = light_image(photo_at, 1024)
    rng = np.random.default_rng(0)
    forest = RandomForestRegressor(n_estimators=100, max_depth=10, random_state=0).fit(
        rng.normal(size=(200, 12)), rng.normal(size=(200, 3)))

    def run():
        f = scipy_features(image)
        sigma, strength = 1.0, 1.0
        forest.predict(f[None])
        corrected = opencv_color_correct(image)
        return cv2.addWeighted(corrected, 1 + strength, cv2.GaussianBlur(corrected, (0, 0), sigma), -strength, 0)

    benchmark(run)


def test_import_time(benchmark):
    benchmark.group = "fresh process"
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-c", "import artrestore"], check=True),
                       rounds=5, iterations=1)
    benchmark.extra_info["note"] = "includes interpreter start-up"


def test_cli_restore_1024_light_fresh_process(benchmark, photo_at, tmp_path):
    from artrestore.imageio import write_image

    benchmark.group = "fresh process"
    src = write_image(tmp_path / "light.png", light_image(photo_at, 1024))
    cmd = [sys.executable, "-m", "artrestore.cli", "restore", "-i", str(src), "-o", str(tmp_path / "out"),
           "--overwrite"]
    benchmark.pedantic(lambda: subprocess.run(cmd, check=True, capture_output=True), rounds=5, iterations=1)
