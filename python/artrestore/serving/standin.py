"""A local stand-in for TensorFlow Serving (``artrestore serve``): the same PredictionService
(Predict, GetModelMetadata) and ModelService (GetModelStatus) over gRPC, backed by every exported
SavedModel under a model base path (``<base>/<name>/<version>/saved_model.pb``) through
TensorFlow, batching concurrent requests server-side (``dl.batching``). Production runs the
real TF Serving (``serving/`` at the repository root); the client talks to both unchanged.
"""
from __future__ import annotations

import logging
import pathlib
import signal
import threading
from concurrent import futures

import grpc
import numpy as np

from artrestore._proto.tensorflow.core.framework import types_pb2
from artrestore._proto.tensorflow.core.protobuf import meta_graph_pb2
from artrestore._proto.tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from artrestore.dl.batching import Batcher
from artrestore.dl.contract import OUTPUT_KEY, SIGNATURE_NAME
from artrestore.serving.client import channel_options
from artrestore.serving.tensors import from_tensor_proto, to_tensor_proto

__all__ = ["serve", "serve_forever"]

log = logging.getLogger(__name__)


class _Servable:
    def __init__(self, name: str, version: int, path: pathlib.Path, max_batch: int, timeout_ms: float):
        import tensorflow as tf

        self.name, self.version, self.path = name, version, path
        self.model = tf.saved_model.load(str(path))
        self.signatures = dict(self.model.signatures)
        self.batchers = {sig: Batcher(self._runner(fn), max_batch, timeout_ms) for sig, fn in self.signatures.items()}

    @staticmethod
    def _runner(fn):
        import tensorflow as tf

        def run(batch: dict) -> np.ndarray:
            return fn(**{key: tf.constant(value) for key, value in batch.items()})[OUTPUT_KEY].numpy()

        return run

    def input_names(self, signature: str) -> set:
        return set(self.signatures[signature].structured_input_signature[1])


class _ModelRegistry:
    """Every version of every model under a TF Serving model base path (<base>/<name>/<version>/)."""

    def __init__(self, base: pathlib.Path, max_batch: int, timeout_ms: float):
        self.models: dict[str, dict[int, _Servable]] = {}
        if not base.is_dir():
            raise FileNotFoundError(f"model base path not found: {base}")
        for model_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            for version_dir in sorted(p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()):
                if (version_dir / "saved_model.pb").is_file():
                    self.models.setdefault(model_dir.name, {})[int(version_dir.name)] = _Servable(
                        model_dir.name, int(version_dir.name), version_dir, max_batch, timeout_ms)
        if not self.models:
            raise FileNotFoundError(f"no <name>/<version>/saved_model.pb under {base}")

    def find(self, spec, context) -> _Servable:
        versions = self.models.get(spec.name)
        if not versions:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({spec.name})")
        if spec.HasField("version"):
            if spec.version.value not in versions:
                context.abort(grpc.StatusCode.NOT_FOUND,
                       f"Servable not found for request: Specific({spec.name}, {spec.version.value})")
            return versions[spec.version.value]
        return versions[max(versions)]

    def stop(self) -> None:
        for versions in self.models.values():
            for servable in versions.values():
                for batcher in servable.batchers.values():
                    batcher.stop()


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, registry: _ModelRegistry):
        self.registry = registry

    def Predict(self, request, context):
        servable = self.registry.find(request.model_spec, context)
        signature = request.model_spec.signature_name or SIGNATURE_NAME
        if signature not in servable.batchers:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                   f"Serving signature name: \"{signature}\" not found in signature def "
                   f"(available: {sorted(servable.batchers)})")
        expected = servable.input_names(signature)
        if set(request.inputs) != expected:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                   f"expected inputs {sorted(expected)}, got {sorted(request.inputs)}")
        inputs = {}
        for key in sorted(expected):
            try:
                inputs[key] = from_tensor_proto(request.inputs[key])
            except ValueError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"input {key!r}: {error}")
            value = inputs[key]
            if value.ndim != 4 or value.shape[3] != 3 or value.shape[0] == 0:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"input {key!r}: expected [N, H, W, 3] float32, got {value.shape}")
        if len({len(v) for v in inputs.values()}) != 1:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"inputs differ in batch size: { {k: len(v) for k, v in inputs.items()} }")
        try:
            out = servable.batchers[signature].submit(inputs)
        except Exception as error:  # TensorFlow's own complaint (e.g. H, W not multiples of 16)
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"model could not run: {error}")
        response = predict_pb2.PredictResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature
        response.outputs[OUTPUT_KEY].CopyFrom(to_tensor_proto(out))
        return response

    def GetModelMetadata(self, request, context):
        servable = self.registry.find(request.model_spec, context)
        sigmap = get_model_metadata_pb2.SignatureDefMap()
        for name, fn in servable.signatures.items():
            sig = sigmap.signature_def[name]
            sig.method_name = "tensorflow/serving/predict"
            for key, spec in fn.structured_input_signature[1].items():
                _tensor_info(sig.inputs[key], spec)
            for key, spec in fn.structured_outputs.items():
                _tensor_info(sig.outputs[key], spec)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(sigmap)
        return response


def _tensor_info(info: meta_graph_pb2.TensorInfo, spec) -> None:
    info.name = spec.name or ""
    info.dtype = types_pb2.DT_FLOAT
    for size in spec.shape:
        info.tensor_shape.dim.add(size=-1 if size is None else int(size))


class _ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, registry: _ModelRegistry):
        self.registry = registry

    def GetModelStatus(self, request, context):
        versions = self.registry.models.get(request.model_spec.name)
        if not versions:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {request.model_spec.name}")
        wanted = [request.model_spec.version.value] if request.model_spec.HasField("version") else sorted(versions)
        response = get_model_status_pb2.GetModelStatusResponse()
        for v in wanted:
            status = response.model_version_status.add(version=v)
            status.state = (get_model_status_pb2.ModelVersionStatus.AVAILABLE if v in versions
                            else get_model_status_pb2.ModelVersionStatus.UNKNOWN)
        return response


def serve(model_base, *, port: int = 8500, host: str = "127.0.0.1", max_batch: int = 32,
          batch_timeout_ms: float = 2.0, workers: int = 16, max_message_mb: int = 256):
    """Start the stand-in; returns (grpc.Server, bound port, registry). Port 0 picks a free one."""
    registry = _ModelRegistry(pathlib.Path(model_base), max_batch, batch_timeout_ms)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=channel_options(max_message_mb))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(_PredictionService(registry), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(registry), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}")
    server.start()
    return server, bound, registry


def serve_forever(model_base, *, port=8500, host="127.0.0.1", max_batch=32, batch_timeout_ms=2.0,
                  on_ready=log.info) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight calls (5 s grace) and exit; ``on_ready``
    gets one line saying where it listens and what it serves (the CLI prints it)."""
    server, bound, registry = serve(model_base, port=port, host=host, max_batch=max_batch,
                                    batch_timeout_ms=batch_timeout_ms)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    models = ", ".join(f"{name} v{sorted(v)}" for name, v in registry.models.items())
    on_ready(f"artrestore serve: gRPC on {host}:{bound} ({models})")
    stopping.wait()
    server.stop(grace=5).wait()
    registry.stop()
