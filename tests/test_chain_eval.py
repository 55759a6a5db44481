"""benchmarks/chain_eval.py's summary: gains, their standard error and the share below the input
are taken per damaged image (source and draw), checked against hand-worked numbers."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import chain_eval  # noqa: E402


def _rows(severity="light"):
    # One source, two damaged versions: input 20 / 30 dB, classical 21 / 33 dB (gains 1 and 3);
    # ml_guided 19.9 / 30 dB (gains -0.1 and 0: one image more than 0.05 dB below its input).
    rows = []
    for draw, (inp, cls, ml) in enumerate(((20.0, 21.0, 19.9), (30.0, 33.0, 30.0))):
        for path, psnr in (("input", inp), ("classical", cls), ("ml_guided", ml)):
            rows.append({"source": ("a.png", draw), "severity": severity, "path": path, "psnr": psnr, "ssim": 0.5,
                         "ms": 2.0 if path == "classical" else None, "ml_params": None})
    return rows


def test_summary_per_damaged_image_with_standard_error():
    rows = [r for s in ("light", "moderate", "severe") for r in _rows(s)]
    table = chain_eval.summarise(rows, "broad", 512, 7, "test", draws=2)
    assert table["draws"] == 2 and table["n_images"] == 1
    classical = table["per_severity"]["light"]["classical"]
    # Mean gain 2 dB; standard error std([1, 3], ddof=1) / sqrt(2) = sqrt(2) / sqrt(2) = 1 dB.
    assert classical["gain_db"] == pytest.approx(2.0) and classical["gain_se_db"] == pytest.approx(1.0)
    assert classical["n"] == 2 and classical["share_below_input"] == 0.0
    assert table["per_severity"]["light"]["ml_guided"]["share_below_input"] == pytest.approx(0.5)
    assert "± 1.00 dB" in chain_eval.markdown([table])


def test_result_keeps_every_damaged_image_with_its_digest():
    rows = [dict(r, digest=f"d{r['source'][1]}{r['severity'][0]}") for s in ("light", "severe") for r in _rows(s)]
    images = chain_eval.summarise(rows, "broad", 512, 7, "test", draws=2)["images"]
    assert len(images) == 4  # 1 source x 2 draws x 2 severities
    second_light = next(i for i in images if i["draw"] == 1 and i["severity"] == "light")
    assert second_light == {"source": "a.png", "draw": 1, "severity": "light", "digest": "d1l",
                            "input": 30.0, "classical": 33.0, "ml_guided": 30.0}
