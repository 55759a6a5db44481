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
