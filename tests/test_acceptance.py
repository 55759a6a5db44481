"""The check after the U-Net: change features against NumPy references, safe model files, the
restorer's fallback, the replay in the routing report and the fitting on outcome tables."""
import json
import math

import cv2
import numpy as np
import pytest

from artrestore import HybridRestorer
from artrestore.acceptance import (
    CHANGE_FEATURE_NAMES,
    CHANGE_SIDE,
    FALLBACK_PATH,
    Acceptance,
    change_features,
    load_acceptance,
    save_acceptance,
)
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import Decision

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import RandomForestRegressor  # noqa: E402

N_ALL = len(ROUTING_FEATURE_NAMES) + len(CHANGE_FEATURE_NAMES)
F = {name: i for i, name in enumerate(CHANGE_FEATURE_NAMES)}


def _photo(astronaut):
    return np.ascontiguousarray(astronaut[::2, ::2] // 2 + 40)  # 256 px, room for shifts both ways


def test_an_unchanged_image_has_no_change(astronaut):
    image = _photo(astronaut)
    f = change_features(image, image.copy())
    assert f.shape == (len(CHANGE_FEATURE_NAMES),) and f.dtype == np.float64
    zero = [n for n in CHANGE_FEATURE_NAMES if n not in ("contrast_ratio",)]
    assert np.abs(f[[F[n] for n in zero]]).max() == 0
    assert f[F["contrast_ratio"]] == pytest.approx(1.0)


def test_a_channel_shift_is_measured_in_that_channel(astronaut):
    image = _photo(astronaut)
    shifted = image.copy()
    shifted[..., 0] += 20  # no overflow: values are at most 167
    f = change_features(image, shifted)
    assert f[F["shift_r"]] == pytest.approx(20 / 255, abs=1e-4)  # float32 means
    assert f[F["shift_g"]] == 0 and f[F["shift_b"]] == 0 and f[F["max_shift"]] == pytest.approx(20 / 255, abs=1e-4)
    # Luma moves by 0.299 x 20 levels everywhere (OpenCV's RGB -> grey weights), i.e. about 6 levels.
    assert f[F["mean_abs_luma"]] == pytest.approx(0.299 * 20 / 255, abs=2e-3)
    assert f[F["changed_share"]] == 0  # under the 8-level visibility floor


def test_a_blur_removes_high_frequencies_against_the_input(astronaut):
    image = _photo(astronaut)
    blurred = cv2.GaussianBlur(image, (0, 0), 2)
    f = change_features(image, blurred)
    x = cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2GRAY)
    y = cv2.cvtColor(blurred.astype(np.float32) / 255, cv2.COLOR_RGB2GRAY)
    hx, hy = x - cv2.GaussianBlur(x, (0, 0), 1.5), y - cv2.GaussianBlur(y, (0, 0), 1.5)
    assert f[F["hf_log_ratio"]] == pytest.approx(np.log((hy ** 2).mean() + 1e-8) - np.log((hx ** 2).mean() + 1e-8),
                                                 rel=1e-4)
    assert f[F["hf_log_ratio"]] < -1 and f[F["corr_hf"]] < -0.5  # the change is minus the input's detail
    assert f[F["p99_abs_luma"]] == pytest.approx(np.percentile(np.abs(y - x), 99), rel=1e-4)


def test_large_images_are_measured_at_the_fixed_side(astronaut):
    big = np.ascontiguousarray(np.concatenate([astronaut, astronaut[:, :256]], axis=1))  # 512 x 768
    changed = cv2.GaussianBlur(big, (0, 0), 1)
    small_size = (CHANGE_SIDE, round(512 * CHANGE_SIDE / 768))
    shrink = lambda im: cv2.resize(im, small_size, interpolation=cv2.INTER_AREA)  # noqa: E731
    np.testing.assert_allclose(change_features(big, changed), change_features(shrink(big), shrink(changed)))


def test_mismatched_or_malformed_inputs_are_refused(astronaut):
    image = _photo(astronaut)
    with pytest.raises(ValueError, match="one shape"):
        change_features(image, image[:-1])
    with pytest.raises(ValueError):
        change_features(image[..., 0:2], image[..., 0:2])


def _forest(target, seed=0, n=200):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_ALL))
    y = target(x)
    return RandomForestRegressor(n_estimators=8, random_state=seed).fit(x, y), x


def test_a_saved_check_predicts_what_scikit_learn_predicts(tmp_path):
    forest, x = _forest(lambda x: 2 * x[:, -1] - x[:, 0])
    folder = save_acceptance(tmp_path / "acc", forest, {"margin_db": 0.25})
    check = Acceptance.load(folder)
    want = forest.predict(x[:20].astype(np.float32))
    got = [check.predict(row[:len(ROUTING_FEATURE_NAMES)], row[len(ROUTING_FEATURE_NAMES):]) for row in x[:20]]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert check.margin_db == 0.25 and check.accepts(0.3) and not check.accepts(0.25)
    with pytest.raises(ValueError, match="change features"):
        check.predict(x[0, :len(ROUTING_FEATURE_NAMES)], x[0, :3])
    assert load_acceptance(tmp_path / "nothing_here") is None


def test_tampered_or_foreign_check_files_are_refused(tmp_path):
    forest, _ = _forest(lambda x: x[:, 0])
    folder = save_acceptance(tmp_path / "acc", forest, {"margin_db": 0.0})
    raw = bytearray((folder / "acceptance.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (folder / "acceptance.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError):
        Acceptance.load(folder)
    folder = save_acceptance(tmp_path / "acc2", forest, {"margin_db": 0.0})
    meta = json.loads((folder / "model_metadata.json").read_text())
    meta["feature_names"] = meta["feature_names"][::-1]
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other features"):
        Acceptance.load(folder)


class Repaint:
    """A stand-in U-Net backend that shifts every channel."""

    def restore(self, image):
        return np.clip(image.astype(np.int16) + 25, 0, 255).astype(np.uint8)


def _restorer_routing_to_unet(folder):
    r = HybridRestorer(use_dl=True, acceptance_path=folder)
    r._dl = Repaint()
    decide = r.decider.decide

    def to_unet(*args, **kwargs):
        d = decide(*args, **kwargs)
        return Decision(severity=d.severity, path="deep_learning", gains_db=d.gains_db, seconds=d.seconds,
                        utility=d.utility, severity_probability=d.severity_probability)
    r.decider.decide = to_unet
    return r


@pytest.mark.parametrize("constant,kept", [(-5.0, False), (5.0, True)])
def test_auto_falls_back_to_the_fast_path_when_the_check_says_so(tmp_path, astronaut, constant, kept):
    forest, _ = _forest(lambda x: np.full(len(x), constant))
    folder = save_acceptance(tmp_path / "acc", forest, {"margin_db": 0.0})
    r = _restorer_routing_to_unet(folder)
    image = _photo(astronaut)
    restored, info = r.restore(image, "auto")
    assert info["acceptance"] == {"predicted_gain_db": constant, "margin_db": 0.0, "kept": kept}
    fast, _ = r.restore(image, FALLBACK_PATH)
    if kept:
        assert info["method"] == "deep_learning" and not np.array_equal(restored, fast)
    else:
        assert info["method"] == FALLBACK_PATH and np.array_equal(restored, fast)
    # An explicit U-Net request is never second-guessed.
    _, explicit = r.restore(image, "deep_learning")
    assert explicit["method"] == "deep_learning" and "acceptance" not in explicit


def test_no_check_without_the_learned_decision_or_when_turned_off(tmp_path):
    forest, _ = _forest(lambda x: np.full(len(x), -5.0))
    folder = save_acceptance(tmp_path / "acc", forest, {"margin_db": 0.0})
    assert HybridRestorer(decision="rule", acceptance_path=folder).acceptance is None
    assert HybridRestorer(check_unet=False, acceptance_path=folder).acceptance is None


def _outcome_rows(n_sources=24, seed=0):
    """Outcome rows where the U-Net beats the fallback unless it shifted the colours (c_max_shift)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sources):
        for severity in ("light", "moderate", "severe", "clean"):
            f = rng.normal(size=len(ROUTING_FEATURE_NAMES))
            c = rng.normal(size=len(CHANGE_FEATURE_NAMES))
            c[F["max_shift"]] = rng.uniform(0, 1)
            harm = c[F["max_shift"]] > 0.5
            none = 25.0
            row = {"source": f"img{s}", "family": "broad", "severity": severity, "seed": 0, "height": 300,
                   "width": 400, **{f"f_{k}": float(v) for k, v in zip(ROUTING_FEATURE_NAMES, f)},
                   **{f"c_{k}": float(v) for k, v in zip(CHANGE_FEATURE_NAMES, c)},
                   "psnr_none": none, "psnr_ml_guided": none + 0.5, "psnr_classical": none,
                   "psnr_deep_learning": none + (-3.0 if harm else 3.0)}
            for p in ("none", "ml_guided", "classical", "deep_learning"):
                row.update({f"ssim_{p}": 0.8, f"ms_{p}": 10.0, f"method_{p}": p})
            rows.append(row)
    return rows


def test_fitting_learns_the_harm_and_the_replay_applies_it(tmp_path, monkeypatch):
    import artrestore.training.acceptance_fit as fit
    from artrestore.training.routing_report import check_unet
    from test_decision import write_rows

    rows = _outcome_rows()
    table = write_rows(tmp_path / "outcomes.csv", rows)
    # Route every row to the U-Net, so every row is calibrated on.
    monkeypatch.setattr(fit, "replay", lambda rows, decision: ["deep_learning"] * len(rows))
    monkeypatch.setattr(fit, "REPEATS", 1)
    folder = fit.fit_acceptance([table], tmp_path / "acc")
    check = Acceptance.load(folder)
    meta = check.metadata
    assert math.isfinite(meta["margin_db"]) and meta["margin_db"] in fit.MARGINS_DB
    by_margin = meta["calibration"]["by_margin"]
    # Never keeping the U-Net realises the fallback's +0.5 dB, always keeping it the U-Net's mean.
    assert by_margin["inf"]["by_level"]["light"] == pytest.approx(0.5)
    harm = np.array([r["c_max_shift"] > 0.5 for r in rows])
    assert by_margin["-inf"]["mean_over_levels"] == pytest.approx(np.mean(np.where(harm, -3.0, 3.0)), abs=0.5)
    chosen = by_margin[repr(meta["margin_db"])]["mean_over_levels"]
    assert chosen > by_margin["inf"]["mean_over_levels"] and chosen > by_margin["-inf"]["mean_over_levels"]
    # The replay sends the U-Net's harmful rows (colour shifted) back to the fast path.
    fresh = _outcome_rows(n_sources=8, seed=1)
    paths, rejected = check_unet(fresh, ["deep_learning"] * len(fresh), check)
    fresh_harm = np.array([r["c_max_shift"] > 0.5 for r in fresh])
    assert np.mean(rejected == fresh_harm) > 0.8
    assert all(p == (FALLBACK_PATH if k else "deep_learning") for p, k in zip(paths, rejected))


def test_fitting_refuses_the_check_family_and_rows_without_change_features(tmp_path):
    from artrestore.training.acceptance_fit import fit_acceptance
    from test_decision import write_rows

    rows = _outcome_rows(n_sources=2)
    with pytest.raises(ValueError, match="training family only"):
        fit_acceptance([write_rows(tmp_path / "check.csv", [{**r, "family": "check"} for r in rows])], tmp_path / "a")
    bare = [{k: v for k, v in r.items() if not k.startswith("c_")} for r in rows]
    with pytest.raises(ValueError, match="change features"):
        fit_acceptance([write_rows(tmp_path / "bare.csv", bare)], tmp_path / "b")
