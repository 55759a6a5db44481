"""benchmarks/family_eval.py: the same test sources as the dataset builder, and the gap arithmetic."""
import csv
import pathlib
import sys

import numpy as np
import pytest

from artrestore.imageio import write_image
from artrestore.training.datasets import build_dataset
from artrestore.training.synthesis import SEVERITIES

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import family_eval  # noqa: E402


def test_test_sources_are_the_dataset_builders_test_split(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "clean"
    for k in range(9):
        size = (40, 700) if k == 0 else (48, 64)  # one wide image: shrunk to a longer side of 512
        write_image(src / ("sub" if k % 2 else "") / f"im{k}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    build_dataset(src, tmp_path / "ds", per_image=1, size=32, seed=4, progress=False)
    with open(tmp_path / "ds" / "pairs.csv") as fh:
        expected = sorted({row["source"] for row in csv.DictReader(fh) if row["split"] == "test"})
    got = family_eval.test_sources(src, 4)
    assert sorted(name for name, _ in got) == expected
    assert all(max(image.shape[:2]) <= 512 and image.dtype == np.uint8 for _, image in got)


def test_summary_means_counts_and_gaps():
    rows = []
    # Per family, input PSNR 20 and auto PSNR 20 + gain; legacy gains 4 dB, broad 3, check 1.
    for family, gain in (("legacy", 4.0), ("broad", 3.0), ("check", 1.0)):
        for severity in SEVERITIES:
            for image in ("a", "b"):
                base = {"image": image, "family": family, "severity": severity, "ms": 1.0, "cpu_ms": 1.0}
                rows.append({**base, "strategy": "input", "psnr": 20.0, "ssim": 0.5, "method": "-"})
                method = "deep_learning" if image == "a" else "ml_guided"
                rows.append({**base, "strategy": "auto", "psnr": 20.0 + gain, "ssim": 0.6, "method": method})
    summary = family_eval.summarise(rows, ("auto",))
    assert summary["cells"]["broad"]["severe"]["auto"]["psnr"] == pytest.approx(23.0)
    assert summary["auto_methods"]["check"]["light"] == {"deep_learning": 1, "ml_guided": 1}
    assert summary["gain_gap_db"]["legacy_vs_check"]["auto"]["moderate"] == pytest.approx(3.0)
    assert summary["gain_gap_db"]["broad_vs_check"]["auto"]["light"] == pytest.approx(2.0)
    table = family_eval.markdown(summary, ("auto",), 2)
    assert "| check | severe | 20.00 / 0.500 | 21.00 / 0.600 | 0 / 1 / 1 |" in table
