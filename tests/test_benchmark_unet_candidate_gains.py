"""benchmarks/unet_candidate_gains.py: paired gains and their standard error over sources, checked
against sums worked out here; reports on different images are refused."""
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import unet_candidate_gains  # noqa: E402

LEVELS = ("light", "moderate", "severe")


def _rows(sources, held, names=None, level="light"):
    names = names or sources
    return [{"source": n, "level": level, "input_psnr": 20.0 + i, "held_psnr": h}
            for i, (n, h) in enumerate(zip(names, held))]


def test_gain_and_standard_error_over_sources():
    sources = [0, 0, 1, 1, 2, 2]
    ref = _rows(sources, [20.0] * 6, ["a", "a", "b", "b", "c", "c"])  # named by path, as run 10's report
    cand = _rows(sources, [21.0, 21.0, 20.0, 20.0, 20.5, 20.5])  # per-source means +1, 0, +0.5
    result = unet_candidate_gains.paired_gains(cand, ref, "light")
    assert result["gain_db"] == pytest.approx(0.5)
    # per-source means 1, 0, 0.5: sample sd 0.5, SE 0.5 / sqrt(3)
    assert result["se_db"] == pytest.approx(0.5 / 3 ** 0.5)
    assert (result["images"], result["sources"]) == (6, 3)


def test_different_images_are_refused():
    ref = _rows([0, 0, 1, 1], [20.0] * 4)
    with pytest.raises(ValueError, match="different images"):
        unet_candidate_gains.paired_gains(_rows([0, 1, 1, 1], [20.0] * 4), ref, "light")
    other_draw = _rows([0, 0, 1, 1], [20.0] * 4)
    other_draw[2]["input_psnr"] += 0.5
    with pytest.raises(ValueError, match="different images"):
        unet_candidate_gains.paired_gains(other_draw, ref, "light")
    with pytest.raises(ValueError, match="no rows"):
        unet_candidate_gains.paired_gains(ref, ref, "severe")



def test_extra_report_pairs_bundled_with_the_candidate(tmp_path):
    ref = [row for level in LEVELS for row in _rows([0, 1], [20.0, 22.0], level=level)]
    cand = [row for level in LEVELS for row in _rows([0, 1], [21.0, 22.5], level=level)]  # +1.0, +0.5
    report = tmp_path / "pack3_val_extra.json"
    report.write_text(json.dumps({"bundled": {"rows": ref}, "cand/model": {"rows": cand}}))
    out = tmp_path / "gains.json"
    assert unet_candidate_gains.main(["--extra-report", str(report), "--out", str(out)]) == 0
    light = json.loads(out.read_text())["pack3_val_extra"]["light"]
    assert light["gain_db"] == pytest.approx(0.75)
    assert light["se_db"] == pytest.approx(0.25)  # sd of (1.0, 0.5) is 0.354, over sqrt(2)
    report.write_text(json.dumps({"bundled": {"rows": ref}}))
    with pytest.raises(ValueError, match="one candidate"):
        unet_candidate_gains.main(["--extra-report", str(report)])


def test_the_proxy_family_is_paired_only_where_both_folders_have_it(tmp_path):
    ref = [row for level in LEVELS for row in _rows([0, 1], [20.0, 22.0], level=level)]
    cand = [row for level in LEVELS for row in _rows([0, 1], [21.0, 23.0], level=level)]  # +1.0 everywhere
    for folder, rows in (("cand", cand), ("ref", ref)):
        (tmp_path / folder).mkdir()
        for family in ("broad", "legacy", "proxy"):
            (tmp_path / folder / f"family_hold_{family}.json").write_text(json.dumps({"rows": rows}))
    out = tmp_path / "gains.json"
    args = ["--candidate", str(tmp_path / "cand"), "--reference", str(tmp_path / "ref"), "--out", str(out)]
    assert unet_candidate_gains.main(args) == 0
    assert json.loads(out.read_text())["proxy"]["severe"]["gain_db"] == pytest.approx(1.0)
    (tmp_path / "ref" / "family_hold_proxy.json").unlink()  # an older reference: no proxy file
    assert unet_candidate_gains.main(args) == 0
    assert set(json.loads(out.read_text())) == {"broad", "legacy"}
