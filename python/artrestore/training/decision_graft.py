"""A decision whose gain forest was refitted, with another decision's severity forest and clean
guard grafted in unchanged.

Why: when a path changes (the U-Net's hold, say) its outcomes change, so the gain forest, time
models, margins and costs must be fitted again (``routing decision``); but the severity forest and
the clean guard describe the *damage*, not the paths, and were fitted on data that need not be at
hand (the collected crops of ``severity_fit`` and ``clean_guard_fit``); the U-Net's hold was chosen
with that severity forest too. In: ``fitted`` (a decision folder from ``routing decision``),
``donor`` (a decision folder, ``bundled`` = the shipped one). Out: ``out``, a decision folder with
the fitted one's gain forest and calibration and the donor's ``severity_*`` and ``clean_*`` arrays,
``severity_classes``, ``severity_refit`` and ``clean_guard`` metadata (SHA-256 recomputed,
``grafted`` records what came from where), plus the fitted folder's outcome tables.

Run: ``python -m artrestore.training.decision_graft --fitted work/decision_refit --donor bundled --out DIR``
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib

import numpy as np

__all__ = ["graft", "DONOR_FORESTS", "DONOR_KEYS"]

DONOR_FORESTS = ("severity", "clean")  # array prefixes taken from the donor (decision.GUARD_FOREST = "clean")
DONOR_KEYS = ("severity_classes", "severity_refit", "clean_guard")


def _folder(path) -> pathlib.Path:
    from artrestore.decision import BUNDLED_DECISION

    return pathlib.Path(BUNDLED_DECISION if str(path) == "bundled" else path)


def _load(folder: pathlib.Path) -> tuple[dict, dict]:
    metadata = json.loads((folder / "model_metadata.json").read_text())
    with np.load(folder / "decision.npz", allow_pickle=False) as data:  # numbers only: never executes code
        return {k: data[k] for k in data.files}, metadata


def graft(fitted, donor, out) -> pathlib.Path:
    """Write the grafted decision into ``out`` and return it (checked by loading it)."""
    from artrestore.decision import GUARD_FOREST
    from artrestore.training.decision_rows import save_refit

    assert GUARD_FOREST in DONOR_FORESTS
    fitted, donor = _folder(fitted), _folder(donor)
    arrays, metadata = _load(fitted)
    donor_arrays, donor_meta = _load(donor)
    if list(metadata["feature_names"]) != list(donor_meta["feature_names"]):
        raise ValueError("graft: the two decisions read different features")
    arrays = {k: v for k, v in arrays.items() if not k.startswith(tuple(f"{p}_" for p in DONOR_FORESTS))}
    arrays.update({k: v for k, v in donor_arrays.items() if k.startswith(tuple(f"{p}_" for p in DONOR_FORESTS))})
    for key in DONOR_KEYS:
        if key in donor_meta:
            metadata[key] = donor_meta[key]
        else:
            metadata.pop(key, None)
    if "nodes" in metadata and "nodes" in donor_meta:
        metadata["nodes"] = {**metadata["nodes"], **{p: donor_meta["nodes"][p] for p in DONOR_FORESTS
                                                    if p in donor_meta["nodes"]}}
    digest = hashlib.sha256((donor / "decision.npz").read_bytes()).hexdigest()
    metadata["grafted"] = {"forests": list(DONOR_FORESTS), "metadata": list(DONOR_KEYS),
                           "donor_arrays_sha256": digest, "fitted": fitted.name}
    save_refit(fitted, out, arrays, metadata)
    return pathlib.Path(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fitted", required=True, help="decision folder whose gain forest is kept")
    parser.add_argument("--donor", default="bundled", help="decision folder whose severity forest and clean guard are kept")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    print(graft(args.fitted, args.donor, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
