"""scripts/pack_training_data.py: chunks sized to what a device call carries beside the tracked files."""
import importlib.util
import pathlib
import subprocess

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "pack_training_data.py"


@pytest.fixture(scope="module")
def pack():
    spec = importlib.util.spec_from_file_location("pack_training_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_chunk_is_the_call_budget_less_tracked_files_and_margin(pack, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "tracked.bin").write_bytes(bytes(3 * 2**20))
    (tmp_path / "untracked.bin").write_bytes(bytes(5 * 2**20))  # not in git: does not travel as tracked
    subprocess.run(["git", "-C", str(tmp_path), "add", "tracked.bin"], check=True)
    assert pack.default_chunk_mib(tmp_path) == pytest.approx(pack.DEVICE_CALL_MIB - pack.MARGIN_MIB - 3)


def test_a_full_tree_still_gets_a_one_mib_chunk(pack, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "big.bin").write_bytes(bytes(70 * 2**20))
    subprocess.run(["git", "-C", str(tmp_path), "add", "big.bin"], check=True)
    assert pack.default_chunk_mib(tmp_path) == 1.0


def test_held_out_crops_keep_their_source_together_and_the_share_holds(pack):
    """All crops of one source image go the same way, the choice depends on the name alone, and
    about the asked share of sources is held out (a binomial bound on 4000 names)."""
    assert pack.source_group("0195b252b5b9eb5e_1") == pack.source_group("0195b252b5b9eb5e_0") == "0195b252b5b9eb5e"
    assert pack.source_group("photo") == "photo" and pack.source_group("a_b") == "a_b"
    names = [f"{k:016x}" for k in range(4000)]
    picked = [n for n in names if pack.held_out(n + "_0", 0.1)]
    assert all(pack.held_out(n + "_3", 0.1) for n in picked)
    assert abs(len(picked) - 400) < 4 * (4000 * 0.1 * 0.9) ** 0.5
    assert not any(pack.held_out(n, 0.0) for n in names) and all(pack.held_out(n, 1.0) for n in names)


def test_held_out_sources_are_written_apart_from_every_training_chunk(tmp_path):
    import sys

    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    clean, extra = tmp_path / "clean", tmp_path / "crops"
    for folder, names in ((clean, [f"c{k}.png" for k in range(4)]),
                          (extra, [f"{s:04x}_{k}.png" for s in range(12) for k in range(2)])):
        folder.mkdir()
        for name in names:
            cv2.imwrite(str(folder / name), rng.integers(0, 256, (256, 300, 3), dtype=np.uint8))
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(SCRIPT), "--clean", str(clean), "--extra", str(extra), "--out", str(out),
                    "--chunk-mb", "1", "--holdout-fraction", "0.5"], check=True, capture_output=True)
    held = {p.name for p in (out / "val_extra").iterdir()}
    trained = {p.name for d in out.glob("extra_*") for p in d.iterdir()}
    assert held and trained and not held & trained and len(held | trained) == 24
    group = lambda name: name.split("__")[1].rsplit("_", 1)[0]  # noqa: E731
    assert not {group(n) for n in held} & {group(n) for n in trained}
