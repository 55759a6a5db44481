"""int8 calibration of the bundled U-Net on every training family (docs/cpu_runtime.md, "int8
calibrated on every training family").

Converts the bundled U-Net's Keras weights to an fp32 ONNX graph with the export's own ``convert``,
quantizes it twice with the export's ``quantize_int8`` (A: the shipped recipe, ``--control-crops``
training crops damaged by the broad model; B: ``--crops`` training crops, each damaged by the next of
the training families in turn), and scores fp32, A and B on the validation pairs (the model's own
split: 12 sources x 3 levels) of the broad family, the legacy synthesizer and the proxy family (a
choosing family). Output: JSON with PSNR / SSIM per graph, family and level, and the int8 graphs'
SHA-256; ``--keep DIR`` keeps B's graph.

    python benchmarks/int8_calibration_probe.py --clean ../shared/data/clean --out FILE.json [--keep DIR]
"""
from __future__ import annotations

import argparse
import gc
import json
import pathlib
import shutil
import tempfile

FAMILIES_SCORED = ("broad", "legacy", "proxy")


def _restorer(folder: pathlib.Path, int8_graph: pathlib.Path | None, precision: str):
    """An ONNX Runtime U-Net on a copy of ``folder`` whose int8 graph is ``int8_graph``."""
    import hashlib

    from artrestore.dl import onnx_runtime as onnx_unet

    if int8_graph is not None:
        shutil.copyfile(int8_graph, folder / onnx_unet.GRAPH_FILES["int8"])
        meta_path = folder / onnx_unet.ONNX_METADATA
        meta = json.loads(meta_path.read_text())
        meta["graphs"]["int8"]["sha256"] = hashlib.sha256(int8_graph.read_bytes()).hexdigest()
        meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return onnx_unet.OnnxUNetRestorer(folder, precision=precision).restore


def main(argv=None) -> int:
    import onnx

    from artrestore import dl
    from artrestore.training.export_onnx import convert, quantize_int8
    from artrestore.training.onnx_data import (
        _broad_damage,
        _default_damage,
        calibration_inputs,
        every_family_damage,
        split_settings,
        validate,
        validation_pairs,
    )
    from artrestore.training.unet_broad_data import DAMAGE_FAMILIES, family_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--crops", type=int, default=64)
    parser.add_argument("--control-crops", type=int, default=64)
    parser.add_argument("--out", required=True)
    parser.add_argument("--keep", default=None, help="folder for candidate B's int8 graph")
    args = parser.parse_args(argv)

    model, config, meta = dl.load_model(dl.BUNDLED_UNET)
    meta = {**meta, "data": {**meta.get("data", {}), **split_settings(meta)}}

    damages = {"broad": _broad_damage, "legacy": _default_damage,
               "proxy": lambda clean, severity, seed: family_image(clean, severity, seed, "proxy")}
    report = {"crops": args.crops, "control_crops": args.control_crops, "families": list(DAMAGE_FAMILIES)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        onnx.save(convert(model, config), str(tmp / "full_fp32.onnx"))
        graphs = {"A": tmp / "int8_A.onnx", "B": tmp / "int8_B.onnx"}
        full = tmp / "full_fp32.onnx"
        quantize_int8(full, graphs["A"], calibration_inputs(args.clean, meta, args.control_crops, 0, _broad_damage))
        gc.collect()  # the calibrator holds every activation of every crop: free A's before B's
        quantize_int8(full, graphs["B"], calibration_inputs(args.clean, meta, args.crops, 0, every_family_damage))
        restorers = {}
        for name, graph in (("fp32", None), *graphs.items()):
            folder = tmp / f"model_{name}"
            shutil.copytree(dl.BUNDLED_UNET, folder, ignore=shutil.ignore_patterns("__pycache__"))
            restorers[name] = _restorer(folder, graph, "fp32" if graph is None else "int8")
        for family, damage in damages.items():
            report[family] = validate(restorers, validation_pairs(args.clean, meta, damage=damage))
            print(family, {k: v["all"]["psnr"] for k, v in report[family].items()}, flush=True)
        if args.keep:
            pathlib.Path(args.keep).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(graphs["B"], pathlib.Path(args.keep) / "unet_int8.onnx")
    worst = {name: min(report[f][name]["all"]["psnr"] - report[f]["fp32"]["all"]["psnr"] for f in FAMILIES_SCORED)
             for name in ("A", "B")}
    report["worst_family_loss_db"] = {k: round(float(v), 4) for k, v in worst.items()}
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print("worst family, int8 - fp32 (dB):", report["worst_family_loss_db"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
