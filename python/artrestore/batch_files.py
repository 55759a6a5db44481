"""A folder batch's files: which inputs (``list_sources``), where each output goes
(``assign_outputs``: same relative folder, ``<stem>_<suffix>.<ext>``), the output folder checked
(``prepare_output_folder``), and the ``summary.csv`` / ``summary.json`` bytes. Shared by
``HybridRestorer.batch_restore`` and ``artrestore.cluster`` so both engines name outputs the same way.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pathlib

from artrestore.imageio import IMAGE_SUFFIXES


def plan_batch(input_dir, output_dir, *, recursive=False, suffix="restored", ext="png"):
    """Check the folders, create ``output_dir`` and list a batch's work: returns ``(plans, rows)``,
    ``plans`` the (source, target) pairs in order, ``rows`` the failed rows of files refused before
    any work. Shared with ``artrestore.cluster`` so both engines name outputs the same way."""
    input_dir, output_dir = pathlib.Path(input_dir), pathlib.Path(output_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder not found: {input_dir}")
    prepare_output_folder(output_dir)
    sources, rows = list_sources(input_dir, recursive=recursive)
    return assign_outputs(sources, input_dir, output_dir, suffix, ext), rows


def prepare_output_folder(output_dir) -> None:
    """Create ``output_dir`` or say clearly why it cannot be written."""
    output_dir = pathlib.Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"output path is not a folder: {output_dir}")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create the output folder {output_dir}: {error.strerror or error}") from None
    if not os.access(output_dir, os.W_OK):
        raise ValueError(f"output folder is not writable: {output_dir}")


def list_sources(input_dir, *, recursive=False) -> tuple[list[pathlib.Path], list[dict]]:
    """The image files of a local folder, sorted, and the failed rows of those refused (symbolic
    links that leave ``input_dir``)."""
    input_dir = pathlib.Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder not found: {input_dir}")
    root = input_dir.resolve()
    pattern = "**/*" if recursive else "*"
    candidates = sorted(p for p in input_dir.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)
    sources, rows = [], []
    for path in candidates:
        if path.is_symlink() and not _inside(path.resolve(), root):
            rows.append({"file": str(path), "output": None, "method": None, "severity": None, "ms": None,
                         "status": "failed", "error": "ValueError: symbolic link points outside the input folder"})
            continue
        if path.is_file():
            sources.append(path)
    return sources, rows


def assign_outputs(sources, input_dir, output_dir, suffix="restored", ext="png") -> list[tuple]:
    """(source, target) for each source under ``input_dir``: the same relative folder under
    ``output_dir``, named by ``_output_path``. Works on any ``PurePath`` flavour."""
    plans, seen = [], {}
    for path in sources:
        relative = path.relative_to(input_dir)
        target = _output_path(path, output_dir / relative.parent, suffix, ext)
        if target in seen:  # a.png and a.jpg would both become a_restored.png
            target = target.with_name(f"{path.name.replace('.', '_')}_{suffix}{target.suffix}")
        seen[target] = path
        plans.append((path, target))
    return plans


def _inside(path: pathlib.Path, root: pathlib.Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _output_path(path: pathlib.Path, folder: pathlib.Path, suffix: str, ext: str) -> pathlib.Path:
    extension = path.suffix.lower() if ext == "auto" else "." + ext.lstrip(".")
    stem = f"{path.stem}_{suffix}" if suffix else path.stem
    return folder / f"{stem}{extension}"


SUMMARY_FIELDS = ["file", "output", "status", "method", "severity", "ms", "error", "fallback", "mask", "reason"]


def left_reason(strategy: str, info: dict) -> str | None:
    """A summary row's ``reason``: why ``auto`` left the image as it is (``decision.LEFT_REASONS``),
    or None when it did not (or another strategy was asked for)."""
    if strategy == "auto" and info["method"] == "none":
        return (info.get("decision") or {}).get("reason") or None
    return None


def summary_files(rows: list[dict]) -> dict[str, bytes]:
    """The bytes of ``summary.csv`` and ``summary.json`` for a batch's rows."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=SUMMARY_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    # backslashreplace: file names that are not valid UTF-8 (surrogate-escaped) still get a row.
    return {"summary.csv": text.getvalue().encode("utf-8", errors="backslashreplace"),
            "summary.json": (json.dumps(rows, indent=2, default=str) + "\n").encode("utf-8")}


def _write_summary(folder: pathlib.Path, rows: list[dict]) -> None:
    for name, data in summary_files(rows).items():
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)


__all__ = ["plan_batch", "prepare_output_folder", "list_sources", "assign_outputs", "summary_files",
           "left_reason", "SUMMARY_FIELDS"]
