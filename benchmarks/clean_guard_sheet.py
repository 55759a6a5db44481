"""Before/after sheet of the decision's clean guard: undamaged images that `auto` changed without it.

In: a folder of undamaged images (default: the third collection's held-out crops,
``.devdata/pack3/val_extra``, which no model trained on), the bundled decision (with its guard)
and the same decision with the guard taken out. Each image (longer side 384 px, as the routing
outcomes) goes through ``HybridRestorer.restore(image, "auto")`` with both; the ``--rows`` images
that the guard-free decision changed most (lowest PSNR to the input; one crop per source image)
are drawn as rows: input |
`auto` without the guard (path, PSNR to the input in dB) | `auto` with it (path, clean
probability). Out: a JPEG sheet and a JSON list of every image's paths, PSNRs and clean probability.

    python benchmarks/clean_guard_sheet.py --images .devdata/pack3/val_extra \\
        --out benchmarks/results/routing/clean_guard_sheet.jpg
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from artrestore._resize import shrink_to  # noqa: E402
from artrestore.decision import BUNDLED_DECISION, GUARD_FOREST, save_decision  # noqa: E402
from artrestore.imageio import IMAGE_SUFFIXES, read_image  # noqa: E402
from artrestore.metrics import psnr  # noqa: E402
from artrestore.restorer import HybridRestorer  # noqa: E402

TILE = 256  # px, longer side of a tile on the sheet
LABEL_H = 18


def without_guard(folder: pathlib.Path) -> pathlib.Path:
    """A copy of the bundled decision with the clean guard taken out (what shipped before it)."""
    with np.load(BUNDLED_DECISION / "decision.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith(GUARD_FOREST + "_")}
    metadata = json.loads((BUNDLED_DECISION / "model_metadata.json").read_text())
    metadata.pop("clean_guard", None)
    metadata.pop("arrays_sha256", None)
    return save_decision(folder, arrays, metadata)


def _tile(image: np.ndarray, text: str) -> np.ndarray:
    h, w = image.shape[:2]
    scale = TILE / max(h, w)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.full((TILE + LABEL_H, TILE, 3), 255, np.uint8)
    canvas[LABEL_H:LABEL_H + small.shape[0], :small.shape[1]] = small
    cv2.putText(canvas, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=".devdata/pack3/val_extra", help="folder of undamaged images")
    parser.add_argument("--out", required=True, help="JPEG sheet (a JSON of every image goes beside it)")
    parser.add_argument("--rows", type=int, default=6)
    args = parser.parse_args(argv)
    paths = sorted(p for p in pathlib.Path(args.images).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise SystemExit(f"no images in {args.images}")
    with tempfile.TemporaryDirectory() as tmp:
        before = HybridRestorer(decision_path=without_guard(pathlib.Path(tmp) / "decision"))
        now = HybridRestorer()
        rows = []
        for path in paths:
            image = shrink_to(read_image(path), 384)
            out_before, info_before = before.restore(image, "auto")
            out_now, info_now = now.restore(image, "auto")
            rows.append({"file": path.name, "path_before": info_before["method"], "path_now": info_now["method"],
                         "psnr_before_db": min(psnr(image, out_before), 99.0), "psnr_now_db": min(psnr(image, out_now), 99.0),
                         "clean_probability": info_now["decision"].get("clean_probability"),
                         "images": (image, out_before, out_now)})
    rows.sort(key=lambda r: r["psnr_before_db"])
    drawn, sources = [], set()
    for r in rows:  # one crop per source image (crops are named <source>_<k>.<ext>)
        source = pathlib.Path(r["file"]).stem.rsplit("_", 1)[0]
        if source not in sources and len(drawn) < args.rows:
            drawn.append(r)
            sources.add(source)
    sheet = []
    for r in drawn:
        image, out_before, out_now = r["images"]
        sheet.append(np.concatenate([
            _tile(image, f"undamaged input: {r['file'][:28]}"),
            _tile(out_before, f"auto, no guard: {r['path_before']}, {r['psnr_before_db']:.1f} dB"),
            _tile(out_now, f"auto now: {r['path_now']}, P(undamaged) {r['clean_probability']:.2f}")], axis=1))
    out = pathlib.Path(args.out)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(sheet, axis=0), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    changed = [r for r in rows if r["path_before"] != "none"]
    summary = {"images": len(rows), "changed_without_guard": len(changed),
               "changed_now": sum(r["path_now"] != "none" for r in rows),
               "mean_psnr_to_input_db": {"without_guard": float(np.mean([r["psnr_before_db"] for r in rows])),
                                         "now": float(np.mean([r["psnr_now_db"] for r in rows]))},
               "rows": [{k: v for k, v in r.items() if k != "images"} for r in rows]}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out}: {summary['changed_without_guard']} of {len(rows)} changed without the guard, "
          f"{summary['changed_now']} now")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
