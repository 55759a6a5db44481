"""scripts/setup.sh never installs into an externally managed interpreter (PEP 668).

Runs the real script on a copy of the repository with an interpreter whose standard library holds
an ``EXTERNALLY-MANAGED`` marker (Debian's ``/usr/bin/python3``, or a copy of the test interpreter's
layout with the marker added) first on ``PATH`` and no environment active: it must succeed, make
``.venv`` in the copy, and leave the package there, not in the managed interpreter.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _managed_python() -> Path | None:
    """Debian's own python3 when it is externally managed (PEP 668), else None."""
    for candidate in (Path("/usr/bin/python3"),):
        if not candidate.exists():
            continue
        stdlib = subprocess.run(
            [str(candidate), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
            capture_output=True, text=True, check=False).stdout.strip()
        if stdlib and (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
            probe = subprocess.run([str(candidate), "-m", "venv", "--help"],
                                   capture_output=True, check=False)
            if probe.returncode == 0:
                return candidate
    return None


def _copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


@pytest.mark.slow
def test_setup_uses_a_venv_beside_an_externally_managed_python(tmp_path):
    managed = _managed_python()
    if managed is None:
        pytest.skip("no externally managed python3 with venv on this machine")
    repo = tmp_path / "repo"
    _copy_repo(repo)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(managed)
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "ARTRESTORE_PYTHON",
                        "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}:{os.path.dirname(shutil.which('git') or '/usr/bin/git')}:/usr/bin:/bin"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    first = subprocess.run(["bash", "scripts/setup.sh", "core"], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "externally-managed-environment" not in first.stderr
    venv_python = repo / ".venv" / "bin" / "python"
    assert venv_python.exists()
    located = subprocess.run([str(venv_python), "-c", "import artrestore, sys; print(sys.prefix)"],
                             capture_output=True, text=True, cwd=tmp_path, check=True)
    assert Path(located.stdout.strip()) == repo / ".venv"
    in_managed = subprocess.run([str(managed), "-c", "import artrestore"], capture_output=True,
                                cwd=tmp_path, check=False)
    assert in_managed.returncode != 0, "the package landed in the externally managed interpreter"
    # A second run with nothing changed installs nothing.
    second = subprocess.run(["bash", "scripts/setup.sh", "core"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout


def test_env_script_prefers_an_active_environment(tmp_path):
    """With VIRTUAL_ENV set, env.sh picks that interpreter and makes no .venv."""
    fake_env = tmp_path / "env"
    (fake_env / "bin").mkdir(parents=True)
    (fake_env / "bin" / "python").symlink_to(sys.executable)
    env = dict(os.environ, VIRTUAL_ENV=str(fake_env))
    env.pop("ARTRESTORE_PYTHON", None)
    script = f'source "{REPO}/scripts/env.sh" && echo "$ARTRESTORE_PY"'
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(fake_env / "bin" / "python")
    explicit = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                              env=dict(env, ARTRESTORE_PYTHON=sys.executable)).stdout.strip()
    assert explicit == sys.executable
    assert sysconfig.get_path("stdlib")  # the interpreter we point at is a real one


def test_device_train_builds_run_10s_command_with_the_staged_folders(tmp_path):
    stage = tmp_path / "stage"
    for folder in ("clean_train", "extra_0", "extra_1", "clean_val"):
        (stage / folder).mkdir(parents=True)
    env = {**os.environ, "STAGE": str(stage), "RUNS": str(tmp_path / "runs"), "DRY_RUN": "1"}

    def dry(*args):
        done = subprocess.run(["bash", "scripts/device_train.sh", "run", *args], cwd=REPO, env=env,
                              capture_output=True, text=True)
        return done.returncode, done.stdout.split(), done.stderr

    rc, words, _ = dry("dt2", "dt1", "5", "2e-5", "22", "--loss", "psnr")
    assert rc == 0
    trains = [words[i + 1] for i, w in enumerate(words) if w == "--train"]
    assert trains == [str(stage / f) for f in ("clean_train", "extra_0", "extra_1")]
    assert words[words.index("--init") + 1] == str(tmp_path / "runs" / "dt1")
    assert words[words.index("--val") + 1] == str(stage / "clean_val")
    assert words[words.index("--minutes") + 1] == "5" and words[words.index("--seed") + 1] == "22"
    # The caller's options come after run 10's, so they win (argparse keeps the last).
    losses = [words[i + 1] for i, w in enumerate(words) if w == "--loss"]
    assert losses == ["mse_ssim", "psnr"]
    rc, words, _ = dry("dt1", "bundled", "3", "1e-3", "21")
    assert words[words.index("--init") + 1] == "python/artrestore/models/unet"
    assert dry("dt1")[0] == 2
    shutil.rmtree(stage / "clean_val")
    rc, _, err = dry("dt1", "bundled", "3", "1e-3", "21")
    assert rc == 1 and "clean_val" in err


def test_device_train_stages_top_level_folders_and_the_packs_training_folders(tmp_path):
    devdata, stage = tmp_path / "devdata", tmp_path / "stage"
    for folder in ("clean_train", "extra_0", "runs/dt3", "pack3/extra_0", "pack3/val_extra", "pack4/extra_1",
                   "pack4/extra_10"):
        (devdata / folder).mkdir(parents=True)
        (devdata / folder / "x.jpg").write_bytes(folder.encode())
    env = {**os.environ, "STAGE": str(stage), "RUNS": str(tmp_path / "runs"), "DEVDATA": str(devdata),
           "WHEELS": str(tmp_path / "no_wheels")}
    done = subprocess.run(["bash", "scripts/device_train.sh", "stage"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in stage.iterdir()) == ["clean_train", "extra_0", "extra_pack3_0", "extra_pack4_1",
                                                       "extra_pack4_10", "runs"]
    assert (stage / "extra_pack3_0" / "x.jpg").read_bytes() == b"pack3/extra_0"
    assert (stage / "runs" / "dt3" / "x.jpg").is_file()
    # Staging again (the next call of a lease) replaces, never nests.
    done = subprocess.run(["bash", "scripts/device_train.sh", "stage"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and not (stage / "extra_pack3_0" / "extra_0").exists()


def test_ship_refuses_a_candidate_without_its_eight_view_hold(tmp_path):
    model = tmp_path / "eval" / "model"
    model.mkdir(parents=True)
    (model / "unet.npz").write_bytes(b"not read")
    bundled = REPO / "python/artrestore/models/unet/unet.npz"
    before = bundled.read_bytes()
    for meta, missing in (({"change_keep": {}, "hold_choice": {}}, "change_keep_x8"),
                          ({"change_keep_x8": {}, "hold_choice_x8": {}}, "change_keep")):
        (model / "model_metadata.json").write_text(json.dumps(meta))
        done = subprocess.run(["bash", "scripts/ship_unet_candidate.sh", str(tmp_path / "eval")], cwd=REPO,
                              capture_output=True, text=True)
        assert done.returncode != 0 and "incomplete candidate" in done.stderr and missing in done.stderr
    assert bundled.read_bytes() == before  # refused before anything was copied
