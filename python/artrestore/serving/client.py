"""A light gRPC client for TensorFlow Serving's PredictionService and ModelService (also served by
``artrestore serve``): float32 N x H x W x 3 tiles in [0, 1] (plus, for a global-context model,
N x 128 x 128 x 3 thumbnails of the whole image) -> restored tiles (``TFServingClient``); RGB uint8
images through the same overlapping-tile blender as in-process inference (``RemoteUNet``).

It needs grpcio and protobuf only: never TensorFlow, Keras, the network or its weights, nor the
restorer (import-linter checks this). One channel serves many threads at once, so callers share a
client without a lock; concurrent requests reach the server together and its batching sees them.
"""
from __future__ import annotations

import copy
import time

import grpc
import numpy as np

from artrestore._proto.tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from artrestore._validate import to_uint8
from artrestore.dl.contract import CONTEXT_KEY, INPUT_KEY, MODEL_NAME, OUTPUT_KEY, SIGNATURE_NAME, views_signature
from artrestore.dl.tiling import per_tile, tiled_restore
from artrestore.errors import DeepLearningUnavailable
from artrestore.serving.tensors import from_tensor_proto, to_tensor_proto

__all__ = ["ServingError", "TFServingClient", "RemoteUNet", "channel_options"]

_MB = 1024 * 1024


def channel_options(max_message_mb: int) -> list[tuple[str, int]]:
    """gRPC options allowing messages up to ``max_message_mb`` MiB both ways (default gRPC: 4)."""
    return [("grpc.max_send_message_length", max_message_mb * _MB),
            ("grpc.max_receive_message_length", max_message_mb * _MB)]


class ServingError(RuntimeError):
    """A gRPC call to the model server failed; ``code`` is the grpc.StatusCode."""

    def __init__(self, code, details: str):
        super().__init__(f"{code.name if hasattr(code, 'name') else code}: {details}")
        self.code = code


class TFServingClient:
    """``target``: ``host:port`` or ``grpc://host:port``. Retries UNAVAILABLE with exponential
    backoff; every call has a deadline of ``timeout_s``; TLS when ``root_certificates`` is given."""

    def __init__(self, target: str, *, model_name: str = MODEL_NAME, signature_name: str = SIGNATURE_NAME,
                 version: int | None = None, timeout_s: float = 30.0, retries: int = 3, backoff_s: float = 0.2,
                 max_message_mb: int = 256, root_certificates: bytes | None = None):
        address = target.removeprefix("grpc://")
        options = channel_options(max_message_mb)
        if root_certificates is not None:
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates), options)
        else:
            self.channel = grpc.insecure_channel(address, options)
        self.predictions = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self.channel)
        self.model_name, self.signature_name, self.version = model_name, signature_name, version
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s

    def _spec(self, spec) -> None:
        spec.name = self.model_name
        if self.version is not None:
            spec.version.value = self.version

    def _call(self, method, request):
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                return method(request, timeout=self.timeout_s)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and attempt < self.retries:
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise ServingError(error.code(), error.details() or "") from None

    def predict(self, tiles: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """Restore tiles; ``context`` (the thumbnail of their image, 128 x 128 x 3, or one per
        tile) is sent only for models whose signature takes it."""
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec)
        request.model_spec.signature_name = self.signature_name
        request.inputs[INPUT_KEY].CopyFrom(to_tensor_proto(tiles))
        if context is not None:
            request.inputs[CONTEXT_KEY].CopyFrom(to_tensor_proto(per_tile(context, len(tiles))))
        response = self._call(self.predictions.Predict, request)
        if OUTPUT_KEY not in response.outputs:
            raise ServingError("INVALID_OUTPUT", f"response has no {OUTPUT_KEY!r} output")
        return from_tensor_proto(response.outputs[OUTPUT_KEY])

    def status(self) -> list[tuple[int, str]]:
        """(version, state name) per loaded version, from ModelService.GetModelStatus."""
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec)
        response = self._call(self.models.GetModelStatus, request)
        names = get_model_status_pb2.ModelVersionStatus.State.Name
        return [(s.version, names(s.state)) for s in response.model_version_status]

    def healthy(self) -> bool:
        try:
            return any(state == "AVAILABLE" for _, state in self.status())
        except ServingError:
            return False

    def metadata(self) -> dict:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec)
        response = self._call(self.predictions.GetModelMetadata, request)
        sigmap = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sigmap)
        return {name: {"inputs": sorted(sig.inputs), "outputs": sorted(sig.outputs)}
                for name, sig in sigmap.signature_def.items()}

    def close(self) -> None:
        self.channel.close()


class RemoteUNet:
    """RGB uint8 in and out through a model server, tiled exactly like in-process inference."""

    def __init__(self, target: str, *, model_name: str = MODEL_NAME, timeout_s: float = 30.0,
                 batch_size: int = 16, **client_options):
        self.client = TFServingClient(target, model_name=model_name, timeout_s=timeout_s, **client_options)
        self.batch_size = batch_size
        self._wants_context: bool | None = None

    def wants_context(self) -> bool:
        """Whether the served signature takes the whole-image thumbnail (asked once, from its metadata)."""
        if self._wants_context is None:
            signature = self.client.metadata().get(self.client.signature_name)
            if signature is None:
                raise ServingError("NOT_FOUND", f"model server has no signature {self.client.signature_name!r}")
            self._wants_context = CONTEXT_KEY in signature["inputs"]
        return self._wants_context

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """H x W x 3 uint8 -> restored float32 in [0, 1]; ServingError when the server fails."""
        return tiled_restore(image.astype(np.float32) / 255.0, self.client.predict,
                             global_context=self.wants_context(), batch_size=self.batch_size)

    def with_views(self, views: int) -> "RemoteUNet | None":
        """This model averaged over ``views`` dihedral views by the server, in its graph (the
        signature ``views_signature(signature, views)``, ``serving.export``), sharing this channel;
        None when the server does not offer it (an export from before it), so the caller turns the
        views itself. DeepLearningUnavailable when the server cannot be asked."""
        name = views_signature(self.client.signature_name, views)
        try:
            offered = self.client.metadata()
        except ServingError as error:
            raise DeepLearningUnavailable(f"model server: {error}") from error
        if name not in offered:
            return None
        remote = copy.copy(self)
        remote.client = copy.copy(self.client)  # the same channel and stubs, another signature
        remote.client.signature_name = name
        remote._wants_context = CONTEXT_KEY in offered[name]["inputs"]
        return remote

    def restore(self, image: np.ndarray) -> np.ndarray:
        """RGB uint8 -> restored RGB uint8; DeepLearningUnavailable when the server cannot help."""
        try:
            restored = self.restore_float(image)
        except ServingError as error:
            raise DeepLearningUnavailable(f"model server: {error}") from error
        return to_uint8(restored)
