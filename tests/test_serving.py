"""Serving: wire compatibility with TF Serving's protos, its config files, and the stand-in server
and client over real loopback gRPC."""
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from artrestore._proto.tensorflow_serving.apis import get_model_status_pb2, predict_pb2
from artrestore.dl.contract import MODEL_NAME
from artrestore.dl.tiling import tiled_restore
from artrestore.serving.client import RemoteUNet, ServingError, TFServingClient
from artrestore.serving.tensors import from_tensor_proto, to_tensor_proto

REPO = pathlib.Path(__file__).resolve().parents[1]
SERVING = REPO / "serving"


def test_client_never_imports_tensorflow():
    code = "import sys, artrestore.serving.client; bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_tensor_round_trip():
    x = np.random.default_rng(0).random((3, 16, 8, 3), dtype=np.float32)
    np.testing.assert_array_equal(from_tensor_proto(to_tensor_proto(x)), x)


tf = pytest.importorskip("tensorflow", reason="the stand-in and the wire checks need TensorFlow")
tfs = pytest.importorskip("tensorflow_serving.apis.predict_pb2", reason="needs tensorflow-serving-api")


def test_predict_request_bytes_match_tf_serving():
    from tensorflow_serving.apis import predict_pb2 as theirs

    x = np.random.default_rng(1).random((2, 32, 48, 3), dtype=np.float32)
    ours = predict_pb2.PredictRequest()
    ours.model_spec.name, ours.model_spec.signature_name = "artrestore_unet", "serving_default"
    ours.model_spec.version.value = 7
    ours.inputs["image"].CopyFrom(to_tensor_proto(x))
    ref = theirs.PredictRequest()
    ref.model_spec.name, ref.model_spec.signature_name = "artrestore_unet", "serving_default"
    ref.model_spec.version.value = 7
    ref.inputs["image"].CopyFrom(tf.make_tensor_proto(x))
    assert ours.SerializeToString(deterministic=True) == ref.SerializeToString(deterministic=True)
    # And each side parses the other's bytes into the same message.
    assert theirs.PredictRequest.FromString(ours.SerializeToString()) == ref
    back = predict_pb2.PredictRequest.FromString(ref.SerializeToString())
    np.testing.assert_array_equal(from_tensor_proto(back.inputs["image"]), x)


def test_response_and_status_bytes_match_tf_serving():
    from tensorflow_serving.apis import get_model_status_pb2 as their_status
    from tensorflow_serving.apis import predict_pb2 as theirs

    y = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    ours = predict_pb2.PredictResponse()
    ours.model_spec.name = "m"
    ours.outputs["restored"].CopyFrom(to_tensor_proto(y))
    ref = theirs.PredictResponse()
    ref.model_spec.name = "m"
    ref.outputs["restored"].CopyFrom(tf.make_tensor_proto(y))
    assert ours.SerializeToString(deterministic=True) == ref.SerializeToString(deterministic=True)
    # TF's float_val encoding (small tensors) is read too.
    assert np.array_equal(from_tensor_proto(
        predict_pb2.PredictResponse.FromString(theirs.PredictResponse(outputs={"r": tf.make_tensor_proto(
            [1.5, 2.5], dtype=tf.float32)}).SerializeToString()).outputs["r"]), [1.5, 2.5])
    status = get_model_status_pb2.GetModelStatusResponse()
    status.model_version_status.add(version=3, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
    parsed = their_status.GetModelStatusResponse.FromString(status.SerializeToString())
    assert parsed.model_version_status[0].state == their_status.ModelVersionStatus.AVAILABLE


def test_deployment_configs_parse_with_tf_serving_protos():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    # tensorflow-serving-api ships ModelServerConfig but not these two; ours carry TF Serving's
    # field names and numbers, and text_format rejects any unknown field (a typo fails here).
    from artrestore._proto.tensorflow_serving.config import monitoring_config_pb2
    from artrestore._proto.tensorflow_serving.servables.tensorflow import session_bundle_config_pb2

    config = text_format.Parse((SERVING / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    assert config.model_config_list.config[0].name == MODEL_NAME
    batching = text_format.Parse((SERVING / "batching_parameters.txt").read_text(),
                                 session_bundle_config_pb2.BatchingParameters())
    assert batching.max_batch_size.value >= 16
    monitoring = text_format.Parse((SERVING / "monitoring.config").read_text(), monitoring_config_pb2.MonitoringConfig())
    assert monitoring.prometheus_config.enable
    compose = (SERVING / "docker-compose.yml").read_text()
    assert "8500:8500" in compose and "8501:8501" in compose and "capabilities: [gpu]" in compose
    dockerfile = (SERVING / "Dockerfile").read_text()
    for flag in ("--enable_batching=true", "--batching_parameters_file", "--monitoring_config_file",
                 "--model_config_file", "--enable_model_warmup"):
        assert flag in dockerfile


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("serving")
    from artrestore.serving.export import export_for_serving

    target = export_for_serving(None, base)
    records = list(tf.data.TFRecordDataset(str(target / "assets.extra" / "tf_serving_warmup_requests")))
    from tensorflow_serving.apis import prediction_log_pb2

    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in records]
    assert [tuple(d.size for d in l.predict_log.request.inputs["image"].tensor_shape.dim)[0] for l in logs] == [1, 8, 1]
    assert [l.predict_log.request.model_spec.signature_name for l in logs] == [
        "serving_default", "serving_default", "serving_default_x8"]
    # The bundled model is a global-context one: warm-up requests carry a thumbnail per tile.
    assert [tuple(d.size for d in l.predict_log.request.inputs["context"].tensor_shape.dim) for l in logs] == [
        (1, 128, 128, 3), (8, 128, 128, 3), (1, 128, 128, 3)]
    return base


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_base):
    """The stand-in as a real separate process on loopback, stopped at the end."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "artrestore.cli", "serve", "--model-dir", str(model_base),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=5)
    deadline = time.time() + 120
    while not client.healthy():
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "server did not come up"
        time.sleep(0.5)
    yield proc, port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def severe(astronaut):
    from artrestore.training.synthesis import synthesize_damage

    return synthesize_damage(astronaut, "severe", seed=4)[0]


def test_grpc_matches_in_process_inference(server, severe):
    from artrestore.dl.inference import UNetRestorer

    _, port = server
    remote = RemoteUNet(f"grpc://127.0.0.1:{port}")
    got = remote.restore_float(severe)
    assert remote.wants_context()
    # In process: the Keras model through the same 256-px tiler, other batch size; over gRPC: the
    # exported SavedModel.
    expected = tiled_restore(severe.astype(np.float32) / 255, UNetRestorer(batch_size=4).predict_tiles,
                             global_context=True, batch_size=4)
    assert np.abs(got - expected).max() <= 1e-4


def test_reduced_precision_signature_over_grpc(server, severe, astronaut):
    # precision="fp16" calls the SavedModel's serving_fp16: same contract, within 0.05 dB of fp32.
    from artrestore import metrics
    from artrestore.dl.backends import make_backend

    _, port = server
    fp16 = make_backend(f"grpc://127.0.0.1:{port}", precision="fp16")
    assert fp16.client.signature_name == "serving_fp16" and fp16.wants_context()
    fp32 = make_backend(f"grpc://127.0.0.1:{port}")
    reduced, full = fp16.restore(severe), fp32.restore(severe)
    assert reduced.shape == full.shape and reduced.dtype == np.uint8
    assert np.abs(reduced.astype(int) - full).mean() < 0.5
    assert abs(metrics.psnr(reduced, astronaut) - metrics.psnr(full, astronaut)) < 0.05
    with pytest.raises(ValueError, match="served U-Net offers precisions"):
        make_backend(f"grpc://127.0.0.1:{port}", precision="int8")


class _CountingClient:
    """A TFServingClient's predict, counted and its tiles' bytes summed."""

    def __init__(self, client):
        self.client, self.calls, self.bytes = client, 0, 0
        self.predict_ = client.predict

    def predict(self, tiles, context=None):
        self.calls, self.bytes = self.calls + 1, self.bytes + tiles.nbytes
        return self.predict_(tiles, context)


def test_served_views_are_averaged_in_the_graph(server, severe):
    """``serving_default_x8``: one copy of the tiles goes to the server, which averages the eight
    views of each tile (and its thumbnail). Reference: the same server's plain signature on the
    eight views turned on the client (``dl.ensemble``), equal up to rounding for a one-tile image;
    on a larger image the two differ where tiles are blended (views of tiles, not of the image)."""
    from artrestore import metrics
    from artrestore.dl.ensemble import SelfEnsemble

    _, port = server
    remote = RemoteUNet(f"grpc://127.0.0.1:{port}")
    in_graph = remote.with_views(8)
    assert in_graph.client.signature_name == "serving_default_x8" and in_graph.wants_context()
    assert remote.client.signature_name == "serving_default"  # the original is left as it was
    assert remote.with_views(4) is None  # not exported: the caller turns the views itself

    class TurnedHere:  # the same server, without its offer
        restore = remote.restore

    one_tile = np.ascontiguousarray(severe[:256, :256])
    ensemble = SelfEnsemble(remote, 8)
    first = ensemble.restore(one_tile)  # asks the server for its eight-view signature
    counting = _CountingClient(ensemble._averaging.client)
    ensemble._averaging.client.predict = counting.predict
    averaged = ensemble.restore(one_tile)
    assert counting.calls == 1 and counting.bytes == one_tile.size * 4  # one float32 copy
    np.testing.assert_array_equal(averaged, first)
    turned_here = SelfEnsemble(TurnedHere(), 8).restore(one_tile)
    assert np.abs(averaged.astype(int) - turned_here).max() <= 1
    whole = SelfEnsemble(remote, 8).restore(severe)
    assert metrics.psnr(whole, SelfEnsemble(TurnedHere(), 8).restore(severe)) > 40
    assert metrics.psnr(whole, remote.restore(severe)) < metrics.psnr(whole, SelfEnsemble(TurnedHere(), 8).restore(severe))


def _predict_raw(client, tiles, context):
    """A Predict request built by hand, for inputs the client would never send."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["image"].CopyFrom(to_tensor_proto(tiles))
    request.inputs["context"].CopyFrom(to_tensor_proto(context))
    return client._call(client.predictions.Predict, request)


def test_status_metadata_and_errors(server):
    _, port = server
    client = TFServingClient(f"127.0.0.1:{port}")
    assert client.status() == [(1, "AVAILABLE")]
    signature = {"inputs": ["context", "image"], "outputs": ["restored"]}
    assert client.metadata() == {name: signature for name in (
        "serving_default", "serving_fp16", "serving_default_x2", "serving_default_x8", "serving_fp16_x2",
        "serving_fp16_x8")}
    tile = np.zeros((1, 256, 256, 3), np.float32)
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*expected inputs \\['context', 'image'\\]"):
        client.predict(tile)  # the thumbnail is missing
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*'context'.*expected \\[N, H, W, 3\\]"):
        client.predict(tile, np.zeros((1, 128, 128), np.float32))
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*batch size"):
        _predict_raw(client, np.zeros((2, 256, 256, 3), np.float32), np.zeros((3, 128, 128, 3), np.float32))
    with pytest.raises(ServingError, match="NOT_FOUND"):
        TFServingClient(f"127.0.0.1:{port}", model_name="other").predict(tile)
    with pytest.raises(ServingError, match="NOT_FOUND"):
        TFServingClient(f"127.0.0.1:{port}", version=99).predict(tile)
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*signature"):
        TFServingClient(f"127.0.0.1:{port}", signature_name="predict_v2").predict(tile)
    with pytest.raises(ServingError, match="DEADLINE_EXCEEDED"):
        TFServingClient(f"127.0.0.1:{port}", timeout_s=1e-4, retries=0).predict(np.zeros((16, 256, 256, 3), np.float32))
    with pytest.raises(ServingError, match="RESOURCE_EXHAUSTED"):
        TFServingClient(f"127.0.0.1:{port}", max_message_mb=1).predict(np.zeros((8, 256, 256, 3), np.float32))


def test_concurrent_clients_are_batched_and_correct(server):
    _, port = server
    rng = np.random.default_rng(3)
    inputs = [rng.random((2, 256, 256, 3), dtype=np.float32) for _ in range(6)]
    contexts = [rng.random((128, 128, 3), dtype=np.float32) for _ in range(6)]
    solo = [TFServingClient(f"127.0.0.1:{port}").predict(x, c) for x, c in zip(inputs, contexts)]
    results = [None] * len(inputs)

    def call(i):
        results[i] = TFServingClient(f"127.0.0.1:{port}").predict(inputs[i], contexts[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(inputs))]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    for got, want in zip(results, solo):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_restorer_over_grpc_and_fallback_when_server_dies(model_base, severe, tmp_path):
    from artrestore import HybridRestorer
    from artrestore.imageio import read_image, write_image

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "artrestore.cli", "serve", "--model-dir", str(model_base),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=5)
        deadline = time.time() + 120
        while not client.healthy():
            assert time.time() < deadline
            time.sleep(0.5)
        # One view: this is about the fallback; the served default's eight views are tested below.
        restorer = HybridRestorer(dl_backend=f"grpc://127.0.0.1:{port}", dl_timeout_s=20, dl_views=1)
        restored, info = restorer.restore(severe, "dl")
        assert info["method"] == "deep_learning" and "fallback" not in info and info["params"]["views"] == 1
        eight = HybridRestorer(dl_backend=f"grpc://127.0.0.1:{port}", dl_timeout_s=60)
        eight._hold_shares = {"colour_keep": {}, "change_keep": {}}  # the network's output as it is
        small = np.ascontiguousarray(severe[:96, :128])
        averaged, eight_info = eight.restore(small, "dl")
        assert eight_info["params"]["views"] == 8 and "fallback" not in eight_info
        assert eight_info["params"]["views_turned_by"] == "backend"  # the server's eight-view signature
        # Independent reference: the server averages the eight views of each tile and its
        # thumbnail (``serving_default_x8``). Here the one tile (the image mirror-padded to 256
        # px, as the tiler does) and the thumbnail are turned with flips and transposes, each
        # view restored through the plain signature and turned back, averaged.
        from artrestore._validate import to_uint8
        from artrestore.dl.tiling import make_context

        x = small.astype(np.float32) / 255
        tile = np.pad(x, ((0, 256 - x.shape[0]), (0, 256 - x.shape[1]), (0, 0)), mode="reflect")
        context = make_context(x)
        plain = TFServingClient(f"127.0.0.1:{port}")
        outs = []
        for transpose in (False, True):
            for rows, cols in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                def turn(a, rows=rows, cols=cols, transpose=transpose):
                    a = a.transpose(1, 0, 2) if transpose else a
                    return np.ascontiguousarray(a[::rows, ::cols])
                out = plain.predict(turn(tile)[None], turn(context))[0][::rows, ::cols]
                outs.append(out.transpose(1, 0, 2) if transpose else out)
        expected = to_uint8(np.mean(outs, axis=0)[:small.shape[0], :small.shape[1]])
        # Rounding, and a level where batching moves a float output across a rounding edge.
        assert np.abs(averaged.astype(int) - expected).max() <= 1
        src = tmp_path / "in"
        for i in range(6):
            write_image(src / f"s{i}.png", severe[:, 48 * i:])
        rows = []
        batch = threading.Thread(target=lambda: rows.extend(
            restorer.batch_restore(src, tmp_path / "out", strategy="dl", progress=False)))
        batch.start()
        deadline = time.time() + 300
        while not list((tmp_path / "out").glob("*_restored.png")):  # the server dies mid-batch
            assert time.time() < deadline and batch.is_alive()
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        batch.join(timeout=600)
        assert len(rows) == 6 and all(r["status"] == "restored" for r in rows)
        fell_back = [r for r in rows if r["fallback"]]
        assert 1 <= len(fell_back) <= 5 and all("model server" in r["fallback"] for r in fell_back)
        for r in rows:
            assert read_image(r["output"]).shape == read_image(r["file"]).shape
        assert not list((tmp_path / "out").glob("*.part"))
    finally:
        if proc.poll() is None:
            proc.kill()
