"""Choose the classical path's fixed setting from outcome files, on one damage family or robustly
over several (``chain_fit.choose_default``), and print it beside the current ``DEFAULT_CHAIN``.

Input: outcome files of ``chain_outcomes`` on the same settings grid (the training family's first;
``--also``: other families for choosing only, such as the proxy family). Output (JSON on stdout or
``--out``): the chosen setting, its severity table per family (mean gain dB, share below the input;
clean images: mean PSNR and share >= 38 dB) and the same for the current ``DEFAULT_CHAIN`` where the
grid holds it. Nothing is written into the package: shipping a setting is a separate, reviewed step.

Run: ``python -m artrestore.training.chain_default --outcomes work/outcomes.npz --also work/outcomes_proxy.npz``
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

from artrestore.chain import DEFAULT_CHAIN
from artrestore.chain.router import PARAM_NAMES
from artrestore.training.chain_cv import gains_of, score, setting_of, severity_table
from artrestore.training.chain_fit import CLEAN_SHARE, choose_default
from artrestore.training.chain_outcomes import load_outcomes

__all__ = ["report"]


def _index_of(outcomes: dict, params) -> int | None:
    target = np.array([getattr(params, n) for n in PARAM_NAMES], np.float64)
    rows = np.flatnonzero(np.isclose(outcomes["settings"], target).all(axis=1))
    return int(rows[0]) if rows.size else None


def _tables(families: dict, index: int) -> dict:
    out = {}
    for name, data in families.items():
        table = severity_table(data, gains_of(data)[:, index])
        out[name] = {"table": table, "score": round(score({k: v for k, v in table.items() if k != "none"}), 3)}
    return out


def report(outcome_paths: dict, clean_share: float = CLEAN_SHARE) -> dict:
    """``outcome_paths``: {family name: outcome file}, the training family first."""
    families = {name: load_outcomes(path) for name, path in outcome_paths.items()}
    first, *others = families.values()
    chosen, _ = choose_default(first, clean_share, also=tuple(others))
    current = _index_of(first, DEFAULT_CHAIN)
    return {"families": list(families), "clean_share": clean_share,
            "chosen": {"setting": setting_of(first, chosen).as_dict(), "index": chosen, **_tables(families, chosen)},
            "current": None if current is None else {"setting": DEFAULT_CHAIN.as_dict(), "index": current,
                                                     **_tables(families, current)}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", required=True, help="the training family's outcome file")
    parser.add_argument("--also", nargs="*", default=[], help="other families' outcome files (choosing only)")
    parser.add_argument("--clean-share", type=float, default=CLEAN_SHARE)
    parser.add_argument("--out", default=None, help="JSON file to write (default: stdout)")
    args = parser.parse_args(argv)
    paths = {pathlib.Path(args.outcomes).stem: args.outcomes, **{pathlib.Path(p).stem: p for p in args.also}}
    text = json.dumps(report(paths, args.clean_share), indent=1) + "\n"
    if args.out:
        pathlib.Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
