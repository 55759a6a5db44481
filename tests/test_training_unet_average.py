"""training.unet_average: the weighted mean of two runs' arrays against NumPy's own, the
record of the sources, and refusals (other shapes, an existing output folder, tampered weights)."""
import hashlib
import io
import json

import numpy as np
import pytest

from artrestore.dl.contract import FORMAT
from artrestore.training import unet_average


def _write_run(folder, arrays, architecture=None):
    folder.mkdir(parents=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (folder / "unet.npz").write_bytes(buffer.getvalue())
    meta = {"format": FORMAT, "architecture": architecture or {"base": 4}, "commit": folder.name,
            "weights_sha256": hashlib.sha256(buffer.getvalue()).hexdigest()}
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    return folder


def _arrays(seed):
    rng = np.random.default_rng(seed)
    return {"w000": rng.normal(size=(3, 3, 2, 4)).astype(np.float16), "w001": rng.normal(size=4).astype(np.float16)}


def test_weighted_mean_matches_numpy(tmp_path):
    a, b = _arrays(1), _arrays(2)
    out = unet_average.average_runs(tmp_path / "soup", [_write_run(tmp_path / "a", a), _write_run(tmp_path / "b", b)],
                                    [3.0, 1.0])
    with np.load(out / "unet.npz", allow_pickle=False) as npz:
        for name in a:
            expected = 0.75 * a[name].astype(np.float64) + 0.25 * b[name].astype(np.float64)
            assert npz[name].dtype == np.float16
            np.testing.assert_allclose(npz[name].astype(np.float64), expected, atol=2e-3)
    meta = json.loads((out / "model_metadata.json").read_text())
    assert meta["weights_sha256"] == hashlib.sha256((out / "unet.npz").read_bytes()).hexdigest()
    assert [s["weight"] for s in meta["averaged_from"]] == [0.75, 0.25]
    assert [s["commit"] for s in meta["averaged_from"]] == ["a", "b"]


def test_equal_weights_by_default_and_identity_on_one_run_twice(tmp_path):
    a = _arrays(3)
    run = _write_run(tmp_path / "a", a)
    out = unet_average.average_runs(tmp_path / "soup", [run, run])
    with np.load(out / "unet.npz", allow_pickle=False) as npz:
        for name in a:
            np.testing.assert_array_equal(npz[name], a[name])


def test_refusals(tmp_path):
    a = _write_run(tmp_path / "a", _arrays(1))
    other = _arrays(2)
    other["w001"] = np.zeros(5, np.float16)
    with pytest.raises(ValueError, match="shape"):
        unet_average.average_runs(tmp_path / "s1", [a, _write_run(tmp_path / "b", other)])
    with pytest.raises(ValueError, match="architectures"):
        unet_average.average_runs(tmp_path / "s2", [a, _write_run(tmp_path / "c", _arrays(2), {"base": 8})])
    with pytest.raises(ValueError, match="two or more"):
        unet_average.average_runs(tmp_path / "s3", [a])
    with pytest.raises(ValueError, match="non-negative"):
        unet_average.average_runs(tmp_path / "s4", [a, a], [1.0, -1.0])
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError):
        unet_average.average_runs(tmp_path / "exists", [a, a])
    tampered = _write_run(tmp_path / "d", _arrays(4))
    (tampered / "unet.npz").write_bytes((tampered / "unet.npz").read_bytes() + b"x")
    with pytest.raises(ValueError, match="SHA-256"):
        unet_average.average_runs(tmp_path / "s5", [a, tampered])
    assert not any((tmp_path / name).exists() for name in ("s1", "s2", "s3", "s4", "s5"))
