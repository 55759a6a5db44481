"""Experiment: a tiny CNN that predicts the per-channel affine colour map of a damaged image.

Question: does a small network that sees the image's context (a 64 x 64 RGB thumbnail plus
per-channel percentiles of the full image) predict the colour map ``clean_c ~ gain_c * damaged_c +
offset_c`` better than the classical blind colour stage and the chain's forest, while leaving clean
images alone (do no harm)?

Subcommands (run in this order; every intermediate file goes under ``--work``, default
``out/colour_cnn``, which git ignores):

``data``   Damage the training-family clean images (``clean_train``, ``collect/crops``, ``extra_0``,
           ``extra_1`` under ``--devdata``; never the validation or test splits) and store, per case,
           the damaged and clean 64 x 64 thumbnails (uint8), the input features (float32) and the
           family / severity. Every source is resized with ``fit_size(image, 384)`` (the chain's
           convention: short side 384 px, long side cropped to 576 px) before damage; each
           ``--rounds`` round adds one case per family (broad, legacy ``synthesize``) and severity
           plus the clean image itself (identity target). ``--first-round 100 --rounds 20 --limit 59``
           adds 20 rounds of ``clean_train``'s 59 natural photographs alone (the crops are mostly
           wallpapers and game art; the validation images are natural photographs).
``train``  Fit the network with the loss ``mean_i log(mse_i + eps)`` (mean negative PSNR per thumbnail,
           capped at about 48 dB by ``eps``) of the damaged thumbnail mapped by the predicted affine
           map against the clean thumbnail; clean inputs are weighted up to ``--clean-fraction`` of
           the loss (identity target). Exports ``colour_cnn.onnx`` (float32 weights, not executable
           code) with ``tf2onnx`` and writes ``train.json`` (losses, seconds, parameter count).
``eval``   On the 12 validation sources (``clean_val``), ``--seeds`` damage seeds per source, family
           and severity plus the 12 clean images: PSNR (dB, ``artrestore.metrics.psnr``) of the input,
           the classical colour stage (``chain.colour.correct_colour``, its default parameters,
           strength 1: ``classical``; and with ``DEFAULT_CHAIN``'s colour strength and tolerances, as
           the classical chain runs it: ``classical_chain``), the oracle affine map (least squares
           with the clean image), the chain's forest map at strength 0.5 (``ChainRouter.predict_colour_map``) and the CNN's map at
           strengths 0.5 / 0.75 / 1. Every map is applied as the chain applies a learned map
           (``affine_lut`` with ``unclipped_top``, uint8). Writes ``eval.json`` (per-group mean gain
           over the input in dB, fraction of damaged images made worse by more than 0.05 dB, clean
           images' fraction >= 38 dB and mean PSNR capped at 60 dB, CNN CPU milliseconds per image)
           and the per-image rows, and prints a markdown table. ``--long-side`` resizes the validation
           images so the longer side is 384 px instead (``eval_long384.json``), a resolution the
           network was not trained at. ``colour_cnn.onnx`` and ``train.json`` are copied next to
           the results.

Usage: ``python benchmarks/colour_cnn_experiment.py {data,train,eval} [options]``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import time

import cv2
import numpy as np

from artrestore.training.chain_outcomes import _damage_fn  # a family's damaged image (broad / synthesize)

THUMB = 64                        # thumbnail side, pixels
SIZE = 384                        # fit_size short side before damage
PERCENTILES = (0.5, 2.0, 10.0, 25.0, 50.0, 75.0, 90.0, 98.0, 99.5)
N_FEATURES = 3 * (len(PERCENTILES) + 2)
ANCHORS = (64.0, 192.0)           # as chain.router.ANCHORS: the map is predicted as clean values there
GAIN_RANGE = (0.25, 4.0)
FAMILIES = ("broad", "synthesize")
SEVERITIES = ("light", "moderate", "severe")
TRAIN_FOLDERS = ("clean_train", "collect/crops", "extra_0", "extra_1")
STRENGTHS = (0.5, 0.75, 1.0)
CLEAN_OK_DB = 38.0


# ---------------------------------------------------------------- inputs

def thumbnail(image: np.ndarray) -> np.ndarray:
    """THUMB x THUMB uint8 RGB thumbnail (area filter, aspect squashed)."""
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def features(image: np.ndarray) -> np.ndarray:
    """Per channel: PERCENTILES (from the 256-bin histogram), mean and standard deviation, in [0, 1]."""
    out = []
    for c in range(3):
        hist = cv2.calcHist([image], [c], None, [256], [0, 256]).ravel().astype(np.float64)
        cdf = np.cumsum(hist) / hist.sum()
        levels = np.arange(256.0)
        out.extend(float(np.searchsorted(cdf, p / 100.0)) / 255.0 for p in PERCENTILES)
        mean = float((hist * levels).sum() / hist.sum())
        out.append(mean / 255.0)
        out.append(float(np.sqrt((hist * (levels - mean) ** 2).sum() / hist.sum())) / 255.0)
    return np.asarray(out, np.float32)


def oracle_map(damaged: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) of the per-channel least-squares affine map damaged -> clean (levels): the
    colour forest's target (``training.chain_colour.colour_target``) as a map."""
    from artrestore.chain.router import map_from_anchors
    from artrestore.training.chain_colour import colour_target

    return map_from_anchors(colour_target(damaged, clean))


def apply_map(image: np.ndarray, gains, offsets, strength: float) -> np.ndarray:
    """``strength`` of the map, applied as the chain applies a learned colour map."""
    from artrestore.chain.colour import affine_lut, apply_lut, unclipped_top

    return apply_lut(image, affine_lut(gains, offsets, unclipped_top(image), strength))


def map_from_output(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) in levels from the network's 6 outputs: the clean values at ANCHORS (r, g, b
    at the low anchor, then the high one) are ``ANCHORS / 255 + out`` on the [0, 1] scale."""
    lo = ANCHORS[0] + 255.0 * np.asarray(out[:3], np.float64)
    hi = ANCHORS[1] + 255.0 * np.asarray(out[3:], np.float64)
    gains = np.clip((hi - lo) / (ANCHORS[1] - ANCHORS[0]), *GAIN_RANGE)
    return gains, lo - gains * ANCHORS[0]


# ---------------------------------------------------------------- data

def train_sources(devdata: pathlib.Path) -> list[pathlib.Path]:
    """Training-family image files, deduplicated by content digest, in a fixed order."""
    import hashlib

    from artrestore.training.datasets import list_images

    seen, paths = set(), []
    for folder in TRAIN_FOLDERS:
        for path in list_images(devdata / folder):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                paths.append(path)
    return paths


def _cases(job):
    """Every case of one source for one round: [(thumb_d, thumb_c, features, family, severity, k)]."""
    k, path, round_ = job
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size

    cv2.setNumThreads(1)
    try:
        clean = fit_size(read_image(path), SIZE)
    except Exception:  # noqa: BLE001 - an unreadable crop is skipped
        return []
    thumb_c = thumbnail(clean)
    rows = [(thumb_c, thumb_c, features(clean), -1, -1, k)]
    for f, family in enumerate(FAMILIES):
        damage = _damage_fn(family)
        for s, severity in enumerate(SEVERITIES):
            seed = 900_000 + 10_000 * round_ + 10 * k + 3 * f + s
            damaged = damage(clean, severity, seed)
            rows.append((thumbnail(damaged), thumb_c, features(damaged), f, s, k))
    return rows


def make_data(devdata: pathlib.Path, work: pathlib.Path, rounds: int, workers: int, limit: int | None,
              first_round: int = 0) -> None:
    """Rounds ``first_round`` .. ``first_round + rounds - 1`` of the first ``limit`` sources (the
    first 59 are ``clean_train``'s natural photographs, which extra rounds over-sample)."""
    from concurrent.futures import ProcessPoolExecutor

    paths = train_sources(devdata)[:limit]
    print(f"{len(paths)} training sources")
    for round_ in range(first_round, first_round + rounds):
        out = work / f"data_round{round_}.npz"
        if out.exists():
            continue
        start = time.perf_counter()
        jobs = [(k, p, round_) for k, p in enumerate(paths)]
        rows = []
        with ProcessPoolExecutor(workers) as pool:
            for n, case_rows in enumerate(pool.map(_cases, jobs, chunksize=8)):
                rows.extend(case_rows)
                if n % 500 == 0:
                    print(f"round {round_}: {n}/{len(jobs)} sources, {time.perf_counter() - start:.0f} s", flush=True)
        np.savez(out, damaged=np.stack([r[0] for r in rows]), clean=np.stack([r[1] for r in rows]),
                 features=np.stack([r[2] for r in rows]), family=np.array([r[3] for r in rows], np.int8),
                 severity=np.array([r[4] for r in rows], np.int8), source=np.array([r[5] for r in rows], np.int32))
        print(f"round {round_}: {len(rows)} cases in {time.perf_counter() - start:.0f} s -> {out}")


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


def load_data(work: pathlib.Path):
    parts = [np.load(p) for p in sorted(work.glob("data_round*.npz"))]
    keys = ("damaged", "clean", "features", "family", "severity", "source")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


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


# ---------------------------------------------------------------- evaluation

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


def evaluate(devdata: pathlib.Path, work: pathlib.Path, seeds: int, out_dir: pathlib.Path,
             long_side: bool = False) -> dict:
    from artrestore import metrics
    from artrestore.analysis import analyze_vector
    from artrestore.chain import DEFAULT_CHAIN
    from artrestore.chain.colour import correct_colour
    from artrestore.chain.denoise import estimate_noise
    from artrestore.chain.features import chain_features
    from artrestore.chain.router import ChainRouter
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size, list_images

    cv2.setNumThreads(1)

    def resize(image):
        if not long_side:
            return fit_size(image, SIZE)
        factor = SIZE / max(image.shape[:2])
        return cv2.resize(image, (round(image.shape[1] * factor), round(image.shape[0] * factor)),
                          interpolation=cv2.INTER_AREA)

    cnn = OnnxColour(work / "colour_cnn.onnx")
    forest = ChainRouter.load()
    rows, cnn_ms, cnn_total_ms = [], [], []

    def score(name, family, severity, seed, damaged, clean):
        row = {"source": name, "family": family, "severity": severity, "seed": seed,
               "input": metrics.psnr(damaged, clean), "classical": metrics.psnr(correct_colour(damaged), clean),
               "classical_chain": metrics.psnr(correct_colour(
                   damaged, DEFAULT_CHAIN.colour_strength, cast_tolerance=DEFAULT_CHAIN.cast_tolerance,
                   black_tolerance=DEFAULT_CHAIN.black_tolerance, white_tolerance=DEFAULT_CHAIN.white_tolerance), clean),
               "oracle": metrics.psnr(apply_map(damaged, *oracle_map(damaged, clean), 1.0), clean)}
        inputs = np.concatenate([analyze_vector(damaged), chain_features(damaged, noise_sigma=estimate_noise(damaged))])
        row["forest_0.5"] = metrics.psnr(apply_map(damaged, *forest.predict_colour_map(inputs), 0.5), clean)
        start = time.perf_counter()
        gains, offsets = cnn(damaged)
        cnn_total_ms.append(1e3 * (time.perf_counter() - start))
        for s in STRENGTHS:
            row[f"cnn_{s}"] = metrics.psnr(apply_map(damaged, gains, offsets, s), clean)
        row["cnn_gains"] = [round(float(v), 4) for v in gains]
        row["cnn_offsets"] = [round(float(v), 2) for v in offsets]
        rows.append(row)

    paths = list_images(devdata / "clean_val")
    for k, path in enumerate(paths):
        clean = resize(read_image(path))
        score(path.name, "clean", "none", None, clean, clean)
        for family in FAMILIES:
            damage = _damage_fn(family)
            for severity in SEVERITIES:
                for draw in range(seeds):
                    seed = 7000 + k + 100_000 * draw
                    score(path.name, family, severity, seed, damage(clean, severity, seed), clean)
        print(f"{k + 1}/{len(paths)} {path.name}", flush=True)

    # The network alone (thumbnail + features + session), timed apart from the maps' application.
    feeds = cnn.feeds(resize(read_image(paths[0])))
    for _ in range(20):
        cnn.session.run(None, feeds)
    for _ in range(200):
        start = time.perf_counter()
        cnn.session.run(None, feeds)
        cnn_ms.append(1e3 * (time.perf_counter() - start))

    methods = ["classical", "classical_chain", "oracle", "forest_0.5"] + [f"cnn_{s}" for s in STRENGTHS]
    summary = []
    for family in FAMILIES:
        for severity in SEVERITIES:
            group = [r for r in rows if r["family"] == family and r["severity"] == severity]
            entry = {"family": family, "severity": severity, "n": len(group),
                     "input_psnr_db": float(np.mean([r["input"] for r in group]))}
            for m in methods:
                gain = np.array([r[m] - r["input"] for r in group])
                entry[m] = {"mean_gain_db": float(gain.mean()), "worse_fraction": float(np.mean(gain < -0.05))}
            summary.append(entry)
    clean_rows = [r for r in rows if r["family"] == "clean"]
    clean = {"n": len(clean_rows)}
    for m in methods:
        values = np.array([min(r[m], 60.0) for r in clean_rows])
        clean[m] = {"ok_fraction": float(np.mean(values >= CLEAN_OK_DB)), "mean_psnr_db_cap60": float(values.mean()),
                    "min_psnr_db": float(values.min())}
    train_record = json.loads((work / "train.json").read_text()) if (work / "train.json").exists() else None
    result = {
        "summary": summary, "clean": clean,
        "cnn_cpu_ms": {"session_median": float(np.median(cnn_ms)), "session_p90": float(np.percentile(cnn_ms, 90)),
                       "with_thumbnail_and_features_median": float(np.median(cnn_total_ms)),
                       "threads": 1, "runtime": "onnxruntime CPUExecutionProvider"},
        "record": {"seeds_per_source": seeds,
                   "size": f"longer side {SIZE} (area)" if long_side else f"fit_size({SIZE})", "thumb": THUMB,
                   "worse_threshold_db": 0.05, "clean_ok_db": CLEAN_OK_DB, "python": platform.python_version(),
                   "opencv": cv2.__version__, "cpu": platform.processor() or platform.machine(),
                   "train": {k: v for k, v in (train_record or {}).items() if k != "history"}},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    import shutil

    for name in ("colour_cnn.onnx", "train.json"):  # the evaluated network and its training record
        shutil.copyfile(work / name, out_dir / name)
    tag = "_long384" if long_side else ""
    (out_dir / f"eval{tag}.json").write_text(json.dumps(result, indent=1))
    (out_dir / f"eval{tag}_rows.json").write_text(json.dumps(rows))
    print(markdown(result))
    return result


def markdown(result: dict) -> str:
    methods = ["classical", "classical_chain", "oracle", "forest_0.5"] + [f"cnn_{s}" for s in STRENGTHS]
    lines = ["| family | severity | n | input dB | " + " | ".join(methods) + " |",
             "|---|---|---|---|" + "---|" * len(methods)]
    for e in result["summary"]:
        cells = [f"{e[m]['mean_gain_db']:+.2f} ({100 * e[m]['worse_fraction']:.0f} %)" for m in methods]
        lines.append(f"| {e['family']} | {e['severity']} | {e['n']} | {e['input_psnr_db']:.2f} | " + " | ".join(cells)
                     + " |")
    c = result["clean"]
    cells = [f"{100 * c[m]['ok_fraction']:.0f} % / {c[m]['mean_psnr_db_cap60']:.1f} / {c[m]['min_psnr_db']:.1f}"
             for m in methods]
    lines.append(f"| clean | none | {c['n']} | inf | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("data", "train", "eval"))
    parser.add_argument("--devdata", type=pathlib.Path, default=pathlib.Path("/work/main/.devdata"))
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path("out/colour_cnn"))
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("benchmarks/results/colour_cnn"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first-round", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clean-fraction", type=float, default=0.3)
    parser.add_argument("--width", type=int, default=32, help="train: CNN width; 0: features-only ablation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=pathlib.Path, default=None, help="train: start from this .keras model")
    parser.add_argument("--eps-levels", type=float, default=1.0,
                        help="train: the log-MSE floor as an RMS error in levels (1: a ~48 dB cap)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--long-side", action="store_true",
                        help="eval: resize validation images so the longer side is 384 px instead of fit_size")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.command == "data":
        make_data(args.devdata, args.work, args.rounds, args.workers, args.limit, args.first_round)
    elif args.command == "train":
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
        train(args.work, args.epochs, args.batch, args.lr, args.clean_fraction, args.width, args.seed, args.eps_levels,
              args.init)
    else:
        evaluate(args.devdata, args.work, args.seeds, args.out, args.long_side)


if __name__ == "__main__":
    main()
