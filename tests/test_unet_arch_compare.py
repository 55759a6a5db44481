"""benchmarks/unet_arch_compare.py: every candidate is a valid architecture and loss, unknown
candidates are refused before anything runs, and the report's arithmetic."""
import json
import pathlib
import sys

import pytest

from artrestore.dl.contract import UNetConfig
from artrestore.training.losses import LOSSES

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import unet_arch_compare  # noqa: E402


def test_every_candidate_is_a_valid_architecture_and_loss():
    for name, (architecture, loss) in unet_arch_compare.CANDIDATES.items():
        UNetConfig(global_context=True, **architecture)
        assert loss in LOSSES, name
    assert unet_arch_compare.CANDIDATES["plain32"][0] == {}  # the reference is the shipped default


def test_unknown_candidates_are_refused_before_training(tmp_path):
    with pytest.raises(SystemExit, match="unknown candidates"):
        unet_arch_compare.main(["train", "--candidates", "plain32,resnet", "--tag", "t", "--train", str(tmp_path),
                                "--val", str(tmp_path), "--runs", str(tmp_path / "runs" / "models"),
                                "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_report_gain_and_gain_per_gflop(tmp_path, capsys):
    levels = {"light": (30.0, 31.0), "moderate": (20.0, 22.0), "severe": (10.0, 13.0)}  # gains 1, 2, 3
    validation = {s: {"input_psnr": i, "psnr": o} for s, (i, o) in levels.items()}
    train = {"tag": "t", "results": {"plain16": {"validation": validation, "steps": 4800}}}
    cost = {"cost": {"plain16": {"gflop_256": 4.0, "onnx_fp32_ms_1024": 500.0, "weights_mb_fp16": 4.5},
                     "plain32": {"gflop_256": 22.0, "onnx_fp32_ms_1024": 2000.0, "weights_mb_fp16": 11.0}}}
    for name, data in (("train.json", train), ("cost.json", cost)):
        (tmp_path / name).write_text(json.dumps(data))
    unet_arch_compare.main(["report", str(tmp_path / "train.json"), str(tmp_path / "cost.json")])
    row = capsys.readouterr().out.splitlines()[-1]
    # Mean gain (1 + 2 + 3) / 3 = 2 dB; per GFLOP 2 / 4 = 0.5; CPU time 500 / 2000 = 0.25x.
    assert "| +2.00 | +0.500 |" in row and "(0.25x)" in row and "31.00 / 22.00 / 13.00" in row
