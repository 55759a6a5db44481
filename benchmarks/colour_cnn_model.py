"""Model for the colour CNN experiment: the network, its training, its ONNX export and its ONNX inference.

Inputs: a ``THUMB`` x ``THUMB`` (64 x 64 px) RGB thumbnail scaled to [0, 1] (float32) and the ``N_FEATURES``
= 33 histogram features in [0, 1] (float32), both from ``colour_cnn_data``; for training, the
``data_round*.npz`` files that ``colour_cnn_data.make_data`` writes under the work folder.

Outputs: the network's 6 outputs are the clean values at the ``ANCHORS`` levels 64 and 192 (r, g, b at the low
anchor, then the high one) as offsets from the identity on the [0, 1] scale; ``map_from_output`` turns them into
a per-channel affine map (gains clipped to ``GAIN_RANGE``; offsets in levels on the 0-255 scale). ``train`` writes
``colour_cnn.keras``, ``colour_cnn.onnx`` (float32 weights, ``tf2onnx``, opset 17) and ``train.json`` (losses
in dB, 64 px thumbnail PSNR in dB of the held-out cases, seconds, parameter count) under the work folder.
``OnnxColour`` runs the exported network under ONNX Runtime on one CPU thread: uint8 RGB image -> (gains,
offsets in levels).
"""
from __future__ import annotations

import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # the colour_cnn_* modules beside this one
from colour_cnn_data import N_FEATURES, THUMB, features, load_data, thumbnail

__all__ = ["ANCHORS", "GAIN_RANGE", "CLEAN_OK_DB", "map_from_output", "build_model", "train", "export_onnx",
           "OnnxColour"]

ANCHORS = (64.0, 192.0)           # as chain.router.ANCHORS: the map is predicted as clean values there
GAIN_RANGE = (0.25, 4.0)
CLEAN_OK_DB = 38.0


def map_from_output(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) in levels from the network's 6 outputs: the clean values at ANCHORS (r, g, b
    at the low anchor, then the high one) are ``ANCHORS / 255 + out`` on the [0, 1] scale."""
    lo = ANCHORS[0] + 255.0 * np.asarray(out[:3], np.float64)
    hi = ANCHORS[1] + 255.0 * np.asarray(out[3:], np.float64)
    gains = np.clip((hi - lo) / (ANCHORS[1] - ANCHORS[0]), *GAIN_RANGE)
    return gains, lo - gains * ANCHORS[0]


# ---------------------------------------------------------------- model

def build_model(width: int = 32):
    """The CNN; ``width`` 0 gives the ablation without the image: the same dense head on the features
    alone (the thumbnail stays an input, unused, so both variants have one signature)."""
    import keras
    from keras import layers

    image = keras.Input((THUMB, THUMB, 3), name="thumb")
    feats = keras.Input((N_FEATURES,), name="features")
    x = image
    if width:
        for filters in (width // 2, width, 2 * width, 2 * width):
            x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        pooled = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
        h = layers.Concatenate()([pooled, feats])
    else:
        h = feats
    h = layers.Dense(128, activation="relu")(h)
    h = layers.Dense(64, activation="relu")(h)
    # Near-zero head: the untrained network predicts (nearly) the identity map.
    out = layers.Dense(6, kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3),
                       bias_initializer="zeros", name="anchors")(h)
    return keras.Model([image, feats], out)


def _mapped(out, damaged):
    """Damaged thumbnails ([0, 1], N x H x W x 3) through the predicted affine maps (TF ops)."""
    import tensorflow as tf

    a0, a1 = ANCHORS[0] / 255.0, ANCHORS[1] / 255.0
    lo, hi = a0 + out[:, :3], a1 + out[:, 3:]
    gains = tf.clip_by_value((hi - lo) / (a1 - a0), *GAIN_RANGE)
    offsets = lo - gains * a0
    return tf.clip_by_value(damaged * gains[:, None, None, :] + offsets[:, None, None, :], 0.0, 1.0)


def train(work: pathlib.Path, epochs: int, batch: int, lr: float, clean_fraction: float, width: int,
          seed: int, eps_levels: float = 1.0, init: pathlib.Path | None = None) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    eps = (eps_levels / 255.0) ** 2
    data = load_data(work)
    n = len(data["family"])
    rng = np.random.default_rng(seed)
    # Hold out every case of 5 % of the training sources (a monitor only; the validation split is
    # what ``eval`` reports).
    hold = data["source"] % 20 == 7
    is_clean = data["family"] < 0
    weights = np.where(is_clean, clean_fraction / max(is_clean[~hold].mean(), 1e-9),
                       (1 - clean_fraction) / max((~is_clean[~hold]).mean(), 1e-9)).astype(np.float32)
    model = build_model(width)
    if init is not None:  # warm start (e.g. a stricter clean penalty after a looser one)
        model.set_weights(keras.models.load_model(init, compile=False).get_weights())
    n_params = int(model.count_params())
    print(f"{n} cases ({is_clean.sum()} clean), model {n_params} parameters")
    optimizer = keras.optimizers.Adam(lr)

    def loss_fn(out, d, c, w):
        mse = tf.reduce_mean(tf.square(_mapped(out, d) - c), axis=[1, 2, 3])
        return tf.reduce_sum(w * tf.math.log(mse + eps)) / tf.reduce_sum(w)

    @tf.function(reduce_retracing=True)
    def step(img, feats, c, w, flip):
        img = tf.where(flip, tf.reverse(img, [2]), img)
        c = tf.where(flip, tf.reverse(c, [2]), c)
        with tf.GradientTape() as tape:
            out = model([img, feats], training=True)
            loss = loss_fn(out, img, c, w)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function(reduce_retracing=True)
    def held_mse(img, feats, c, w):
        return tf.reduce_mean(tf.square(_mapped(model([img, feats], training=False), img) - c), axis=[1, 2, 3])

    def tensors(idx):
        return (tf.constant(data["damaged"][idx], tf.float32) / 255.0, tf.constant(data["features"][idx]),
                tf.constant(data["clean"][idx], tf.float32) / 255.0, tf.constant(weights[idx]))

    train_idx, hold_idx = np.flatnonzero(~hold), np.flatnonzero(hold)
    history, start = [], time.perf_counter()
    steps_per_epoch = len(train_idx) // batch
    schedule = keras.optimizers.schedules.CosineDecay(lr, epochs * steps_per_epoch, alpha=0.02)
    it = 0
    for epoch in range(epochs):
        order = rng.permutation(train_idx)
        losses = []
        for b in range(steps_per_epoch):
            optimizer.learning_rate.assign(float(schedule(it)))
            it += 1
            idx = np.sort(order[b * batch:(b + 1) * batch])
            losses.append(float(step(*tensors(idx), tf.constant(bool(rng.random() < 0.5)))))
        mse = np.concatenate([held_mse(*tensors(hold_idx[i:i + 512])).numpy() for i in range(0, len(hold_idx), 512)])
        psnr = -10 * np.log10(mse + (1 / 255) ** 2)  # thumbnail PSNR, capped at ~48 dB
        held_clean = is_clean[hold_idx]
        # log(mse) -> dB: PSNR = -10 log10(mse) = -10 / ln(10) * log(mse)
        row = {"epoch": epoch + 1, "train_loss_db": -10 / np.log(10) * float(np.mean(losses)),
               "held_damaged_psnr_db": float(psnr[~held_clean].mean()),
               "held_clean_psnr_db": float(psnr[held_clean].mean()),
               "held_clean_ok": float(np.mean(psnr[held_clean] >= CLEAN_OK_DB)), "seconds": time.perf_counter() - start}
        history.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    seconds = time.perf_counter() - start
    model.save(work / "colour_cnn.keras")
    export_onnx(model, work / "colour_cnn.onnx")
    (work / "train.json").write_text(json.dumps({
        "cases": int(n), "clean_cases": int(is_clean.sum()), "held_cases": int(hold.sum()), "epochs": epochs,
        "batch": batch, "lr": lr, "clean_fraction": clean_fraction, "eps_levels": eps_levels,
        "init": str(init) if init else None, "width": width, "seed": seed,
        "parameters": n_params, "train_seconds": round(seconds, 1), "history": history,
        "note": "train_loss_db: the weighted log-MSE loss in dB; held_*: 64 px thumbnail PSNR of the cases of "
                "5 % of the training sources, not trained on (capped ~48 dB), clean_ok: fraction of held clean "
                "thumbnails >= 38 dB"},
        indent=1))


def export_onnx(model, path: pathlib.Path) -> None:
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, THUMB, THUMB, 3), tf.float32, name="thumb"),
            tf.TensorSpec((None, N_FEATURES), tf.float32, name="features"))

    @tf.function(input_signature=spec)
    def serve(thumb, feats):
        return model([thumb, feats], training=False)

    tf2onnx.convert.from_function(serve, input_signature=spec, opset=17, output_path=str(path))


# ---------------------------------------------------------------- inference

class OnnxColour:
    """The exported network under ONNX Runtime (one intra-op thread): image -> (gains, offsets)."""

    def __init__(self, path: pathlib.Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]  # an unused input may be dropped

    def feeds(self, image: np.ndarray) -> dict:
        feeds = {"thumb": thumbnail(image).astype(np.float32)[None] / 255.0, "features": features(image)[None]}
        return {name: feeds[name] for name in self.names}

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return map_from_output(self.session.run(None, self.feeds(image))[0][0])
