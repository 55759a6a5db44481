"""Safe reading of model folders shared by the routers, the decision and the U-Net: a
``model_metadata.json`` with a format tag and a SHA-256 of the array file beside it, and the
arrays themselves (``.npz`` read without pickle, each checked for dtype and rank). Nothing here
executes code from a file.

The forests' array files are written uncompressed (``save_arrays``): a restorer loads about 20 MB
of them at start-up, and inflating them, then copying each array out of the zip, cost about as
much CPU time as restoring the first image (git and wheels compress the files anyway).
``load_arrays`` reads a file once, checks the SHA-256 of the very bytes it parses, and returns
read-only views into those bytes for stored entries (``np.load`` still reads compressed ones)."""
from __future__ import annotations

import hashlib
import io
import json
import pathlib
import struct
import zipfile

import numpy as np

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip entry's local header (30 bytes, APPNOTE 4.3.7)
_PAD = struct.Struct("<2H")  # an extra field's id and size (APPNOTE 4.5.1)
_PAD_ID = 0xD935  # the id zipalign gives its padding field
_ALIGN = 64  # .npy headers are padded to 64 bytes, so the arrays' data are aligned too
_NPY_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def model_folder(path, bundled: pathlib.Path) -> pathlib.Path:
    """The folder a model is read from: ``path`` (the folder, or a file inside it), None: ``bundled``."""
    folder = pathlib.Path(path) if path is not None else pathlib.Path(bundled)
    return folder.parent if folder.is_file() else folder


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def read_metadata(folder: pathlib.Path, fmt: str, label: str, *, filename: str = "model_metadata.json",
                  missing_hint: str = "") -> dict:
    """The folder's ``filename`` (JSON, format tag ``fmt``) as a dict, or FileNotFoundError (with
    ``missing_hint`` in brackets) / ValueError naming it."""
    meta_path = pathlib.Path(folder) / filename
    if not meta_path.is_file():
        raise FileNotFoundError(f"{label}: {meta_path} not found" + (f" ({missing_hint})" if missing_hint else ""))
    try:
        meta = json.loads(meta_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{label}: {meta_path} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ValueError(f"{label}: {meta_path} is not an {fmt} file")
    return meta


def check_arrays(path: pathlib.Path, expected_sha256: str | None, label: str) -> None:
    """The array file exists and matches the hash recorded in its metadata."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{label}: {path} not found")
    if sha256(path) != expected_sha256:
        raise ValueError(f"{label}: {path} does not match the SHA-256 in its metadata (tampered or foreign)")


def save_arrays(path: pathlib.Path, arrays: dict[str, np.ndarray]) -> str:
    """Write ``arrays`` to the ``.npz`` at ``path``: a zip of stored (uncompressed) ``.npy`` entries
    whose data start on 64-byte boundaries (a padding field in each entry's local header, as
    Android's zipalign does), so ``load_arrays`` can view them in place; a plain ``.npz`` to
    ``np.load``. Entries carry a fixed date: equal arrays give equal bytes. Returns the file's
    SHA-256 for the metadata."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.asarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            data_start = archive.fp.tell() + _LOCAL_HEADER.size + len(entry.filename.encode()) + _PAD.size
            entry.extra = _PAD.pack(_PAD_ID, -data_start % _ALIGN) + bytes(-data_start % _ALIGN)
            archive.writestr(entry, npy.getvalue())
    return sha256(path)


def load_arrays(path: pathlib.Path, schema: dict, label: str, expected_sha256: str | None) -> dict[str, np.ndarray]:
    """The arrays named in ``schema`` ({name: (dtype, ndim)}) from the ``.npz`` at ``path``, read
    without pickle, once: the bytes whose SHA-256 must equal ``expected_sha256`` (the metadata's;
    None never matches) are the bytes parsed. FileNotFoundError, or ValueError naming the file, the
    mismatch, or the array whose dtype or rank is not the schema's."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{label}: {path} not found")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ValueError(f"{label}: {path} does not match the SHA-256 in its metadata (tampered or foreign)")
    try:
        arrays = _npz_arrays(data, schema)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, struct.error) as error:
        raise ValueError(f"{label}: {path} is not a {label} array file ({error})") from None
    for name, (dtype, ndim) in schema.items():
        if arrays[name].dtype != dtype or arrays[name].ndim != ndim:
            raise ValueError(f"{label}: array {name!r} must be {np.dtype(dtype).name} with {ndim} dims")
    return arrays



def _npz_arrays(data: bytes, names) -> dict[str, np.ndarray]:
    """``names`` from the ``.npz`` held in ``data``: stored (uncompressed) entries as read-only
    views into ``data``, compressed ones through ``np.load``; never pickled objects."""
    arrays, compressed = {}, []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in names:
            info = archive.getinfo(f"{name}.npy")  # KeyError names a missing array
            if info.compress_type != zipfile.ZIP_STORED:
                compressed.append(name)
                continue
            header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
            if header[0] != b"PK\x03\x04":
                raise ValueError(f"array {name!r}: bad zip entry header")
            start = info.header_offset + _LOCAL_HEADER.size + header[-2] + header[-1]
            arrays[name] = _npy_view(data, start, info.file_size, name)
    if compressed:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays.update({name: npz[name] for name in compressed})
    return arrays


def _npy_view(data: bytes, start: int, size: int, name: str) -> np.ndarray:
    """The ``.npy`` file at ``data[start:start + size]`` as a read-only array viewing ``data``."""
    npy = io.BytesIO(memoryview(data)[start:start + min(size, 1 << 20)])  # the header only
    version = np.lib.format.read_magic(npy)
    if version not in _NPY_READERS:
        raise ValueError(f"array {name!r}: .npy format {version} is not supported")
    shape, fortran_order, dtype = _NPY_READERS[version](npy)
    if dtype.hasobject:
        raise ValueError(f"array {name!r} holds Python objects")
    count = int(np.prod(shape, dtype=np.int64))
    if npy.tell() + count * dtype.itemsize != size:
        raise ValueError(f"array {name!r}: {size} bytes do not hold a {dtype} array of shape {shape}")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=start + npy.tell())
    if not flat.flags.aligned:  # a file not written by save_arrays (np.savez does not align)
        flat = flat.copy()
        flat.flags.writeable = False
    return flat.reshape(shape, order="F" if fortran_order else "C")
