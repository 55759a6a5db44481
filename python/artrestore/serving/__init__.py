"""Serving the U-Net over gRPC.

- ``tensors``: TensorProto <-> NumPy; ``client``: ``TFServingClient`` and ``RemoteUNet`` (grpcio and
  protobuf only, never TensorFlow); ``batcher``: server-side batching (any model function);
  ``standin``: ``serve`` / ``serve_forever``, the local TF-Serving stand-in (TensorFlow);
  ``export``: ``export_for_serving``, the SavedModel with its warm-up records (TensorFlow).

Importing this package imports none of them; the names the former module ``artrestore.serving``
held resolve lazily from their modules (kept for one release).
"""
from __future__ import annotations

from artrestore._lazy import lazy_package

__all__ = ["tensors", "client", "batcher", "standin", "export"]

# Former ``artrestore.serving`` names -> (module, name there), resolved on first access (PEP 562).
_MOVED = {
    "to_tensor_proto": ("artrestore.serving.tensors", "to_tensor_proto"),
    "from_tensor_proto": ("artrestore.serving.tensors", "from_tensor_proto"),
    **{name: ("artrestore.serving.client", name) for name in ("ServingError", "TFServingClient", "RemoteUNet")},
    "serve": ("artrestore.serving.standin", "serve"),
    "serve_forever": ("artrestore.serving.standin", "serve_forever"),
    "WARMUP_TILES": ("artrestore.serving.export", "WARMUP_TILES"),
    "export_for_serving": ("artrestore.serving.export", "export_for_serving"),
    "DEFAULT_MODEL": ("artrestore.dl.contract", "MODEL_NAME"),
    "SIGNATURE": ("artrestore.dl.contract", "SIGNATURE_NAME"),
    "INPUT_KEY": ("artrestore.dl.contract", "INPUT_KEY"),
    "OUTPUT_KEY": ("artrestore.dl.contract", "OUTPUT_KEY"),
    "CONTEXT_KEY": ("artrestore.dl.contract", "CONTEXT_KEY"),
}


__getattr__, __dir__ = lazy_package(__name__, __all__, _MOVED)
