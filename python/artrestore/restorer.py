"""HybridRestorer: one image (or a folder) in, restored RGB uint8 of the same size out, with an info dict.

Pipeline: (opt-in: long straight scratches removed, ``chain.scratches``) -> the 14 FFT features (core) -> the decision
engine (severity, method) -> classical or ML-guided (the restoration chain, fixed or predicted setting: ``chain.paths``)
or the U-Net (in process on ONNX Runtime, TensorFlow only when its graphs are missing or stale; or over gRPC).
``info``: ``strategy``, ``method``, ``severity``, ``damage_analysis`` (14 features), ``params``, ``timings_ms``,
``fallback`` (from, to, reason) when the U-Net could not be used; for the chain ``stages``, ``mask_fraction``;
``scratches`` when they were removed; ``monochrome`` (True) when the input was grayscale (output grayscale too).
"""
from __future__ import annotations

import os
import pathlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from artrestore._validate import as_rgb, non_negative, to_uint8
from artrestore.acceptance import FALLBACK_PATH, change_features, load_acceptance
from artrestore.analysis import FEATURE_NAMES, analyze_vector, routing_vector
from artrestore.batch_files import (
    SUMMARY_FIELDS,
    _output_path,
    _write_summary,
    assign_outputs,
    left_reason,
    list_sources,
    plan_batch,
    prepare_output_folder,
    summary_files,
)
from artrestore.chain.paths import analysis_entries, restore_fast  # issue 23: the fast paths' chain
from artrestore.chain.router import ChainRouter
from artrestore.chain.scratches import remove_scratches
from artrestore.decision import load_decision
from artrestore.dl.backends import LOCAL, check_backend, make_backend
from artrestore.dl.contract import MODEL_NAME, UNET_PRECISIONS
from artrestore.dl.ensemble import DEFAULT_VIEWS, SelfEnsemble, check_views
from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY, hold_change, hold_colour, keep_for, read_shares
from artrestore.dl.onnx_runtime import RUNTIMES
from artrestore.errors import DeepLearningUnavailable
from artrestore.imageio import load_image, output_pixels, read_image, write_image
from artrestore.monochrome import is_monochrome, to_monochrome
from artrestore.router import DecisionEngine, Router, Thresholds
from artrestore.strategies import DEFAULT_PREFERENCE, STRATEGIES, UNET_METHODS


class HybridRestorer:
    def __init__(self, ml_model_path=None, ml_scaler_path=None, dl_model_path=None, use_dl: bool = True,
                 dl_backend: str = LOCAL, *, thresholds: Thresholds | None = None, dl_fallback: str = "ml_guided",
                 dl_timeout_s: float = 30.0, model_name: str = MODEL_NAME, decision: str = "learned",
                 decision_path=None, prefer: str = DEFAULT_PREFERENCE, time_budget_s: float | None = None,
                 dl_runtime: str | None = None, dl_precision: str | None = None, chain_router_path=None,
                 check_unet: bool = True, acceptance_path=None, dl_views: int | None = None, scratches: float = 0.0):
        """``ml_model_path``: router folder (default: bundled). ``ml_scaler_path`` is accepted for
        the seed's signature; the scaler is stored inside the router folder. ``dl_model_path``: U-Net
        folder (default: bundled). ``dl_backend``: ``local`` (in-process, the embedded default) or
        ``grpc://host:port`` (TF Serving or ``artrestore serve``; ``auto`` then uses the router's
        thresholds calibrated for a GPU-served U-Net unless ``thresholds`` is given). ``dl_fallback``: ``ml_guided``
        (restore with the router's parameters and say so in ``info['fallback']``) or ``error``.
        ``decision``: ``learned`` (``auto`` predicts each path's gain and takes the best per unit of
        time, or leaves the image as it is; ``prefer`` = quality / balanced / speed and
        ``time_budget_s`` set the cost; ``decision_path``: a decision folder, default bundled) or
        ``rule`` (the guide's threshold rule on two features). ``dl_runtime`` / ``dl_precision``: the
        in-process U-Net's engine (``auto``: Keras on a JAX GPU, else ONNX Runtime, else Keras; ``onnx``;
        ``keras``) and precision (ONNX Runtime: ``auto``, ``fp32``, ``int8``; Keras: ``auto``, ``fp32``,
        ``bf16``, ``fp16``; served: ``fp16`` picks the SavedModel's ``serving_fp16``), see
        ``dl.onnx_runtime`` and ``dl.backends``; None reads the environment.
        ``chain_router_path``: the chain's router folder for ``ml_guided`` (default: bundled).
        ``check_unet``: with the learned decision, ``auto`` checks what the U-Net did
        (``artrestore.acceptance``; ``acceptance_path``: its folder, default bundled) and restores with
        the fast path instead when the U-Net's output is not predicted to beat it (``info['acceptance']``).
        ``dl_views``: dihedral views the U-Net's output is averaged over (``dl.ensemble``: 1, 2 or 8;
        None: the deployment's default, ``DEFAULT_VIEWS``: 8 for a served U-Net, 1 in process).
        ``scratches``: remove long straight scratches before any path at this sensitivity (``chain.scratches``;
        0, the default: off; 1: the stage's setting; higher finds fainter ones)."""
        self.scratches = non_negative(scratches, "scratches")
        if dl_fallback not in ("ml_guided", "error"):
            raise ValueError("dl_fallback must be 'ml_guided' or 'error'")
        check_backend(dl_backend)
        if dl_runtime not in (None, *RUNTIMES) or dl_precision not in (None, *UNET_PRECISIONS):
            raise ValueError(f"dl_runtime must be one of {RUNTIMES} and dl_precision one of {UNET_PRECISIONS}, "
                             f"got {dl_runtime!r}, {dl_precision!r}")
        self.router = Router.load(ml_model_path)
        self.chain_router = ChainRouter.load(chain_router_path)
        # A served U-Net (TF Serving on a GPU) costs a fraction of the in-process CPU time, so the
        # router's accelerated thresholds send it more images.
        self.engine = DecisionEngine(thresholds or (self.router.thresholds if dl_backend == LOCAL
                                                    else self.router.accelerated_thresholds))
        self.use_dl, self.dl_backend, self.dl_model_path, self.dl_fallback = use_dl, dl_backend, dl_model_path, dl_fallback
        self.dl_timeout_s, self.model_name = dl_timeout_s, model_name
        self.dl_runtime, self.dl_precision = dl_runtime, dl_precision
        self._dl = None
        self._dl_lock = threading.Lock()
        self._hold_shares = None  # the U-Net's hold shares per severity class (dl.hold), read at first use
        # Issue 16: the learned decision (None for decision="rule"), in this deployment's time profile.
        self.decider = load_decision(decision, decision_path, prefer=prefer, time_budget_s=time_budget_s)
        self.prefer, self.time_budget_s = prefer, time_budget_s
        self.acceptance = load_acceptance(acceptance_path) if (check_unet and self.decider is not None) else None
        self.profile = "local" if dl_backend == LOCAL else "accelerated"
        self.dl_views = DEFAULT_VIEWS[self.profile] if dl_views is None else check_views(dl_views)

    # ---------------------------------------------------------------------------------- DL path
    def _backend(self):
        """The U-Net backend, created on first use. The lock guards only this creation: backends are
        thread-safe, so concurrent restores reach the model (or the server's batching) together."""
        with self._dl_lock:
            if self._dl is None:
                self._dl = SelfEnsemble(make_backend(self.dl_backend, model_dir=self.dl_model_path,
                                                     model_name=self.model_name, timeout_s=self.dl_timeout_s,
                                                     runtime=self.dl_runtime, precision=self.dl_precision),
                                        self.dl_views)
            return self._dl

    def _dl_restore(self, image: np.ndarray, severity_probability: dict) -> tuple[np.ndarray, dict]:
        """(restored, {hold key: share kept}): the backend's output less what ``dl.hold`` takes back."""
        if not self.use_dl:
            raise DeepLearningUnavailable("deep learning disabled (use_dl=False)")
        restored = self._backend().restore(image)  # backends raise DeepLearningUnavailable themselves
        if self._hold_shares is None:
            self._hold_shares = read_shares(self.dl_model_path, self.dl_views)
        kept = {key: keep_for(severity_probability, shares) for key, shares in self._hold_shares.items()}
        restored = hold_colour(image, restored, kept[COLOUR_KEEP_KEY])
        return hold_change(image, restored, kept[CHANGE_KEEP_KEY]), kept

    def _dl_params(self, kept: dict) -> dict:
        """info["params"] of a U-Net run: model, backend, views, the hold's shares, runtime."""
        params = {"model": "unet", "backend": self.dl_backend, "views": self.dl_views,
                  **{key: round(share, 3) for key, share in kept.items()}}
        if self.dl_views > 1:  # turned in the served graph ("backend") or here ("ensemble")
            params["views_turned_by"] = self._dl.turned_by
        if self.dl_backend == "local":
            params.update(runtime=getattr(self._dl, "runtime", "keras"), precision=getattr(self._dl, "precision", "fp32"))
        return params

    # ----------------------------------------------------------------------------------- public
    def _features(self, image: np.ndarray):
        """(feature vector, 14 features by name, severity, auto method, learned decision info or None,
        the 27 routing features or None)."""
        if self.decider is None:
            vector = analyze_vector(image)
            features = dict(zip(FEATURE_NAMES, map(float, vector)))
            return (vector, features, *self.engine.decide(features), None, None)
        # Issue 16: 14 features + 13 damage measures in one pass, then the learned decision.
        routing = routing_vector(image)
        vector = routing[:len(FEATURE_NAMES)]
        known = {m for m in STRATEGIES.values() if m} - (set(UNET_METHODS) if not self.use_dl else set())
        decision = self.decider.decide(routing, image.shape[0] * image.shape[1], profile=self.profile,
                                       prefer=self.prefer, time_budget_s=self.time_budget_s, available=known,
                                       views=self.dl_views)
        return (vector, dict(zip(FEATURE_NAMES, map(float, vector))), decision.severity, decision.path,
                decision.as_dict(), routing)

    def analyze(self, image) -> dict:
        """Features, severity, method and the router's parameters for a path or an RGB array, without
        restoring (``artrestore analyze``, ``POST /analyze``); with ``scratches`` on, of the image
        without them, as ``restore`` decides (a Ray CPU worker routes by this)."""
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)
        image = remove_scratches(image, self.scratches)[0] if self.scratches else image
        vector, features, severity, method, decision, _ = self._features(image)
        out = {"features": features, "severity": severity, "method": method,
               **analysis_entries(image, vector, self.chain_router)}
        if decision is not None:
            out["decision"] = decision
        return out

    def restore(self, image, strategy: str = "auto", *, return_mask: bool = False) -> tuple[np.ndarray, dict]:
        """Restore a path or RGB array (uint8, or float32 in [0, 1]) -> (uint8 image, info); ``return_mask``: info['mask']."""
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {sorted(STRATEGIES)}, got {strategy!r}")
        start = time.perf_counter()
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)
        image = as_rgb(image)
        if image.dtype != np.uint8:
            image = to_uint8(image)
        loaded = time.perf_counter()
        # The scratches the user asked to remove (``scratches=``) go before any path sees the image.
        image, scratch_mask = remove_scratches(image, self.scratches) if self.scratches else (image, None)
        scratched = time.perf_counter()

        vector, features, severity, auto_method, decision, routing = self._features(image)
        analysed = time.perf_counter()
        method = STRATEGIES[strategy] or auto_method
        routed = time.perf_counter()

        info = {"strategy": strategy, "severity": severity, "method": method, "damage_analysis": features}
        if decision is not None:
            info["decision"] = decision
        if method == "none":  # issue 16: leaving the image as it is is a valid outcome
            info["params"], restored = {}, image.copy()
        elif method == "cascade":  # ml_guided, then the U-Net on its output as `restore(.., "dl")` runs it
            first, entries = restore_fast(image, vector, "ml_guided", self.chain_router, return_mask=return_mask)
            info.update(entries)
            try:
                _, _, first_severity, _, first_decision, _ = self._features(first)
                probability = (first_decision or {}).get("severity_probability") or {first_severity: 1.0}
                restored, kept = self._dl_restore(first, probability)
                info["params"] = {"chain": info.get("params", {}), "unet": self._dl_params(kept)}
            except DeepLearningUnavailable as error:
                if self.dl_fallback == "error":
                    raise
                info["fallback"] = {"from": "cascade", "to": "ml_guided", "reason": str(error)}
                info["method"], restored = "ml_guided", first  # its first stage is the fallback's output
        elif method == "deep_learning":
            try:
                # Without the learned decision, the rule's severity label stands in for its probabilities.
                probability = (decision or {}).get("severity_probability") or {severity: 1.0}
                restored, kept = self._dl_restore(image, probability)
                info["params"] = self._dl_params(kept)
                if strategy == "auto" and self.acceptance is not None:
                    # Issue 16: what the U-Net did, checked before it is kept (artrestore.acceptance).
                    gain = self.acceptance.predict(routing, change_features(image, restored))
                    kept_unet = self.acceptance.accepts(gain)
                    info["acceptance"] = {"predicted_gain_db": round(gain, 3),
                                          "margin_db": self.acceptance.margin_db, "kept": kept_unet}
                    if not kept_unet:
                        info["method"] = method = FALLBACK_PATH
            except DeepLearningUnavailable as error:
                if self.dl_fallback == "error":
                    raise
                info["fallback"] = {"from": "deep_learning", "to": "ml_guided", "reason": str(error)}
                info["method"] = method = "ml_guided"
        if method in ("classical", "ml_guided"):
            restored, entries = restore_fast(image, vector, method, self.chain_router, return_mask=return_mask)
            info.update(entries)
        if scratch_mask is not None:
            info["scratches"] = {"sensitivity": self.scratches, "mask_fraction": float(np.mean(scratch_mask > 0)),
                                 "ms": 1e3 * (scratched - loaded)}
            if return_mask:
                info["mask"] = np.maximum(info.get("mask", scratch_mask), scratch_mask)
        if method != "none" and is_monochrome(image):  # colour added to a grayscale image is invented
            restored = to_monochrome(restored)
            info["monochrome"] = True
        done = time.perf_counter()
        info["timings_ms"] = {"load": 1e3 * (loaded - start), "analysis": 1e3 * (analysed - scratched),
                              "routing": 1e3 * (routed - analysed), "restore": 1e3 * (done - routed),
                              "total": 1e3 * (done - start)}
        return restored, info

    def restore_file(self, path, output_dir, *, strategy="auto", suffix="restored", ext="png",
                     overwrite=False, output_path=None, save_mask=False) -> dict:
        """Restore one file into ``output_dir``, keeping its alpha, grayscale and 16 bits where the output
        format can (``imageio.output_pixels``); returns a summary row (never raises for bad input).
        ``save_mask``: also write the chain's mask as ``<output stem>_mask.png`` (row ``mask``; none for the U-Net).
        Row ``reason``: why ``auto`` left the image as it is (``decision.LEFT_REASONS``), when it did."""
        path = pathlib.Path(path)
        target = pathlib.Path(output_path) if output_path else _output_path(path, pathlib.Path(output_dir), suffix, ext)
        mask_target = target.with_name(f"{target.stem}_mask.png")
        row = {"file": str(path), "output": str(target), "method": None, "severity": None, "ms": None,
               "status": None, "error": None, **({"mask": None} if save_mask else {})}
        try:
            if target.resolve() == path.resolve():
                raise ValueError("output would overwrite the input; choose another folder or suffix")
            if (target.exists() or (save_mask and mask_target.exists())) and not overwrite:
                row["status"] = "skipped"
                return row
            start = time.perf_counter()
            source = load_image(path)  # the file's alpha and grayscale go back into the output
            restored, info = self.restore(source.rgb, strategy, return_mask=save_mask)
            write_image(target, output_pixels(restored, source, target.suffix), overwrite=True)
            if save_mask and "mask" in info:  # image files are RGB here
                row["mask"] = str(write_image(mask_target, np.repeat(info["mask"][:, :, None], 3, axis=2), overwrite=True))
            row.update(method=info["method"], severity=info["severity"], ms=round(1e3 * (time.perf_counter() - start), 2),
                       status="restored", fallback=(info.get("fallback") or {}).get("reason"), reason=left_reason(strategy, info))
        except (OSError, ValueError, DeepLearningUnavailable) as error:
            row.update(status="failed", error=f"{type(error).__name__}: {error}")
        return row

    def batch_restore(self, input_dir, output_dir, *, strategy="auto", recursive=False, workers=1, overwrite=False,
                      suffix="restored", ext="png", progress=True, save_mask=False) -> list[dict]:
        """Restore every image under ``input_dir`` into ``output_dir`` (same relative folders; ``save_mask``: restore_file's).

        Per-file errors are recorded and the batch goes on; outputs are written atomically; a
        re-run skips files whose output exists unless ``overwrite``; symbolic links that leave
        ``input_dir`` are refused. Writes ``summary.csv`` and ``summary.json`` in ``output_dir``.
        """
        from tqdm import tqdm

        plans, rows = plan_batch(input_dir, output_dir, recursive=recursive, suffix=suffix, ext=ext)
        output_dir = pathlib.Path(output_dir)

        def one(plan):
            path, target = plan
            return self.restore_file(path, output_dir, strategy=strategy, overwrite=overwrite, output_path=target,
                                     save_mask=save_mask)

        with ThreadPoolExecutor(max(1, workers)) as pool:
            rows += list(tqdm(pool.map(one, plans), total=len(plans), desc="restoring", disable=not progress))
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_summary(output_dir, rows)
        return rows


__all__ = ["HybridRestorer", "DeepLearningUnavailable", "STRATEGIES", "plan_batch", "assign_outputs",
           "list_sources", "prepare_output_folder", "summary_files", "SUMMARY_FIELDS"]
