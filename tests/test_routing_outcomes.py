"""Outcome data and the routing report, with a stand-in restorer whose paths have known effects."""
import argparse

import numpy as np
import pytest

from artrestore import metrics
from artrestore.acceptance import CHANGE_FEATURE_NAMES, FALLBACK_PATH, change_features
from artrestore.analysis import ROUTING_FEATURE_NAMES, routing_vector
from artrestore.imageio import write_image
from artrestore.training import routing_outcomes as ro
from artrestore.training.broad_damage import broad_damage
from artrestore.training.routing_report import family_report, replay, targets


class StandIn:
    """'classical' returns the input, 'ml_guided' darkens it by 40 levels, 'deep_learning' returns
    the clean image it was told about (a perfect U-Net)."""

    def __init__(self):
        self.clean = None
        self.calls = []

    def restore(self, image, strategy):
        self.calls.append(strategy)
        method = {"classical": "classical", "ml_guided": "ml_guided", "dl": "deep_learning"}[strategy]
        if method == "classical":
            return image.copy(), {"method": method}
        if method == "ml_guided":
            return np.clip(image.astype(int) - 40, 0, 255).astype(np.uint8), {"method": method}
        return self.clean.copy(), {"method": method}


def test_restorer_paths_take_one_strategy_per_method():
    strategies = {"auto": None, "classical": "classical", "ml_guided": "ml_guided", "dl": "deep_learning",
                  "deep_learning": "deep_learning", "none": "none", "chain": "chain"}
    assert ro.restorer_paths(strategies) == {"classical": "classical", "ml_guided": "ml_guided",
                                             "deep_learning": "dl", "chain": "chain"}
    assert "none" not in ro.restorer_paths() and "auto" not in ro.restorer_paths().values()


def test_measured_rows_hold_features_and_every_path(astronaut, tmp_path):
    small = np.ascontiguousarray(astronaut[::4, ::4])
    stand_in = StandIn()
    stand_in.clean = small
    paths = {"classical": "classical", "ml_guided": "ml_guided", "deep_learning": "dl"}
    rows, errors = ro.measure_outcomes([("astro", small)], "broad", ro.broad_family, ("severe", ro.CLEAN), (0, 1),
                                       stand_in, paths, progress=False)
    assert not errors and [r["severity"] for r in rows] == ["severe", "severe", ro.CLEAN]  # clean: one draw
    severe, clean = rows[0], rows[2]
    damaged, _, _ = broad_damage(small, "severe", 0)
    assert severe["psnr_none"] == pytest.approx(metrics.psnr(damaged, small))
    assert severe["psnr_classical"] == pytest.approx(severe["psnr_none"])  # identity path: no gain
    assert severe["psnr_deep_learning"] == ro.PSNR_CAP_DB  # perfect path, capped
    assert clean["psnr_none"] == ro.PSNR_CAP_DB and clean["psnr_ml_guided"] < 30
    assert [severe[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] == [repr(float(v)) for v in routing_vector(damaged)]
    # What the U-Net did (the stand-in returns the clean image): its change features, recorded.
    want = change_features(damaged, small)
    assert [float(severe[f"c_{n}"]) for n in CHANGE_FEATURE_NAMES] == pytest.approx(list(want))
    assert severe["method_deep_learning"] == "deep_learning" and severe["ms_none"] >= 0


def test_collect_writes_resumes_and_refuses_the_check_family_on_train(astronaut, tmp_path, monkeypatch):
    folder = tmp_path / "clean"
    folder.mkdir()
    for k in range(7):  # 7 sources: the split gives 5 train, 1 val, 1 test
        write_image(folder / f"s{k}.png", np.ascontiguousarray(np.roll(astronaut[::8, ::8], 9 * k, axis=1)))
    stand_in = StandIn()
    stand_in.clean = None
    monkeypatch.setattr(ro, "restorer_paths", lambda strategies=None: {"classical": "classical"})
    out = tmp_path / "o.csv"
    path, errors = ro.collect_outcomes(out, stand_in, clean_dir=folder, severities=("light",), progress=False)
    rows = ro.read_outcomes(path)
    assert not errors and len(rows) == 2 * len({r["source"] for r in rows})  # light + clean per source
    assert all(isinstance(r["f_noise_sigma"], float) for r in rows)
    calls = len(stand_in.calls)
    ro.collect_outcomes(out, stand_in, clean_dir=folder, severities=("light",), resume=True, progress=False)
    assert len(stand_in.calls) == calls and len(ro.read_outcomes(out)) == len(rows)  # nothing re-measured
    with pytest.raises(ValueError, match="test split"):
        ro.collect_outcomes(tmp_path / "x.csv", stand_in, clean_dir=folder, family="check", split="train")


def _cli_outcomes(astronaut, tmp_path, monkeypatch, family):
    """(clean folder, the CLI's parser, rows) of `routing outcomes --family FAMILY` on seven small
    sources (the split gives 5 train, 1 val, 1 test) with a stand-in restorer; CSV: FAMILY.csv."""
    from artrestore.cli import routing as cli_routing

    folder = tmp_path / "clean"
    folder.mkdir()
    for k in range(7):
        write_image(folder / f"s{k}.png", np.ascontiguousarray(np.roll(astronaut[::8, ::8], 9 * k, axis=1)))
    monkeypatch.setattr(ro, "restorer_paths", lambda strategies=None: {"classical": "classical"})
    monkeypatch.setattr(cli_routing, "_restorer", lambda **kwargs: StandIn())
    parser = argparse.ArgumentParser()
    cli_routing.outcomes_arguments(parser)
    out = tmp_path / f"{family}.csv"
    args = parser.parse_args(["--out", str(out), "--clean", str(folder), "--seeds", "1", "--family", family])
    assert cli_routing.run_outcomes(args) == 0
    return folder, parser, ro.read_outcomes(out)


def test_the_cli_measures_the_legacy_family_with_its_own_damage_and_no_undamaged_rows(astronaut, tmp_path,
                                                                                     monkeypatch):
    from artrestore.training.datasets import list_images, split_sources
    from artrestore.training.synthesis import synthesize_damage

    folder, parser, rows = _cli_outcomes(astronaut, tmp_path, monkeypatch, "legacy")
    names = [p.name for p in list_images(folder)]
    train = sorted(n for n, s in split_sources(names, 0).items() if s == "train")
    assert sorted({r["source"] for r in rows}) == train
    assert {r["family"] for r in rows} == {"legacy"} and ro.CLEAN not in {r["severity"] for r in rows}
    # The damaged image is the first synthesizer's, not the broad model's: the input's PSNR says which.
    row = rows[0]
    clean = dict(ro.source_images(folder, "train")[0])[row["source"]]
    legacy = synthesize_damage(clean, row["severity"], row["seed"])[0]
    broad = broad_damage(clean, row["severity"], row["seed"])[0]
    assert row["psnr_none"] == pytest.approx(min(metrics.psnr(legacy, clean), ro.PSNR_CAP_DB), abs=1e-6)
    assert row["psnr_none"] != pytest.approx(metrics.psnr(broad, clean), abs=1e-3)
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x.csv", "--family", "check"])  # the check family is never a training family


def test_the_cli_measures_the_proxy_family_for_choosing_and_the_fit_refuses_its_rows(astronaut, tmp_path,
                                                                                    monkeypatch):
    from artrestore.proxy_family import proxy_damage
    from artrestore.training.decision_fit import fit_decision

    folder, _, rows = _cli_outcomes(astronaut, tmp_path, monkeypatch, "proxy")
    assert {r["family"] for r in rows} == {"proxy"} and ro.CLEAN not in {r["severity"] for r in rows}
    row = rows[0]
    clean = dict(ro.source_images(folder, "train")[0])[row["source"]]
    proxy = proxy_damage(clean, row["severity"], row["seed"])[0]
    assert row["psnr_none"] == pytest.approx(min(metrics.psnr(proxy, clean), ro.PSNR_CAP_DB), abs=1e-6)
    with pytest.raises(ValueError, match="training families"):
        fit_decision([tmp_path / "proxy.csv"], tmp_path / "decision")


def _rows(n=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        severity = ("light", "moderate", "severe", "clean")[i % 4]
        row = {"source": f"s{i}", "family": "check", "severity": severity, "seed": 0, "height": 300, "width": 400,
               **{f"f_{name}": float(v) for name, v in zip(ROUTING_FEATURE_NAMES, rng.normal(size=27))},
               "psnr_none": 20.0, "ssim_none": 0.5, "ms_none": 2.0}
        for path, ms in (("classical", 10.0), ("ml_guided", 12.0), ("deep_learning", 2000.0)):
            row.update({f"psnr_{path}": 20 + float(rng.normal(0, 2)), f"ssim_{path}": 0.5, f"ms_{path}": ms})
        rows.append(row)
    return rows


def test_report_replays_the_decision_and_scores_the_oracle():
    from artrestore.decision import LearnedDecision

    decision = LearnedDecision.load()  # the bundled model: any fitted decision will do here
    rows = _rows()
    report = family_report(rows, decision, None, "local")
    chosen = replay(rows, decision)
    auto = report["strategies"]["auto_balanced"]["all_damaged"]
    damaged = [i for i, r in enumerate(rows) if r["severity"] != "clean"]
    want = np.mean([rows[i][f"psnr_{chosen[i]}"] - rows[i]["psnr_none"] for i in damaged])
    assert auto["gain_db"] == pytest.approx(want)
    for name, cells in report["strategies"].items():
        assert report["strategies"]["oracle"]["all_damaged"]["psnr"] >= cells["all_damaged"]["psnr"] - 1e-9, name
    confusion = np.array(report["confusion_auto_balanced_vs_best"]["matrix"])
    assert confusion.sum() == len(damaged)
    assert np.array(report["severity_confusion"]["matrix"]).sum() == len(damaged)
    flags = targets(report)
    assert set(flags) == {"auto_never_below_input", "auto_vs_oracle_gain", "auto_vs_always_unet_time",
                          "severity_accuracy"}
    assert flags["auto_vs_always_unet_time"]["fraction"] == pytest.approx(
        auto["seconds"] / report["strategies"]["always_deep_learning"]["all_damaged"]["seconds"])


class SendsEveryUNetBack:
    """A stand-in check after the U-Net that keeps none of its outputs."""

    margin_db = 0.0

    def predict(self, routing, change):
        assert len(routing) == len(ROUTING_FEATURE_NAMES) and len(change) == len(CHANGE_FEATURE_NAMES)
        return -1.0

    def accepts(self, gain):
        return gain > self.margin_db


def test_report_replays_the_check_after_the_unet_and_charges_its_time():
    from artrestore.decision import LearnedDecision

    decision = LearnedDecision.load()
    rows = _rows(n=60)
    for r in rows:
        r.update({f"c_{n}": 0.0 for n in CHANGE_FEATURE_NAMES})
    plain = family_report(rows, decision, None, "local")
    checked = family_report(rows, decision, None, "local", SendsEveryUNetBack())
    chosen = replay(rows, decision)
    to_unet = [i for i, p in enumerate(chosen) if p == "deep_learning"]
    assert to_unet, "these seeded rows must send some images to the U-Net for the check to act on"
    s = checked["strategies"]
    assert checked["unet_checked_back"]["balanced"] == len(to_unet)
    assert s["auto_balanced_unchecked"] == plain["strategies"]["auto_balanced"]
    damaged = [i for i, r in enumerate(rows) if r["severity"] != "clean"]
    path = [FALLBACK_PATH if p == "deep_learning" else p for p in chosen]
    want_gain = np.mean([rows[i][f"psnr_{path[i]}"] - rows[i]["psnr_none"] for i in damaged])
    # A row sent back ran the U-Net and then the fallback: both times are charged.
    want_s = np.mean([(rows[i][f"ms_{path[i]}"] + (rows[i]["ms_deep_learning"] if chosen[i] == "deep_learning" else 0))
                      / 1e3 for i in damaged])
    assert s["auto_balanced"]["all_damaged"]["gain_db"] == pytest.approx(want_gain)
    assert s["auto_balanced"]["all_damaged"]["seconds"] == pytest.approx(want_s)



class DarkerUNet(StandIn):
    """As StandIn, but its U-Net returns the damaged input 20 levels darker."""

    def restore(self, image, strategy):
        if strategy == "dl":
            self.calls.append(strategy)
            return np.clip(image.astype(int) - 20, 0, 255).astype(np.uint8), {"method": "deep_learning"}
        return super().restore(image, strategy)


def test_remeasuring_one_path_changes_only_its_columns(astronaut, monkeypatch):
    small = np.ascontiguousarray(astronaut[::4, ::4])
    stand_in = StandIn()
    stand_in.clean = small
    paths = {"classical": "classical", "ml_guided": "ml_guided", "deep_learning": "dl"}
    monkeypatch.setattr(ro, "restorer_paths", lambda strategies=None: paths)
    rows, _ = ro.measure_outcomes([("astro", small)], "broad", ro.broad_family, ("moderate", ro.CLEAN), (3,),
                                  stand_in, paths, progress=False)
    other = DarkerUNet()
    again = ro.remeasure_path(rows, [("astro", small)], ro.broad_family, other)
    assert other.calls == ["dl", "dl"] and len(again) == len(rows)
    damaged = broad_damage(small, "moderate", 3)[0]
    darker = np.clip(damaged.astype(int) - 20, 0, 255).astype(np.uint8)
    assert again[0]["psnr_deep_learning"] == pytest.approx(metrics.psnr(darker, small))
    assert [float(again[0][f"c_{n}"]) for n in CHANGE_FEATURE_NAMES] == pytest.approx(
        list(change_features(damaged, darker)))
    for before, after in zip(rows, again):
        kept = {k: v for k, v in before.items() if not k.startswith(("c_", "psnr_deep", "ssim_deep", "ms_deep"))}
        assert {k: after[k] for k in kept} == kept


def test_the_cli_remeasures_training_outcomes_with_more_views_and_never_overwrites(astronaut, tmp_path, monkeypatch):
    from artrestore.cli import routing as cli_routing

    folder = tmp_path / "clean"
    folder.mkdir()
    for k in range(7):  # the split gives 5 train sources
        write_image(folder / f"s{k}.png", np.ascontiguousarray(np.roll(astronaut[::8, ::8], 9 * k, axis=1)))
    paths = {"classical": "classical", "deep_learning": "dl"}
    monkeypatch.setattr(ro, "restorer_paths", lambda strategies=None: paths)
    one = tmp_path / "one.csv"
    ro.collect_outcomes(one, DarkerUNet(), clean_dir=folder, severities=("light",), progress=False)
    asked = []

    class IdentityUNet(StandIn):
        def restore(self, image, strategy):
            return image.copy(), {"method": "deep_learning" if strategy == "dl" else strategy}

    def restorer(**kwargs):
        asked.append(kwargs)
        return IdentityUNet()

    monkeypatch.setattr(cli_routing, "_restorer", restorer)
    out = cli_routing.views_outcomes(one, tmp_path / "x8.csv", 8, clean_dir=folder)
    assert asked == [{"dl_views": 8}]
    before, after = ro.read_outcomes(one), ro.read_outcomes(out)
    assert [(r["source"], r["severity"]) for r in after] == [(r["source"], r["severity"]) for r in before]
    assert all(a["psnr_classical"] == b["psnr_classical"] for a, b in zip(after, before))
    # The identity U-Net scores the input's PSNR, the darker one's was lower (clean rows: capped).
    assert all(a["psnr_deep_learning"] == pytest.approx(a["psnr_none"]) for a in after)
    assert all(b["psnr_deep_learning"] < b["psnr_none"] for b in before)
    with pytest.raises(ValueError, match="not overwritten"):
        cli_routing.views_outcomes(one, out, 8, clean_dir=folder)
    with pytest.raises(ValueError, match="views must be one of"):
        cli_routing.views_outcomes(one, tmp_path / "x3.csv", 3, clean_dir=folder)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match="sources not found"):
        cli_routing.views_outcomes(one, tmp_path / "x8b.csv", 8, clean_dir=other)


def test_the_cli_measures_the_validation_sources_when_asked(astronaut, tmp_path, monkeypatch):
    from artrestore.cli import routing as cli_routing
    from artrestore.training.datasets import list_images, split_sources

    folder = tmp_path / "clean"
    folder.mkdir()
    for k in range(7):  # the split gives 5 train, 1 val, 1 test
        write_image(folder / f"s{k}.png", np.ascontiguousarray(np.roll(astronaut[::8, ::8], 9 * k, axis=1)))
    names = [p.name for p in list_images(folder)]
    want = {split: sorted(n for n, s in split_sources(names, 0).items() if s == split) for split in ("train", "val")}
    monkeypatch.setattr(ro, "restorer_paths", lambda strategies=None: {"classical": "classical"})
    monkeypatch.setattr(cli_routing, "_restorer", lambda **kwargs: StandIn())
    parser = argparse.ArgumentParser()
    cli_routing.outcomes_arguments(parser)
    for split in ("train", "val"):
        out = tmp_path / f"{split}.csv"
        args = parser.parse_args(["--out", str(out), "--clean", str(folder), "--seeds", "1", "--split", split])
        assert cli_routing.run_outcomes(args) == 0
        assert sorted({r["source"] for r in ro.read_outcomes(out)}) == want[split]
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x.csv", "--split", "test"])  # the test split is for reports only
    with pytest.raises(ValueError, match="train split only"):
        cli_routing.train_outcomes(tmp_path / "x.csv", clean_dir=folder, extra_dir=folder, split="val")
