"""Where the U-Net runs: ``make_backend("local" | "grpc://host:port")`` -> an object whose
``restore(RGB uint8 H x W x 3) -> RGB uint8`` runs the model in process (``dl.onnx_runtime``: ONNX
Runtime, or ``dl.inference``: Keras) or through a model server (``serving.client``, grpcio only).

Backends raise ``DeepLearningUnavailable`` themselves when they cannot run: a missing optional
dependency here, an unreachable or failing server in the gRPC client. Both backends are safe to
call from many threads at once. Importing this module imports neither Keras nor grpcio.
"""
from __future__ import annotations

from artrestore._optional import missing_dependency
from artrestore.dl.contract import MODEL_NAME, REDUCED_SIGNATURES, SIGNATURE_NAME
from artrestore.errors import DeepLearningUnavailable

__all__ = ["LOCAL", "GRPC_PREFIX", "check_backend", "make_backend"]

LOCAL = "local"
GRPC_PREFIX = "grpc://"


def check_backend(spec: str) -> str:
    """``spec`` if it names a backend ("local" or "grpc://host:port"), else ValueError."""
    if not isinstance(spec, str) or not (spec == LOCAL or (spec.startswith(GRPC_PREFIX) and len(spec) > len(GRPC_PREFIX))):
        raise ValueError(f"dl_backend must be '{LOCAL}' or '{GRPC_PREFIX}host:port', got {spec!r}")
    return spec


def make_backend(spec: str, *, model_dir=None, model_name: str = MODEL_NAME, timeout_s: float = 30.0,
                 runtime: str | None = None, precision: str | None = None):
    """The backend ``spec`` names. ``model_dir``: U-Net folder for the local backend (default: the
    bundled one), run by ``runtime`` / ``precision`` (``dl.onnx_runtime.make_unet_restorer``: ONNX
    Runtime when its graphs are current, else Keras); ``model_name`` and ``timeout_s`` (per call):
    for the gRPC backend, whose ``precision`` picks the served signature (``fp16``: the SavedModel's
    ``serving_fp16``; ``auto`` / ``fp32`` / None: ``serving_default``)."""
    check_backend(spec)
    signature = SIGNATURE_NAME
    if spec != LOCAL and precision not in (None, "auto", "fp32"):
        if precision not in REDUCED_SIGNATURES:
            raise ValueError(f"a served U-Net offers precisions auto, fp32, {', '.join(REDUCED_SIGNATURES)}; "
                             f"got {precision!r}")
        signature = REDUCED_SIGNATURES[precision]
    try:
        if spec == LOCAL:
            from artrestore.dl.onnx_runtime import make_unet_restorer

            return make_unet_restorer(model_dir, runtime=runtime, precision=precision)
        from artrestore.serving.client import RemoteUNet

        return RemoteUNet(spec, model_name=model_name, timeout_s=timeout_s, signature_name=signature)
    except ImportError as error:  # a missing optional package: say which extra installs it
        missing = missing_dependency(error) if isinstance(error, ModuleNotFoundError) else None
        raise DeepLearningUnavailable(f"U-Net backend unavailable: {missing or error}") from error
