"""HybridRestorer: one image (or a folder) in, restored RGB uint8 of the same size out, with an info dict.

Pipeline: the 14 FFT features (core) -> the decision engine (severity and method) -> classical (the
restoration chain with its fixed setting), ML-guided (the chain with the setting the chain's router
predicts) or the U-Net (in process, or over gRPC to TensorFlow Serving). ``info`` holds
``strategy``, ``method``, ``severity``, ``damage_analysis`` (14 features), ``params``,
``timings_ms`` per stage, ``fallback`` (from, to, reason) when the U-Net could not be used, and for
the chain ``stages`` (name, params, ms each), ``mask_fraction`` and, with ``return_mask=True``,
``mask`` (H x W uint8, 255 = inpainted damage).
TensorFlow is imported only the first time an image actually takes the U-Net path.
"""
from __future__ import annotations

import csv
import json
import os
import pathlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from artrestore._validate import as_rgb, to_uint8
from artrestore.analysis import FEATURE_NAMES, analyze_vector

# --- restoration chain (issue 23) ---
from artrestore.chain import DEFAULT_CHAIN, run_chain
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.features import chain_features
from artrestore.chain.router import ChainRouter
from artrestore.dl.backends import LOCAL, check_backend, make_backend
from artrestore.dl.contract import MODEL_NAME
from artrestore.errors import DeepLearningUnavailable
from artrestore.imageio import IMAGE_SUFFIXES, read_image, write_image
from artrestore.router import DecisionEngine, Router, Thresholds
from artrestore.strategies import STRATEGIES


class HybridRestorer:
    def __init__(self, ml_model_path=None, ml_scaler_path=None, dl_model_path=None, use_dl: bool = True,
                 dl_backend: str = LOCAL, *, thresholds: Thresholds | None = None, dl_fallback: str = "ml_guided",
                 dl_timeout_s: float = 30.0, model_name: str = MODEL_NAME, chain_router_path=None):
        """``ml_model_path``: router folder (default: bundled). ``ml_scaler_path`` is accepted for
        the seed's signature; the scaler is stored inside the router folder. ``dl_model_path``: U-Net
        folder (default: bundled). ``dl_backend``: ``local`` (in-process, the embedded default) or
        ``grpc://host:port`` (TF Serving or ``artrestore serve``; ``auto`` then uses the router's
        thresholds calibrated for a GPU-served U-Net unless ``thresholds`` is given). ``dl_fallback``: ``ml_guided``
        (restore with the router's parameters and say so in ``info['fallback']``) or ``error``.
        ``chain_router_path``: the chain's router folder for ``ml_guided`` (default: bundled)."""
        if dl_fallback not in ("ml_guided", "error"):
            raise ValueError("dl_fallback must be 'ml_guided' or 'error'")
        check_backend(dl_backend)
        self.router = Router.load(ml_model_path)
        self.chain_router = ChainRouter.load(chain_router_path)
        # A served U-Net (TF Serving on a GPU) costs a fraction of the in-process CPU time, so the
        # router's accelerated thresholds send it more images.
        self.engine = DecisionEngine(thresholds or (self.router.thresholds if dl_backend == LOCAL
                                                    else self.router.accelerated_thresholds))
        self.use_dl = use_dl
        self.dl_backend = dl_backend
        self.dl_model_path = dl_model_path
        self.dl_fallback = dl_fallback
        self.dl_timeout_s = dl_timeout_s
        self.model_name = model_name
        self._dl = None
        self._dl_lock = threading.Lock()

    # ---------------------------------------------------------------------------------- DL path
    def _backend(self):
        """The U-Net backend, created on first use. The lock guards only this creation: backends
        are safe to call from many threads, so concurrent restores reach the model (or the model
        server's batching) together."""
        with self._dl_lock:
            if self._dl is None:
                self._dl = make_backend(self.dl_backend, model_dir=self.dl_model_path, model_name=self.model_name,
                                        timeout_s=self.dl_timeout_s)
            return self._dl

    def _dl_restore(self, image: np.ndarray) -> np.ndarray:
        if not self.use_dl:
            raise DeepLearningUnavailable("deep learning disabled (use_dl=False)")
        return self._backend().restore(image)  # backends raise DeepLearningUnavailable themselves

    # ----------------------------------------------------------------------------------- public
    def _features(self, image: np.ndarray):
        """(feature vector, features by name, severity, auto method) of an RGB image."""
        vector = analyze_vector(image)
        features = dict(zip(FEATURE_NAMES, map(float, vector)))
        return (vector, features, *self.engine.decide(features))

    def analyze(self, image) -> dict:
        """Features, severity, method and the router's parameters for a path or an RGB array,
        without restoring (what ``artrestore analyze`` and ``POST /analyze`` report)."""
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)
        image = as_rgb(image)
        if image.dtype != np.uint8:
            image = to_uint8(image)
        vector, features, severity, method = self._features(image)
        params, gain, colour_map, _ = self._chain_params(image, vector)
        return {"features": features, "severity": severity, "method": method, "params": params.as_dict(),
                "colour_map": _colour_map_info(colour_map), "predicted_gain_db": round(gain, 3)}

    def _chain_params(self, image: np.ndarray, vector: np.ndarray):
        """(chain setting, predicted gain in dB, learned colour map, noise estimate) from the chain's router."""
        noise = estimate_noise(image)
        params, gain, colour_map = self.chain_router.predict(
            np.concatenate([vector, chain_features(image, noise_sigma=noise)]))
        return params, gain, colour_map, noise

    def restore(self, image, strategy: str = "auto", *, return_mask: bool = False) -> tuple[np.ndarray, dict]:
        """Restore a path or an RGB array (uint8, or float32 in [0, 1]); returns (uint8 image, info).
        ``return_mask``: put the chain's damage mask (H x W uint8) in ``info['mask']``."""
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {sorted(STRATEGIES)}, got {strategy!r}")
        start = time.perf_counter()
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)
        image = as_rgb(image)
        if image.dtype != np.uint8:
            image = to_uint8(image)
        loaded = time.perf_counter()

        vector, features, severity, auto_method = self._features(image)
        analysed = time.perf_counter()
        method = STRATEGIES[strategy] or auto_method
        info = {"strategy": strategy, "severity": severity, "method": method, "damage_analysis": features}
        if method == "deep_learning":
            routed = time.perf_counter()
            try:
                restored = self._dl_restore(image)
                info["params"] = {"model": "unet", "backend": self.dl_backend}
            except DeepLearningUnavailable as error:
                if self.dl_fallback == "error":
                    raise
                info["fallback"] = {"from": "deep_learning", "to": "ml_guided", "reason": str(error)}
                info["method"] = method = "ml_guided"
        if method in ("classical", "ml_guided"):
            # --- restoration chain (issue 23): fixed setting, or the chain's router's ---
            if method == "classical":
                params, colour_map, noise = DEFAULT_CHAIN, None, None
            else:
                params, gain, colour_map, noise = self._chain_params(image, vector)
                info["predicted_gain_db"] = round(gain, 3)
            routed = time.perf_counter()
            chain = run_chain(image, params, noise_sigma=noise, colour_map=colour_map)
            restored = chain.image
            info["params"] = params.as_dict()
            info["stages"] = chain.stages
            info["mask_fraction"] = round(float(np.count_nonzero(chain.mask)) / chain.mask.size, 6)
            if return_mask:
                info["mask"] = chain.mask
        done = time.perf_counter()
        info["timings_ms"] = {"load": 1e3 * (loaded - start), "analysis": 1e3 * (analysed - loaded),
                              "routing": 1e3 * (routed - analysed), "restore": 1e3 * (done - routed),
                              "total": 1e3 * (done - start)}
        return restored, info

    def restore_file(self, path, output_dir, *, strategy="auto", suffix="restored", ext="png",
                     overwrite=False, output_path=None, save_mask=False) -> dict:
        """Restore one file into ``output_dir``; returns a summary row (never raises for bad input).
        ``save_mask``: also write the chain's damage mask as ``<output stem>_mask.png`` (none for
        the U-Net path, which has no mask; the row's ``mask`` says which file was written)."""
        path = pathlib.Path(path)
        target = pathlib.Path(output_path) if output_path else _output_path(path, pathlib.Path(output_dir), suffix, ext)
        mask_target = target.with_name(f"{target.stem}_mask.png")
        row = {"file": str(path), "output": str(target), "method": None, "severity": None, "ms": None,
               "status": None, "error": None, "mask": None}
        try:
            if target.resolve() == path.resolve():
                raise ValueError("output would overwrite the input; choose another folder or suffix")
            if (target.exists() or (save_mask and mask_target.exists())) and not overwrite:
                row["status"] = "skipped"
                return row
            start = time.perf_counter()
            restored, info = self.restore(path, strategy, return_mask=save_mask)
            write_image(target, restored, overwrite=True)
            if save_mask and "mask" in info:
                mask_rgb = np.repeat(info["mask"][:, :, None], 3, axis=2)  # image files are RGB here
                row["mask"] = str(write_image(mask_target, mask_rgb, overwrite=True))
            row.update(method=info["method"], severity=info["severity"], ms=round(1e3 * (time.perf_counter() - start), 2),
                       status="restored", fallback=(info.get("fallback") or {}).get("reason"))
        except (OSError, ValueError, DeepLearningUnavailable) as error:
            row.update(status="failed", error=f"{type(error).__name__}: {error}")
        return row

    def batch_restore(self, input_dir, output_dir, *, strategy="auto", recursive=False, workers=1, overwrite=False,
                      suffix="restored", ext="png", progress=True, save_mask=False) -> list[dict]:
        """Restore every image under ``input_dir`` into ``output_dir`` (same relative folders);
        ``save_mask``: also write each chain's damage mask (see ``restore_file``).

        Per-file errors are recorded and the batch goes on; outputs are written atomically; a
        re-run skips files whose output exists unless ``overwrite``; symbolic links that leave
        ``input_dir`` are refused. Writes ``summary.csv`` and ``summary.json`` in ``output_dir``.
        """
        from tqdm import tqdm

        input_dir, output_dir = pathlib.Path(input_dir), pathlib.Path(output_dir)
        if not input_dir.is_dir():
            raise FileNotFoundError(f"input folder not found: {input_dir}")
        if output_dir.exists() and not output_dir.is_dir():
            raise ValueError(f"output path is not a folder: {output_dir}")
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"cannot create the output folder {output_dir}: {error.strerror or error}") from None
        if not os.access(output_dir, os.W_OK):
            raise ValueError(f"output folder is not writable: {output_dir}")
        root = input_dir.resolve()
        pattern = "**/*" if recursive else "*"
        candidates = sorted(p for p in input_dir.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)
        plans, seen, rows = [], {}, []
        for path in candidates:
            if path.is_symlink() and not _inside(path.resolve(), root):
                rows.append({"file": str(path), "output": None, "method": None, "severity": None, "ms": None,
                             "status": "failed", "error": "ValueError: symbolic link points outside the input folder"})
                continue
            if not path.is_file():
                continue
            relative = path.relative_to(input_dir)
            target = _output_path(path, output_dir / relative.parent, suffix, ext)
            if target in seen:  # a.png and a.jpg would both become a_restored.png
                target = target.with_name(f"{path.name.replace('.', '_')}_{suffix}{target.suffix}")
            seen[target] = path
            plans.append((path, target))

        def one(plan):
            path, target = plan
            return self.restore_file(path, output_dir, strategy=strategy, overwrite=overwrite, output_path=target,
                                     save_mask=save_mask)

        with ThreadPoolExecutor(max(1, workers)) as pool:
            rows += list(tqdm(pool.map(one, plans), total=len(plans), desc="restoring", disable=not progress))
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_summary(output_dir, rows)
        return rows


def _colour_map_info(colour_map) -> dict | None:
    if colour_map is None:  # the blind colour estimate (or no colour stage)
        return None
    gains, offsets = colour_map
    return {"gain": [round(float(v), 4) for v in gains], "offset": [round(float(v), 2) for v in offsets]}


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


def _write_summary(folder: pathlib.Path, rows: list[dict]) -> None:
    fields = ["file", "output", "status", "method", "severity", "ms", "error", "fallback", "mask"]
    tmp_csv, tmp_json = folder / ".summary.csv.part", folder / ".summary.json.part"
    # backslashreplace: file names that are not valid UTF-8 (surrogate-escaped) still get a row.
    with open(tmp_csv, "w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp_json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    os.replace(tmp_csv, folder / "summary.csv")
    os.replace(tmp_json, folder / "summary.json")


__all__ = ["HybridRestorer", "DeepLearningUnavailable", "STRATEGIES"]
