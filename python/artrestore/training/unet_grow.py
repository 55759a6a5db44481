"""Grow a trained U-Net into a bigger architecture without losing what it learned.

``copy_by_name(source, target)``: every layer of ``target`` that ``source`` also has (same name)
gets the source's weights. A convolution whose input gained channels (the first convolution when a
damage detector's mask joins the image) keeps its kernel for the old channels and starts the new
ones at zero, so the grown model computes exactly what the source did until training moves it.
Returns the names of the layers that started fresh. Training only: the runtime never grows models.
"""
from __future__ import annotations

import numpy as np

__all__ = ["copy_by_name", "training_model", "build_mask_model", "DETECTOR_PREFIX"]

DETECTOR_PREFIX = "det_"  # the damage detector's layer names (``dl.arch``) start with this


def copy_by_name(source, target) -> list[str]:
    """Copy weights layer by layer (Keras models); widen kernels along their input axis with zeros."""
    have = {layer.name: layer for layer in source.layers}
    fresh = []
    for layer in target.layers:
        old = have.get(layer.name)
        if old is None:
            if layer.get_weights():
                fresh.append(layer.name)
            continue
        weights = []
        for w_old, w_new in zip(old.get_weights(), layer.get_weights()):
            if w_old.shape == w_new.shape:
                weights.append(w_old)
            elif (w_old.ndim == 4 and w_old.shape[:2] == w_new.shape[:2] and w_old.shape[3] == w_new.shape[3]
                  and w_old.shape[2] < w_new.shape[2]):
                grown = np.zeros(w_new.shape, w_old.dtype)
                grown[:, :, :w_old.shape[2]] = w_old
                weights.append(grown)
            else:
                raise ValueError(f"layer {layer.name}: cannot grow {w_old.shape} into {w_new.shape}")
        layer.set_weights(weights)
    return fresh


def training_model(config, *, dtype_policy=None):
    """``(training model, image model)``: for a U-Net with a damage detector, the training model
    returns restored RGB and the detector's mask as one N x H x W x 4 tensor (so one loss sees both),
    built on the same layers as the image model; otherwise both are the plain model."""
    from artrestore.dl.arch import build_unet, import_keras

    keras = import_keras()
    both = build_unet(config, dtype_policy=dtype_policy, with_mask=True) if config.detector_filters else None
    if both is None:
        model = build_unet(config, dtype_policy=dtype_policy)
        return model, model
    joined = keras.layers.Concatenate(dtype="float32", name="train_join")(list(both.outputs))
    train = keras.Model(both.inputs, joined, name="unet_train")
    image = keras.Model(both.inputs, both.outputs[0], name="unet")
    return train, image


def build_mask_model(image_model):
    """A model on the same layers returning ``[restored, mask]`` (the detector's output), for
    measuring the detector of a U-Net loaded as an image model."""
    from artrestore.dl.arch import MASK_OUTPUT, import_keras

    keras = import_keras()
    return keras.Model(image_model.inputs, [image_model.outputs[0], image_model.get_layer(MASK_OUTPUT).output])
