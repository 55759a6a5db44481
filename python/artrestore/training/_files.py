"""Files written by the training tools: atomic, never replacing what is there.

``write_new(path, data)``: bytes to ``path`` through a temporary file in the same folder that is
hard-linked into place, so a reader never sees half a file and an existing file raises
``FileExistsError`` instead of being replaced. ``csv_bytes(columns, rows)``: rows (dicts) as CSV.
"""
from __future__ import annotations

import csv
import io
import os
import pathlib
import tempfile

__all__ = ["csv_bytes", "write_new"]


def write_new(path, data: bytes) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.link(tmp, path)          # raises FileExistsError instead of replacing
    finally:
        os.unlink(tmp)
    return path


def csv_bytes(columns, rows) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()
