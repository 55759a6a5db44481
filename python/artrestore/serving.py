"""Serving the U-Net over gRPC: a light client for TensorFlow Serving, a local stand-in server,
and the SavedModel export with warm-up requests.

Client (``TFServingClient``, ``RemoteUNet``): float32 N x H x W x 3 tiles in [0, 1] (plus, for a
global-context model, N x 128 x 128 x 3 thumbnails of the whole image) -> restored tiles, over
``PredictionService.Predict``; RGB uint8 images through the same overlapping-tile blender as
in-process inference. It imports grpcio and protobuf code generated from TF Serving's
own .proto definitions at build time (``artrestore._proto``), never TensorFlow.

Stand-in (``serve`` / ``artrestore serve``): the same PredictionService (Predict,
GetModelMetadata) and ModelService (GetModelStatus) backed by the exported SavedModel through
TensorFlow, batching concurrent requests server-side. Production runs the real TF Serving
(``serving/``); the client talks to both unchanged.
"""
from __future__ import annotations

import logging
import pathlib
import queue
import signal
import threading
import time
from concurrent import futures
from dataclasses import dataclass

import grpc
import numpy as np

from artrestore._validate import to_uint8
from artrestore._proto.tensorflow.core.framework import tensor_pb2, types_pb2
from artrestore._proto.tensorflow.core.protobuf import meta_graph_pb2
from artrestore._proto.tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                                       model_service_pb2_grpc, predict_pb2,
                                                       prediction_log_pb2, prediction_service_pb2_grpc)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "artrestore_unet"
SIGNATURE = "serving_default"
INPUT_KEY, OUTPUT_KEY = "image", "restored"
CONTEXT_KEY = "context"  # global-context models: the whole image's 128^2 thumbnail, one per tile
_MB = 1024 * 1024


# ------------------------------------------------------------------------------------ tensors
def to_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """float32 array -> TensorProto (raw little-endian ``tensor_content``, as tf.make_tensor_proto writes)."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=array.tobytes())
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


def from_tensor_proto(proto: tensor_pb2.TensorProto) -> np.ndarray:
    if proto.dtype != types_pb2.DT_FLOAT:
        raise ValueError(f"expected a DT_FLOAT tensor, got dtype {proto.dtype}")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    if proto.tensor_content:
        data = np.frombuffer(proto.tensor_content, dtype="<f4")
    else:
        data = np.asarray(proto.float_val, np.float32)
        if data.size == 1 and int(np.prod(shape)) > 1:  # TF's splat encoding
            data = np.full(shape, data[0], np.float32)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"tensor holds {data.size} values for shape {shape}")
    return data.reshape(shape)


# ------------------------------------------------------------------------------------- client
class ServingError(RuntimeError):
    """A gRPC call to the model server failed; ``code`` is the grpc.StatusCode."""

    def __init__(self, code, details: str):
        super().__init__(f"{code.name if hasattr(code, 'name') else code}: {details}")
        self.code = code


class TFServingClient:
    """``target``: ``host:port`` or ``grpc://host:port``. Retries UNAVAILABLE with exponential
    backoff; every call has a deadline of ``timeout_s``; TLS when ``root_certificates`` is given."""

    def __init__(self, target: str, *, model_name: str = DEFAULT_MODEL, signature_name: str = SIGNATURE,
                 version: int | None = None, timeout_s: float = 30.0, retries: int = 3, backoff_s: float = 0.2,
                 max_message_mb: int = 256, root_certificates: bytes | None = None):
        address = target.removeprefix("grpc://")
        options = [("grpc.max_send_message_length", max_message_mb * _MB),
                   ("grpc.max_receive_message_length", max_message_mb * _MB)]
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
            from artrestore.dl import per_tile

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

    def __init__(self, target: str, *, model_name: str = DEFAULT_MODEL, timeout_s: float = 30.0,
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
        from artrestore.dl import tiled_restore

        return tiled_restore(image.astype(np.float32) / 255.0, self.client.predict,
                             global_context=self.wants_context(), batch_size=self.batch_size)

    def restore(self, image: np.ndarray) -> np.ndarray:
        from artrestore.restorer import DeepLearningUnavailable

        try:
            restored = self.restore_float(image)
        except ServingError as error:
            raise DeepLearningUnavailable(f"model server: {error}") from error
        return to_uint8(restored)


# --------------------------------------------------------------------------------- stand-in
@dataclass
class _Job:
    inputs: dict  # input name -> N x ... float32, all with the same N
    done: threading.Event
    result: np.ndarray | None = None
    error: Exception | None = None

    @property
    def size(self) -> int:
        return len(next(iter(self.inputs.values())))

    @property
    def shapes(self) -> dict:
        return {key: value.shape[1:] for key, value in self.inputs.items()}


class _Batcher:
    """Collects concurrent requests for one servable into batches of at most ``max_batch`` tiles
    (waiting at most ``timeout_ms`` for company), runs them once, hands each caller its slice."""

    def __init__(self, run, max_batch: int, timeout_ms: float):
        self.run, self.max_batch, self.timeout_s = run, max_batch, timeout_ms / 1000.0
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.batches_run = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def submit(self, inputs: dict) -> np.ndarray:
        job = _Job(inputs, threading.Event())
        self.jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            first = self.jobs.get()
            if first is None:
                return
            group, size = [first], first.size
            deadline = time.monotonic() + self.timeout_s
            while size < self.max_batch:
                try:
                    job = self.jobs.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    self.jobs.put(None)
                    break
                if job.shapes != first.shapes or size + job.size > self.max_batch:
                    self._execute([job])  # another shape (or too big to join): run it on its own
                    continue
                group.append(job)
                size += job.size
            self._execute(group)

    def _execute(self, group) -> None:
        try:
            out = self.run({key: np.concatenate([j.inputs[key] for j in group]) for key in group[0].inputs})
            self.batches_run += 1
            start = 0
            for job in group:
                job.result = out[start:start + job.size]
                start += job.size
        except Exception as error:  # reported to every caller of the batch
            for job in group:
                job.error = error
        for job in group:
            job.done.set()


class _Servable:
    def __init__(self, name: str, version: int, path: pathlib.Path, max_batch: int, timeout_ms: float):
        import tensorflow as tf

        self.name, self.version, self.path = name, version, path
        self.model = tf.saved_model.load(str(path))
        self.signatures = dict(self.model.signatures)
        self.batchers = {sig: _Batcher(self._runner(fn), max_batch, timeout_ms) for sig, fn in self.signatures.items()}

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
        signature = request.model_spec.signature_name or SIGNATURE
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
    options = [("grpc.max_send_message_length", max_message_mb * _MB),
               ("grpc.max_receive_message_length", max_message_mb * _MB)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=options)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(_PredictionService(registry), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(registry), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}")
    server.start()
    return server, bound, registry


def serve_forever(model_base, *, port=8500, host="127.0.0.1", max_batch=32, batch_timeout_ms=2.0) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight calls (5 s grace) and exit."""
    server, bound, registry = serve(model_base, port=port, host=host, max_batch=max_batch,
                                    batch_timeout_ms=batch_timeout_ms)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    models = ", ".join(f"{name} v{sorted(v)}" for name, v in registry.models.items())
    print(f"artrestore serve: gRPC on {host}:{bound} ({models})", flush=True)
    stopping.wait()
    server.stop(grace=5).wait()
    registry.stop()


# ------------------------------------------------------------------------------------ export
WARMUP_TILES = (1, 8)


def export_for_serving(unet_dir, base_path, *, model_name: str = DEFAULT_MODEL, version: int = 1,
                       overwrite: bool = False) -> pathlib.Path:
    """SavedModel for TF Serving plus ``assets.extra/tf_serving_warmup_requests`` (a TFRecord of
    PredictionLog records, one Predict per common tile batch size) so the first real request
    does not pay for graph compilation."""
    import tensorflow as tf

    from artrestore.dl import BUNDLED_UNET, CONTEXT, TILE, export_saved_model, read_metadata

    target = export_saved_model(unet_dir, base_path, model_name=model_name, version=version, overwrite=overwrite)
    wants_context = read_metadata(unet_dir or BUNDLED_UNET)["architecture"].get("global_context", False)
    with tf.io.TFRecordWriter(str(target / "assets.extra" / "tf_serving_warmup_requests")) as writer:
        for n in WARMUP_TILES:
            entry = prediction_log_pb2.PredictionLog()
            request = entry.predict_log.request
            request.model_spec.name = model_name
            request.model_spec.signature_name = SIGNATURE
            request.inputs[INPUT_KEY].CopyFrom(to_tensor_proto(np.full((n, TILE, TILE, 3), 0.5, np.float32)))
            if wants_context:
                request.inputs[CONTEXT_KEY].CopyFrom(to_tensor_proto(np.full((n, CONTEXT, CONTEXT, 3), 0.5, np.float32)))
            writer.write(entry.SerializeToString())
    return target
