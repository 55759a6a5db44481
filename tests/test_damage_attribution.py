"""benchmarks/damage_attribution.py: its figures against OpenCV's PSNR of the same draws."""
import pathlib
import sys

import cv2
import numpy as np
import pytest

from artrestore.training.broad_damage import broad_damage
from artrestore.training.damage_ranges import KINDS, PROBABILITY, SEVERITIES

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import damage_attribution  # noqa: E402


def test_drawn_and_per_kind_psnr_match_opencv(astronaut):
    image = cv2.resize(astronaut, (96, 96), interpolation=cv2.INTER_AREA)
    result = damage_attribution.attribute([image], draws=1)
    assert set(result) == set(SEVERITIES)
    for severity in SEVERITIES:
        seed = 5000  # the script's seed for the first source and draw
        want = min(cv2.PSNR(image, broad_damage(image, severity, seed)[0]), damage_attribution.PSNR_CAP)
        assert result[severity]["drawn_psnr"] == pytest.approx(want, abs=1e-3)
        assert set(result[severity]["kinds"]) == set(KINDS)
        for kind in ("fade", "scratches"):
            alone = broad_damage(image, severity, seed, kinds=[kind])[0]
            entry = result[severity]["kinds"][kind]
            assert entry["alone_psnr"] == pytest.approx(min(cv2.PSNR(image, alone), 60.0), abs=0.01)
            assert entry["probability"] == PROBABILITY[severity][kind]
        assert 0 <= result[severity]["mask_fraction"] <= 1
    # Severe damage takes more away than light, kind by kind on average.
    assert np.mean([v["loss_db"] for v in result["severe"]["kinds"].values()]) > \
        np.mean([v["loss_db"] for v in result["light"]["kinds"].values()])
