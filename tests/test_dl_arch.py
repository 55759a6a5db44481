"""The U-Net's block kinds (``dl.arch``): the NAF trunk's pieces against NumPy references, its
fresh blocks as identities, the config's checks, and a weights-file round trip."""
import numpy as np
import pytest

from artrestore.dl.contract import BLOCKS, UNetConfig


def test_config_refuses_an_unknown_block_and_miscounted_naf_levels():
    assert UNetConfig().block == "plain" and "naf" in BLOCKS
    with pytest.raises(ValueError, match="block"):
        UNetConfig(block="resnet")
    with pytest.raises(ValueError, match="naf_blocks"):
        UNetConfig(block="naf", naf_blocks=(1, 1, 2))
    with pytest.raises(ValueError, match="naf_blocks"):
        UNetConfig(block="naf", naf_blocks=(1, 0, 2, 2))
    # Stored as JSON lists, read back equal and hashable.
    assert UNetConfig(block="naf", naf_blocks=[2, 2, 4, 4]) == UNetConfig(block="naf", naf_blocks=(2, 2, 4, 4))


@pytest.mark.dl
def test_simple_gate_and_scale_match_numpy():
    from artrestore.dl.arch import _layer_classes

    _, _, SimpleGate, Scale = _layer_classes()
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(SimpleGate()(x)), x[..., :4] * x[..., 4:], rtol=1e-6)
    scale = Scale()
    assert not np.any(np.asarray(scale(x)))          # starts closed
    scale.set_weights([np.arange(8, dtype=np.float32)])
    np.testing.assert_allclose(np.asarray(scale(x)), x * np.arange(8), rtol=1e-6)


@pytest.mark.dl
def test_fresh_naf_blocks_are_identities():
    """beta and gamma start at zero, so each block passes its input through unchanged."""
    from artrestore.dl.arch import build_unet, import_keras

    keras = import_keras()
    model = build_unet(UNetConfig(base_filters=8, block="naf", naf_blocks=(1, 1, 1, 2)))
    probe = keras.Model(model.inputs, [model.get_layer("enc2_naf0_norm1").input,
                                       model.get_layer("enc2_naf0_add2").output])
    x = np.random.default_rng(1).random((1, 32, 32, 3), np.float32)
    before, after = (np.asarray(t) for t in probe(x))
    np.testing.assert_array_equal(before, after)
    assert model(x).shape == (1, 32, 32, 3)
    # One block per encoder count, the last count again in the bottleneck, one per decoder level.
    blocks = {layer.name.rsplit("_", 1)[0] for layer in model.layers if layer.name.endswith("_add2")}
    assert len(blocks) == 1 + 1 + 1 + 2 + 2 + 4


@pytest.mark.dl
def test_a_naf_unet_round_trips_through_its_weights_file(tmp_path):
    from artrestore.dl.arch import build_unet, model_inputs
    from artrestore.dl.weights import load_model, save_weights

    config = UNetConfig(base_filters=8, global_context=True, block="naf", naf_blocks=(1, 1, 1, 1))
    model = build_unet(config)
    rng = np.random.default_rng(2)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float16).astype(np.float32)
                       for w in model.get_weights()])
    save_weights(model, config, tmp_path, {"note": "test"})
    loaded, loaded_config, _ = load_model(tmp_path)
    assert loaded_config == config
    tiles = rng.random((2, 32, 32, 3), np.float32)
    context = rng.random((128, 128, 3), np.float32)
    feeds = model_inputs(config, tiles, context)
    np.testing.assert_allclose(np.asarray(loaded(feeds)), np.asarray(model(feeds)), atol=1e-6)


@pytest.mark.dl
@pytest.mark.slow
def test_a_naf_unet_exports_to_onnx_and_tf_serving_matching_keras(tmp_path):
    """The two exports the runtime and TF Serving load: both compute what Keras does."""
    tf = pytest.importorskip("tensorflow", reason="the exports need the [dl] extra")
    pytest.importorskip("tf2onnx", reason="the ONNX export needs the [export] extra")
    import onnxruntime as ort

    from artrestore.dl.arch import build_unet, model_inputs
    from artrestore.dl.contract import CONTEXT_KEY, INPUT_KEY, OUTPUT_KEY, SIGNATURE_NAME
    from artrestore.dl.weights import save_weights
    from artrestore.serving.export import export_for_serving
    from artrestore.training.export_onnx import convert

    config = UNetConfig(base_filters=8, global_context=True, block="naf", naf_blocks=(1, 1, 1, 2))
    model = build_unet(config)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float16).astype(np.float32)
                       for w in model.get_weights()])
    tiles = rng.random((2, 64, 48, 3), np.float32)
    context = rng.random((2, 128, 128, 3), np.float32)
    expected = np.clip(np.asarray(model(model_inputs(config, tiles, context))), 0, 1)

    session = ort.InferenceSession(convert(model, config).SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: (context if CONTEXT_KEY in i.name else tiles) for i in session.get_inputs()}
    np.testing.assert_allclose(session.run(None, feeds)[0], expected, atol=1e-4)

    folder = save_weights(model, config, tmp_path / "naf", {"note": "test"})
    served = tf.saved_model.load(str(export_for_serving(folder, tmp_path / "serving", model_name="naf")))
    out = served.signatures[SIGNATURE_NAME](**{INPUT_KEY: tf.constant(tiles), CONTEXT_KEY: tf.constant(context)})
    np.testing.assert_allclose(out[OUTPUT_KEY].numpy(), expected, atol=1e-4)
