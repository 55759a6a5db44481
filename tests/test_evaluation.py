"""The demo and the evaluation report without deep learning (use_dl=False): what a user without
TensorFlow runs first."""
import re

import numpy as np
import pytest

from artrestore import evaluation
from artrestore._resources import SAMPLES
from artrestore.imageio import read_image, write_image
from artrestore.training.datasets import build_dataset

skm = pytest.importorskip("skimage.metrics")


def _table(report: str) -> dict:
    """strategy -> (all-PSNR, all-SSIM) from the report's Markdown table."""
    rows = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and re.fullmatch(r"[\d.]+ / [\d.]+", cells[-2]):
            psnr, ssim = map(float, cells[-2].split(" / "))
            rows[cells[0]] = (psnr, ssim)
    return rows


def test_demo_without_dl_restores_every_sample_and_reports(tmp_path, capsys):
    status = evaluation.demo(tmp_path, use_dl=False)
    assert status == 0
    samples = sorted((SAMPLES / "damaged").glob("*.jpg"))
    restored = sorted((tmp_path / "restored").glob("*.png"))
    assert len(restored) == len(samples) > 0
    report = (tmp_path / "report.md").read_text()
    table = _table(report)
    assert set(table) == {"input", "classical", "ml_guided", "auto"}  # no dl row without deep learning
    # The input row against an independent PSNR / SSIM of the bundled pairs.
    psnr = np.mean([skm.peak_signal_noise_ratio(read_image(SAMPLES / "clean" / p.name), read_image(p), data_range=255)
                    for p in samples])
    assert table["input"][0] == pytest.approx(psnr, abs=0.01)
    assert (tmp_path / "grid.png").is_file() and (tmp_path / "psnr_vs_time.png").is_file()
    out = capsys.readouterr().out
    assert all(f"{p.name}: restored" in out for p in samples)


def test_evaluate_without_dl_on_a_small_dataset(tmp_path, astronaut):
    src = tmp_path / "src"
    for i in range(8):
        write_image(src / f"c{i}.png", np.roll(astronaut, 50 * i, axis=0)[::4, ::4])
    build_dataset(src, tmp_path / "ds", per_image=3, size=96, seed=0, progress=False)
    report_path = evaluation.evaluate(tmp_path / "ds", tmp_path / "report", split="test", use_dl=False, progress=False)
    report = report_path.read_text()
    table = _table(report)
    assert set(table) == {"input", "classical", "ml_guided", "auto"}
    # Without deep learning, auto never reports the U-Net as the method it used.
    counts = re.search(r"Method chosen by `auto`: (.*)", report).group(1)
    assert "deep_learning 0 (0 %)" in counts


def test_library_versions_name_the_installed_numpy_and_opencv():
    import platform

    import cv2

    versions = evaluation.library_versions()
    assert versions["numpy"] == np.__version__ and versions["opencv"] == cv2.__version__
    assert versions["python"] == platform.python_version()
    assert all(isinstance(v, str) and v for v in versions.values())


def test_routing_report_header_names_the_libraries_when_recorded():
    from artrestore.training.routing_report import _libraries

    assert _libraries({"libraries": {"python": "3.11.7", "numpy": "2.4.6", "opencv": "5.1.0"}}) == \
        ", numpy 2.4.6, opencv 5.1.0"
    assert _libraries({}) == ""  # a report written before versions were recorded
