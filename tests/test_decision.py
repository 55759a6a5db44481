"""The learned decision: fitting on outcome tables, safe loading, the choice rule, and the restorer's use of it."""
import csv
import json

import numpy as np
import pytest

from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import COST_REFERENCE_KEY, NONE, LearnedDecision

sklearn = pytest.importorskip("sklearn")

from artrestore.training.decision_fit import fit_decision, route_table  # noqa: E402

PATHS = ("classical", "deep_learning")
NOISE = ROUTING_FEATURE_NAMES.index("noise_sigma")
BLUR = ROUTING_FEATURE_NAMES.index("blur_exponent")


def synthetic_rows(n=240, seed=0, family="broad"):
    """Outcomes where classical gains with noise, the U-Net with blur (and costs 100x the time),
    and clean rows lose with every path."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        severity = ("light", "moderate", "severe", "clean")[i % 4]
        level = {"light": 0.3, "moderate": 0.6, "severe": 1.0, "clean": 0.0}[severity]
        f = rng.normal(0, 0.1, len(ROUTING_FEATURE_NAMES))
        f[NOISE] = level * rng.uniform(0, 10)
        f[BLUR] = level * rng.uniform(0, 2)
        none = 30 - 10 * level
        gain_classical = 0.4 * f[NOISE] - 1.0 if severity != "clean" else -3.0
        gain_dl = 3.0 * f[BLUR] - 1.0 if severity != "clean" else -5.0
        row = {"source": f"img{i // 4}", "family": family, "severity": severity, "seed": 0, "height": 300,
               "width": 400, **{f"f_{name}": float(v) for name, v in zip(ROUTING_FEATURE_NAMES, f)},
               "psnr_none": none, "ssim_none": 0.8, "ms_none": 2.0, "method_none": "none"}
        for path, gain, ms in (("classical", gain_classical, 10.0), ("deep_learning", gain_dl, 1000.0)):
            row.update({f"psnr_{path}": none + gain + rng.normal(0, 0.1), f"ssim_{path}": 0.8, f"ms_{path}": ms,
                        f"method_{path}": path})
        rows.append(row)
    return rows


def write_rows(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decision")
    table = write_rows(folder / "outcomes.csv", synthetic_rows())
    fit_decision(table, folder / "model", n_estimators=20)
    return folder / "model"


def test_fit_writes_a_loadable_model_with_its_calibration(fitted):
    decision = LearnedDecision.load(fitted)
    meta = decision.metadata
    assert decision.paths == PATHS
    assert decision.classes == ("light", "moderate", "severe")
    assert meta["cost_db_per_s"]["quality"] == 0.0
    assert meta["cost_db_per_s"]["balanced"] <= meta["cost_db_per_s"]["speed"]
    # Balanced's feasible set holds speed's (a looser time limit), so its calibrated gain is no lower.
    oof = meta["calibration"]["out_of_fold"]
    assert oof["balanced"]["mean_gain_db"] >= oof["speed"]["mean_gain_db"]
    assert meta["calibration"]["repeats"] >= 1 and len(meta["calibration"]["grid"]) > 10
    # The U-Net takes 1 s per 0.12 MP here; the accelerated profile divides it by the GPU speed-up.
    local, fast = decision.expected_seconds(120_000, "local"), decision.expected_seconds(120_000, "accelerated")
    assert local["deep_learning"] == pytest.approx(1.0)
    assert fast["deep_learning"] == pytest.approx(1.0 / meta["gpu_speedup"])
    assert fast["classical"] == pytest.approx(local["classical"])
    assert meta["cross_validation"]["severity_accuracy"] > 0.45  # chance: 1/3 (levels overlap by design)


def test_learned_choices_follow_the_outcomes(fitted):
    decision = LearnedDecision.load(fitted)
    base = np.zeros(len(ROUTING_FEATURE_NAMES), np.float32)
    blurred, noisy = base.copy(), base.copy()
    # (Exactly 0 blur or noise happens only on the clean rows, so the probes stay off it.)
    blurred[BLUR], blurred[NOISE] = 1.9, 1.0
    noisy[BLUR], noisy[NOISE] = 0.2, 9.0
    assert decision.decide(base, 120_000, prefer="quality").path == NONE  # clean: leave it
    assert decision.decide(blurred, 120_000, prefer="quality").path == "deep_learning"
    assert decision.decide(noisy, 120_000, prefer="quality").path == "classical"
    # A budget below the U-Net's expected second forbids it.
    assert decision.decide(blurred, 120_000, prefer="quality", time_budget_s=0.5).path != "deep_learning"
    info = decision.decide(blurred, 120_000).as_dict()
    assert set(info["predicted_gain_db"]) == set(PATHS) and info["severity"] in decision.classes


def test_choice_rule_does_no_harm_and_prices_time(fitted):
    decision = LearnedDecision.load(fitted)
    seconds = {"classical": 0.01, "deep_learning": 2.0}
    decision.margins["quality"] = decision.margins["speed"] = 0.25
    small = {"classical": 0.25, "deep_learning": 0.2}  # not clearly positive
    assert decision.choose(small, seconds, "quality")[0] == NONE
    gains = {"classical": 1.25, "deep_learning": 1.75}
    assert decision.choose(gains, seconds, "quality")[0] == "deep_learning"
    decision.costs["speed"] = 1.0  # 1 dB per second: the U-Net's 0.5 dB more is not worth 2 s
    assert decision.choose(gains, seconds, "speed")[0] == "classical"
    assert decision.choose(gains, seconds, "quality", available={"classical"})[0] == "classical"
    with pytest.raises(ValueError, match="prefer"):
        decision.choose(gains, seconds, "fastest")
    with pytest.raises(ValueError, match="time_budget_s"):
        decision.choose(gains, seconds, "quality", time_budget_s=0)


def test_time_is_charged_at_the_calibration_size_at_most(fitted, tmp_path):
    decision = LearnedDecision.load(fitted)
    # The synthetic rows are all 300 x 400 px, so that is the size the costs were calibrated at.
    assert decision.metadata[COST_REFERENCE_KEY] == pytest.approx(0.12)
    assert decision.costs["speed"] > 0  # else time would not weigh at all
    blurred = np.zeros(len(ROUTING_FEATURE_NAMES), np.float32)
    blurred[BLUR], blurred[NOISE] = 1.9, 1.0
    at_size = decision.decide(blurred, 120_000, prefer="speed")
    # The same picture scanned 100 times larger: the same utilities, so the same path; the expected
    # time reported (and weighed by a time budget) is the large image's own.
    large = decision.decide(blurred, 12_000_000, prefer="speed")
    assert large.path == at_size.path and large.utility == pytest.approx(at_size.utility)
    assert large.seconds["deep_learning"] == pytest.approx(100 * at_size.seconds["deep_learning"])
    budget = 2 * at_size.seconds["deep_learning"]
    assert decision.decide(blurred, 120_000, prefer="quality", time_budget_s=budget).path == "deep_learning"
    assert decision.decide(blurred, 12_000_000, prefer="quality", time_budget_s=budget).path != "deep_learning"
    # Smaller images are charged their own (shorter) time, as the calibration measured them.
    small = decision.decide(blurred, 30_000, prefer="speed")
    cost = decision.costs["speed"]
    assert small.utility["deep_learning"] == pytest.approx(small.gains_db["deep_learning"]
                                                           - cost * small.seconds["deep_learning"])
    # A decision without the key (fitted before it existed) charges every image its own time.
    meta = {k: v for k, v in decision.metadata.items() if k != COST_REFERENCE_KEY}
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    (folder / "decision.npz").write_bytes((fitted / "decision.npz").read_bytes())
    old = LearnedDecision.load(folder).decide(blurred, 12_000_000, prefer="speed")
    assert old.utility["deep_learning"] == pytest.approx(old.gains_db["deep_learning"]
                                                         - cost * old.seconds["deep_learning"])
    meta[COST_REFERENCE_KEY] = -1
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=COST_REFERENCE_KEY):
        LearnedDecision.load(folder)


def test_with_rule_changes_one_preference_in_a_copy(fitted):
    decision = LearnedDecision.load(fitted)
    seconds = {"classical": 0.01, "deep_learning": 2.0}
    gains = {"classical": 1.25, "deep_learning": 1.75}
    strict = decision.with_rule("quality", margin_db=5.0)
    assert strict.choose(gains, seconds, "quality")[0] == NONE
    assert strict.margins["speed"] == decision.margins["speed"] and decision.margins["quality"] != 5.0
    pricey = decision.with_rule("quality", margin_db=0.0, cost_db_per_s=1.0)
    assert pricey.choose(gains, seconds, "quality")[0] == "classical"  # 0.5 dB more is not worth 2 s
    assert decision.with_rule("quality", margin_db=0.0).choose(gains, seconds, "quality")[0] == "deep_learning"
    with pytest.raises(ValueError, match="prefer"):
        decision.with_rule("fastest", margin_db=1.0)
    with pytest.raises(ValueError, match="margin_db"):
        decision.with_rule("quality", margin_db=-1.0)


def test_route_table_matches_the_runtime_rule(fitted):
    decision = LearnedDecision.load(fitted)
    rng = np.random.default_rng(1)
    gains = rng.normal(0, 2, (200, 2))
    seconds = np.tile([0.01, 1.0], (200, 1))
    for cost in (0.0, 0.5, 5.0):
        decision.costs["balanced"] = cost
        table = route_table(gains, seconds, decision.margins["balanced"], cost)
        for g, k in zip(gains, table):
            want = decision.choose(dict(zip(PATHS, g)), dict(zip(PATHS, seconds[0])), "balanced")[0]
            assert want == (NONE if k < 0 else PATHS[k])


def test_the_check_family_is_never_fitted_on(tmp_path):
    table = write_rows(tmp_path / "check.csv", synthetic_rows(40, family="check"))
    with pytest.raises(ValueError, match="broad"):
        fit_decision(table, tmp_path / "model", n_estimators=5)


def test_the_legacy_family_joins_the_broad_rows_but_never_replaces_them(tmp_path):
    broad = write_rows(tmp_path / "broad.csv", synthetic_rows(40))
    legacy_rows = [{**r, "source": "legacy_" + r["source"], "family": "legacy"}
                   for r in synthetic_rows(40, seed=1) if r["severity"] != "clean"]
    legacy = write_rows(tmp_path / "legacy.csv", legacy_rows)
    fit_decision([broad, legacy], tmp_path / "both", n_estimators=5, repeats=1)
    data = LearnedDecision.load(tmp_path / "both").metadata["data"]
    assert data["rows"] == 40 + len(legacy_rows) and data["families"] == ["broad", "legacy"]
    with pytest.raises(ValueError, match="broad among them"):
        fit_decision(legacy, tmp_path / "legacy_only", n_estimators=5, repeats=1)
    mixed = write_rows(tmp_path / "mixed.csv", synthetic_rows(20) + synthetic_rows(20, seed=2, family="check"))
    with pytest.raises(ValueError, match="check"):
        fit_decision(mixed, tmp_path / "mixed", n_estimators=5, repeats=1)


def test_tampered_or_foreign_files_are_refused(fitted, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(fitted, copy)
    data = bytearray((copy / "decision.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "decision.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        LearnedDecision.load(copy)
    shutil.copyfile(fitted / "decision.npz", copy / "decision.npz")
    meta = json.loads((copy / "model_metadata.json").read_text())
    meta["feature_names"] = meta["feature_names"][:14]
    (copy / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other features"):
        LearnedDecision.load(copy)
    meta["format"] = "artrestore-router/1"
    (copy / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="decision"):
        LearnedDecision.load(copy)
    with pytest.raises(FileNotFoundError):
        LearnedDecision.load(tmp_path / "missing")


def test_restorer_uses_the_decision_and_leaves_clean_images(fitted, astronaut):
    from artrestore.restorer import HybridRestorer

    restorer = HybridRestorer(decision_path=fitted, use_dl=False)
    out, info = restorer.restore(astronaut, "auto")
    assert info["method"] in (NONE, "classical", "ml_guided")
    assert set(info["decision"]["damage_measures"]) == set(ROUTING_FEATURE_NAMES[14:])
    assert len(info["damage_analysis"]) == 14
    assert "deep_learning" not in (info["method"],)  # use_dl=False removes it from the candidates
    untouched, info = restorer.restore(astronaut, "none")
    assert info["method"] == NONE
    np.testing.assert_array_equal(untouched, astronaut)
    rule = HybridRestorer(decision="rule", use_dl=False)
    assert "decision" not in rule.restore(astronaut, "auto")[1]
    with pytest.raises(ValueError, match="decision"):
        HybridRestorer(decision="oracle")
    with pytest.raises(ValueError, match="prefer"):
        HybridRestorer(decision_path=fitted, prefer="fastest")


def test_the_restorer_asks_the_decision_for_its_own_unet_views(fitted_views, astronaut):
    from artrestore.restorer import HybridRestorer

    image = np.ascontiguousarray(astronaut[::4, ::4])
    predicted = {}
    for views in (1, 8):
        restorer = HybridRestorer(decision_path=fitted_views, use_dl=False, dl_views=views)
        asked, decide = [], restorer.decider.decide
        restorer.decider.decide = lambda *a, decide=decide, asked=asked, **k: asked.append(k["views"]) or decide(*a, **k)
        predicted[views] = restorer.restore(image, "auto")[1]["decision"]["predicted_gain_db"]
        assert asked == [views]
    # The eight-view forest predicts the U-Net's gain from the eight-view outcomes.
    assert predicted[8]["deep_learning"] != predicted[1]["deep_learning"]


def test_group_folds_never_split_a_group_and_differ_between_repeats():
    from artrestore.training.decision_rows import group_folds

    groups = np.repeat([f"s{k}" for k in range(17)], 4)
    splits = [list(group_folds(groups, 5, 0, repeat)) for repeat in range(2)]
    for split in splits:
        assert sorted(np.concatenate([test for _, test in split]).tolist()) == list(range(len(groups)))
        for train, test in split:
            assert not set(groups[train]) & set(groups[test])
    assert [t.tolist() for _, t in splits[0]] != [t.tolist() for _, t in splits[1]]


def eight_view_rows(rows):
    """The same rows as a U-Net averaged over eight views would give them: it now also gains on
    noise (where the one-view U-Net gains nothing) and takes eight times as long."""
    out = []
    for r in rows:
        row = dict(r)
        if r["severity"] != "clean":
            row["psnr_deep_learning"] = r["psnr_deep_learning"] + 0.8 * r[f"f_{ROUTING_FEATURE_NAMES[NOISE]}"]
        row["ms_deep_learning"] = 8 * r["ms_deep_learning"]
        out.append(row)
    return out


@pytest.fixture(scope="module")
def fitted_views(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decision_views")
    rows = synthetic_rows()
    one = write_rows(folder / "outcomes.csv", rows)
    eight = write_rows(folder / "outcomes_x8.csv", list(reversed(eight_view_rows(rows))))  # order need not match
    fit_decision(one, folder / "model", n_estimators=20, view_outcomes={8: eight})
    return folder / "model"


def test_a_view_count_gets_its_own_gains_times_and_calibration(fitted_views):
    decision = LearnedDecision.load(fitted_views)
    assert decision.view_counts == (1, 8)
    assert (fitted_views / "outcomes_x8.csv").is_file()  # the data it was fitted on travels with it
    entry = decision.metadata["views"]["8"]
    assert entry["calibrated_on_profile"] == "accelerated" and entry["calibration"]["out_of_fold"]["balanced"]
    # Per preference: the calibrated (margin, cost), or the one-view one where that is safe and gains more.
    for pref, source in entry["rule_from"].items():
        kept = entry["calibration"]["one_view_rule_out_of_fold"][pref]
        calibrated = entry["calibration"]["out_of_fold"][pref]
        if source == "one_view":
            assert entry["margin_db"][pref] == decision.margins[pref] and entry["cost_db_per_s"][pref] == decision.costs[pref]
            assert kept["mean_gain_db"] > calibrated["mean_gain_db"] and kept["worst_severity_gain_db"] >= 0
        else:
            assert source == "calibrated"
            assert kept["mean_gain_db"] <= calibrated["mean_gain_db"] or kept["worst_severity_gain_db"] < 0 \
                or kept["undamaged_changed_share"] > 0.05
    noisy = np.zeros(len(ROUTING_FEATURE_NAMES), np.float32)
    noisy[BLUR], noisy[NOISE] = 0.2, 9.0
    one, eight = decision.predict_gains(noisy)[0], decision.predict_gains(noisy, 8)[0]
    dl = PATHS.index("deep_learning")
    assert eight[dl] > one[dl] + 4  # +0.8 dB per unit of noise, 9 units
    assert eight[PATHS.index("classical")] == pytest.approx(one[PATHS.index("classical")], abs=0.5)
    # Eight views cost eight times the U-Net's second, on both profiles (GPU: divided by the speed-up).
    assert decision.expected_seconds(120_000, "local", 8)["deep_learning"] == pytest.approx(8.0)
    assert decision.expected_seconds(120_000, "accelerated", 8)["deep_learning"] == pytest.approx(
        8.0 / decision.metadata["gpu_speedup"])
    assert decision.decide(noisy, 120_000, prefer="quality").path == "classical"
    assert decision.decide(noisy, 120_000, prefer="quality", views=8, profile="accelerated").path == "deep_learning"
    # A view count with no calibration of its own uses the one-view one.
    np.testing.assert_array_equal(decision.predict_gains(noisy, 2), decision.predict_gains(noisy))
    assert decision.decide(noisy, 120_000, prefer="quality", views=2).path == "classical"


def test_view_outcomes_must_cover_the_same_training_rows(tmp_path):
    rows = synthetic_rows(80)
    one = write_rows(tmp_path / "one.csv", rows)
    short = write_rows(tmp_path / "short.csv", eight_view_rows(rows)[:-1])
    with pytest.raises(ValueError, match="no outcome for 1"):
        fit_decision(one, tmp_path / "a", n_estimators=5, view_outcomes={8: short})
    checked = write_rows(tmp_path / "check.csv", [{**r, "family": "check"} for r in eight_view_rows(rows)])
    with pytest.raises(ValueError, match="broad"):
        fit_decision(one, tmp_path / "b", n_estimators=5, view_outcomes={8: checked})
    with pytest.raises(ValueError, match="one-view"):
        fit_decision(one, tmp_path / "c", n_estimators=5, view_outcomes={1: one})


def test_views_added_to_a_shipped_decision_keep_its_own_forests(tmp_path):
    from artrestore.training.decision_views import add_views

    rows = synthetic_rows(120)
    one = write_rows(tmp_path / "outcomes.csv", rows)
    eight = write_rows(tmp_path / "outcomes_x8.csv", eight_view_rows(rows))
    base = fit_decision(one, tmp_path / "base", n_estimators=10, repeats=2)
    added = add_views(base, one, {8: eight}, tmp_path / "added", repeats=2)
    old, new = LearnedDecision.load(base), LearnedDecision.load(added)
    assert old.view_counts == (1,) and new.view_counts == (1, 8)
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for r in rows], np.float32)
    np.testing.assert_array_equal(new.predict_gains(x), old.predict_gains(x))
    np.testing.assert_array_equal(new.predict_severity_proba(x), old.predict_severity_proba(x))
    assert new.margins == old.margins and new.costs == old.costs
    assert not np.allclose(new.predict_gains(x, 8), old.predict_gains(x))
    assert (added / "outcomes_x8.csv").is_file() and (added / "outcomes.csv").is_file()
