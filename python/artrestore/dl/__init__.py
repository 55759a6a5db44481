"""The deep-learning path: a Keras 3 U-Net for severe damage, run in process or through a model server.

Modules, one job each:

- ``contract``: tile size, overlap, context size, model name, signature keys, ``UNetConfig`` (pure).
- ``tiling``: overlapping-tile inference and the whole-image thumbnail (pure NumPy).
- ``arch``: the Keras network; ``weights``: model folders (float16 ``unet.npz`` + SHA-256 metadata).
- ``inference``: ``UNetRestorer``, in-process; ``backends``: ``make_backend("local" | "grpc://...")``.

Importing this package, ``dl.contract`` or ``dl.tiling`` never imports Keras or TensorFlow. The
names the former module ``artrestore.dl`` held (training and export included) still resolve here,
lazily, for one release; new code imports them from their modules (``artrestore.training.*``,
``artrestore.serving.export``).
"""
from __future__ import annotations

from artrestore._lazy import lazy_package

__all__ = ["contract", "tiling", "arch", "weights", "inference", "backends"]

# Former ``artrestore.dl`` names -> (module, name there). Resolved on first access (PEP 562).
_MOVED = {
    **{name: ("artrestore.dl.contract", name) for name in
       ("BUNDLED_UNET", "FORMAT", "TILE", "OVERLAP", "CONTEXT", "UNetConfig")},
    "SIGNATURE_INPUT": ("artrestore.dl.contract", "INPUT_KEY"),
    "SIGNATURE_OUTPUT": ("artrestore.dl.contract", "OUTPUT_KEY"),
    "SIGNATURE_CONTEXT": ("artrestore.dl.contract", "CONTEXT_KEY"),
    **{name: ("artrestore.dl.tiling", name) for name in
       ("make_context", "per_tile", "blend_window", "tiled_restore", "tiled_predict")},
    "_keras": ("artrestore.dl.arch", "import_keras"),
    **{name: ("artrestore.dl.arch", name) for name in ("build_unet", "model_inputs")},
    **{name: ("artrestore.dl.weights", name) for name in ("save_weights", "read_metadata", "load_model")},
    "UNetRestorer": ("artrestore.dl.inference", "UNetRestorer"),
    "make_loss": ("artrestore.training.losses", "make_loss"),
    **{name: ("artrestore.training.unet_data", name) for name in ("make_pairs", "random_batch", "crop_dataset")},
    **{name: ("artrestore.training.unet_train", name) for name in ("TrainConfig", "train_unet", "transfer_weights")},
    "evaluate_on_pairs": ("artrestore.training.unet_eval", "evaluate_on_pairs"),
    "export_saved_model": ("artrestore.serving.export", "export_saved_model"),
}


__getattr__, __dir__ = lazy_package(__name__, __all__, _MOVED)
