"""Where a batch reads its inputs and writes its outputs: a local folder or a filesystem URL.

``open_store(location)`` gives a ``LocalStore`` for a plain path and an ``ArrowStore`` for a URL.
``LocalStore`` reads and writes with the single-machine functions (``read_image``,
``write_image``), so a cluster run gives the same bytes and the same error messages as
``HybridRestorer.batch_restore``. ``ArrowStore`` goes through ``pyarrow.fs``, the filesystem
layer Ray Data itself uses: ``s3://``, ``gs://``, ``abfs://``, ``hdfs://`` and ``file://`` natively,
and any other fsspec protocol through pyarrow's ``FSSpecHandler`` (the protocol's fsspec package,
e.g. ``adlfs``, must be installed). Credentials come from each filesystem's usual chain
(environment, instance role, config files); this module never handles them.

Paths handed around are strings in the store's own form (``bucket/key`` for S3); ``display``
turns one back into what a user would type, for summaries. Stores are picklable: a Ray worker
re-opens the filesystem from the location string. Writes are atomic: a temporary file named by
``imageio.partial_name`` and renamed, except on object stores (S3, GCS, Azure), where an object
appears whole when its upload completes and a rename would be a second copy.
"""
from __future__ import annotations

import os
import pathlib
import posixpath
import uuid

from artrestore._optional import require
from artrestore.imageio import (
    IMAGE_SUFFIXES,
    decode_image_file,
    encode_image,
    load_image,
    partial_name,
    read_image,
    write_file_atomic,
    write_image,
)

# Filesystems whose objects appear only whole, when the upload completes (pyarrow type names).
_WHOLE_OBJECT_STORES = {"s3", "gcs", "abfs"}


def is_url(location) -> bool:
    return isinstance(location, str) and "://" in location


def open_store(location):
    """A store for a plain path (``LocalStore``) or a filesystem URL (``ArrowStore``)."""
    return ArrowStore(location) if is_url(location) else LocalStore(location)


def _partials_of(names, targets: set[str]) -> list[str]:
    """The names among ``names`` that are temporary files of a write to one of ``targets``."""
    return [name for name in names if name.endswith(".part")
            and any(name.startswith(partial_name(target)) for target in targets)]


class LocalStore:
    """A local folder, read and written exactly as the single-machine batch does."""

    def __init__(self, location):
        self.root = pathlib.Path(location)
        self.location = str(location)

    def list_images(self, *, recursive: bool):
        from artrestore.batch_files import list_sources

        return list_sources(self.root, recursive=recursive)

    def prepare_output(self) -> None:
        from artrestore.batch_files import prepare_output_folder

        prepare_output_folder(self.root)

    def display(self, path: str) -> str:
        return path

    def existing(self, paths) -> set[str]:
        return {p for p in paths if os.path.exists(p)}

    def read_image(self, path: str):
        return read_image(path)

    def load_image(self, path: str):
        return load_image(path)

    def write_image(self, path: str, image) -> None:
        write_image(path, image, overwrite=True)

    def write_bytes(self, path: str, data: bytes) -> None:
        write_file_atomic(path, data)

    def remove_partials(self, targets) -> list[str]:
        """Delete the temporary files a killed writer left beside ``targets``; returns their paths."""
        removed = []
        for folder, names in _by_folder(targets, os.path).items():
            try:
                entries = os.listdir(folder)
            except FileNotFoundError:
                continue
            for name in _partials_of(entries, names):
                path = os.path.join(folder, name)
                try:
                    os.unlink(path)
                    removed.append(path)
                except FileNotFoundError:
                    pass
        return removed


class ArrowStore:
    """A folder behind a filesystem URL, through ``pyarrow.fs`` (fsspec protocols via FSSpecHandler)."""

    def __init__(self, location: str):
        self.location = location.rstrip("/")
        self._fs = None
        self.root = pathlib.PurePosixPath(posixpath.normpath(self._resolve()[1]))
        self._scheme = self.location.split("://", 1)[0]

    def __getstate__(self):  # a worker re-opens the filesystem from the location
        return {**self.__dict__, "_fs": None}

    def _resolve(self):
        pafs = require("pyarrow.fs")
        try:
            fs, path = pafs.FileSystem.from_uri(self.location)
        except ValueError:  # a protocol pyarrow has no native filesystem for: ask fsspec
            fsspec = require("fsspec")
            fs_, path = fsspec.core.url_to_fs(self.location)
            fs = pafs.PyFileSystem(pafs.FSSpecHandler(fs_))
        self._fs = fs
        return fs, path

    @property
    def fs(self):
        return self._fs or self._resolve()[0]

    def display(self, path: str) -> str:
        return f"{self._scheme}://{path}"

    def list_images(self, *, recursive: bool):
        import pyarrow.fs as pafs

        info = self.fs.get_file_info(str(self.root))
        if info.type != pafs.FileType.Directory:
            raise FileNotFoundError(f"input folder not found: {self.location}")
        entries = self.fs.get_file_info(pafs.FileSelector(str(self.root), recursive=recursive))
        paths = sorted(e.path for e in entries if e.type == pafs.FileType.File
                       and posixpath.splitext(e.path)[1].lower() in IMAGE_SUFFIXES)
        return [pathlib.PurePosixPath(p) for p in paths], []

    def prepare_output(self) -> None:
        import pyarrow.fs as pafs

        if self.fs.get_file_info(str(self.root)).type == pafs.FileType.File:
            raise ValueError(f"output path is not a folder: {self.location}")
        self.fs.create_dir(str(self.root), recursive=True)

    def existing(self, paths) -> set[str]:
        """Those of ``paths`` that exist: one listing per folder, not one request per file."""
        import pyarrow.fs as pafs

        found = set()
        for folder, names in _by_folder(paths, posixpath).items():
            entries = self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
            found |= {posixpath.join(folder, posixpath.basename(e.path)) for e in entries
                      if e.type != pafs.FileType.NotFound and posixpath.basename(e.path) in names}
        return found

    def read_image(self, path: str):
        return self.load_image(path).rgb

    def load_image(self, path: str):
        with self.fs.open_input_file(path) as fh:
            data = fh.read()
        return decode_image_file(data, name=self.display(path))

    def write_image(self, path: str, image) -> None:
        self.write_bytes(path, encode_image(image, posixpath.splitext(path)[1] or ".png"))

    def write_bytes(self, path: str, data: bytes) -> None:
        folder, name = posixpath.split(path)
        self.fs.create_dir(folder, recursive=True)
        if self.fs.type_name in _WHOLE_OBJECT_STORES:
            with self.fs.open_output_stream(path) as fh:
                fh.write(data)
            return
        tmp = posixpath.join(folder, f"{partial_name(name)}{uuid.uuid4().hex[:8]}.part")
        try:
            with self.fs.open_output_stream(tmp) as fh:
                fh.write(data)
            self.fs.move(tmp, path)
        except BaseException:
            try:
                self.fs.delete_file(tmp)
            except OSError:
                pass
            raise

    def remove_partials(self, targets) -> list[str]:
        import pyarrow.fs as pafs

        removed = []
        for folder, names in _by_folder(targets, posixpath).items():
            entries = self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
            for name in _partials_of([posixpath.basename(e.path) for e in entries], names):
                path = posixpath.join(folder, name)
                try:
                    self.fs.delete_file(path)
                    removed.append(path)
                except FileNotFoundError:
                    pass
        return removed


def _by_folder(targets, flavour) -> dict[str, set[str]]:
    folders: dict[str, set[str]] = {}
    for target in targets:
        folder, name = flavour.split(target)
        folders.setdefault(folder, set()).add(name)
    return folders


__all__ = ["open_store", "is_url", "LocalStore", "ArrowStore"]
