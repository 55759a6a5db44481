"""Model array files (``_modelfile``): written aligned and uncompressed, read once, checked by
SHA-256, viewed in place; NumPy's own ``np.load`` is the reference reader."""
import io
import struct
import zipfile

import numpy as np
import pytest

from artrestore._modelfile import load_arrays, save_arrays, sha256

ARRAYS = {
    "feature": np.array([0, -2, 3, -2, -2], np.int32),
    "threshold": np.linspace(-1.5, 2.5, 5),
    "value": np.arange(15, dtype=np.float64).reshape(5, 3) / 7,
    "tree_roots": np.array([0], np.int32),
    "empty": np.zeros((0, 4), np.float64),
}
SCHEMA = {name: (a.dtype, a.ndim) for name, a in ARRAYS.items()}


def _stored_npz(path, entries: dict[str, bytes]) -> str:
    """A zip of stored entries named ``<name>.npy`` with the given bytes; its SHA-256."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(f"{name}.npy", data)
    return sha256(path)


def _npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_saved_file_is_a_plain_npz_that_numpy_reads(tmp_path):
    path = tmp_path / "m.npz"
    digest = save_arrays(path, ARRAYS)
    assert digest == sha256(path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(ARRAYS)
        for name, array in ARRAYS.items():
            assert npz[name].dtype == array.dtype and np.array_equal(npz[name], array)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_saved_entries_start_on_64_byte_boundaries(tmp_path):
    path = tmp_path / "m.npz"
    save_arrays(path, ARRAYS)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_len + extra_len
            assert start % 64 == 0, info.filename
            assert data[start:start + 6] == b"\x93NUMPY"


def test_same_arrays_give_the_same_bytes(tmp_path):
    assert save_arrays(tmp_path / "a.npz", ARRAYS) == save_arrays(tmp_path / "b.npz", dict(ARRAYS))


def test_loaded_arrays_are_read_only_aligned_views_equal_to_numpys(tmp_path):
    path = tmp_path / "m.npz"
    arrays = load_arrays(path, SCHEMA, "test", save_arrays(path, ARRAYS))
    for name, array in ARRAYS.items():
        loaded = arrays[name]
        assert loaded.dtype == array.dtype and np.array_equal(loaded, array)
        assert loaded.flags.aligned and loaded.flags.c_contiguous and not loaded.flags.writeable
    with pytest.raises(ValueError):
        arrays["threshold"][0] = 0.0


@pytest.mark.parametrize("writer", [np.savez, np.savez_compressed])
def test_files_written_by_numpy_still_load(tmp_path, writer):
    """Model folders saved before the aligned format (compressed, or stored but unaligned)."""
    path = tmp_path / "old.npz"
    writer(path, **ARRAYS)
    arrays = load_arrays(path, SCHEMA, "test", sha256(path))
    for name, array in ARRAYS.items():
        assert arrays[name].dtype == array.dtype and np.array_equal(arrays[name], array)
        assert arrays[name].flags.aligned


def test_a_changed_byte_or_a_missing_hash_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    digest = save_arrays(path, ARRAYS)
    with pytest.raises(ValueError, match="SHA-256"):
        load_arrays(path, SCHEMA, "test", None)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_arrays(path, SCHEMA, "test", digest)
    with pytest.raises(FileNotFoundError, match="test"):
        load_arrays(tmp_path / "missing.npz", SCHEMA, "test", digest)


def test_wrong_dtype_or_rank_or_missing_array_is_named(tmp_path):
    path = tmp_path / "m.npz"
    digest = save_arrays(path, {**ARRAYS, "feature": ARRAYS["feature"].astype(np.int64)})
    with pytest.raises(ValueError, match="'feature' must be int32"):
        load_arrays(path, SCHEMA, "test", digest)
    digest = save_arrays(path, {name: a for name, a in ARRAYS.items() if name != "value"})
    with pytest.raises(ValueError, match="not a test array file"):
        load_arrays(path, SCHEMA, "test", digest)


def test_an_entry_whose_header_overstates_its_data_is_refused(tmp_path):
    """A stored entry cut short: its header promises more bytes than the entry holds."""
    path = tmp_path / "short.npz"
    whole = _npy_bytes(np.arange(100, dtype=np.float64))
    digest = _stored_npz(path, {"x": whole[:-8]})
    with pytest.raises(ValueError, match="do not hold"):
        load_arrays(path, {"x": (np.float64, 1)}, "test", digest)


def test_pickled_objects_are_refused_not_unpickled(tmp_path):
    path = tmp_path / "objects.npz"
    digest = _stored_npz(path, {"x": _npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)})
    with pytest.raises(ValueError, match="objects"):
        load_arrays(path, {"x": (np.float64, 1)}, "test", digest)


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a test array file"):
        load_arrays(path, SCHEMA, "test", sha256(path))
