"""Validation scores of a U-Net trained on the broad damage model (``training.unet_broad``).

``val_scores(model, config, pairs)``: per severity, whole-image PSNR (dB) / SSIM of the input and of
the restored image, and PSNR inside / outside the line and spot damage mask, over whole validation
images (tiled like the runtime). ``detector_scores(...)``: pixel precision / recall of a U-Net's
damage detector on validation crops. ``detector_mask(mask_model, config, image)``: that detector's
mask over a whole image, tiled and blended like the runtime's restoration. Inputs are uint8 RGB
images and bool masks; training only.
"""
from __future__ import annotations

import numpy as np

__all__ = ["val_scores", "detector_scores", "psnr_where", "detector_mask"]


def detector_scores(mask_model, x, masks, severities, threshold: float = 0.5) -> dict:
    """Pixel precision / recall of the detector's mask (above ``threshold``) per severity on
    validation crops: ``x`` the model's inputs, ``masks`` N x H x W bool."""
    predicted = np.asarray(mask_model(x, training=False)[1])[..., 0] >= threshold
    out = {}
    for severity in dict.fromkeys(severities):
        pick = np.asarray([s == severity for s in severities])
        hit = float(np.sum(predicted[pick] & masks[pick]))
        out[severity] = {"precision": hit / max(float(predicted[pick].sum()), 1.0),
                         "recall": hit / max(float(masks[pick].sum()), 1.0),
                         "marked_fraction": float(masks[pick].mean())}
    return out


def psnr_where(image: np.ndarray, clean: np.ndarray, where: np.ndarray) -> float:
    """PSNR (dB, peak 255) over the pixels where ``where`` (H x W bool) is true."""
    error = float(np.mean((image[where].astype(np.float64) - clean[where]) ** 2))
    return float(10 * np.log10(255.0**2 / max(error, 1e-10)))


def val_scores(model, config, pairs):
    """Whole-image PSNR/SSIM per severity, and PSNR inside / outside the damage mask."""
    from artrestore import metrics
    from artrestore._validate import to_uint8
    from artrestore.dl.arch import model_inputs
    from artrestore.dl.tiling import tiled_restore

    out: dict = {}
    for damaged, clean, mask, severity in pairs:
        predict = lambda x, context: np.asarray(model(model_inputs(config, x, context), training=False))
        restored = to_uint8(tiled_restore(damaged.astype(np.float32) / 255, predict,
                                          global_context=config.global_context))
        row = [metrics.psnr(damaged, clean), metrics.psnr(restored, clean),
               metrics.ssim(damaged, clean), metrics.ssim(restored, clean)]
        if mask.any():
            row += [psnr_where(damaged, clean, mask), psnr_where(restored, clean, mask),
                    psnr_where(restored, clean, ~mask)]
        out.setdefault(severity, []).append(row)
    summary = {}
    for severity, rows in out.items():
        masked = [r for r in rows if len(r) == 7]
        summary[severity] = {
            "pairs": len(rows), "input_psnr": float(np.mean([r[0] for r in rows])),
            "psnr": float(np.mean([r[1] for r in rows])), "input_ssim": float(np.mean([r[2] for r in rows])),
            "ssim": float(np.mean([r[3] for r in rows])), "masked_pairs": len(masked),
            "input_psnr_in_mask": float(np.mean([r[4] for r in masked])) if masked else None,
            "psnr_in_mask": float(np.mean([r[5] for r in masked])) if masked else None,
            "psnr_outside_mask": float(np.mean([r[6] for r in masked])) if masked else None,
        }
    return summary


def detector_mask(mask_model, config, image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """H x W bool: where the U-Net's damage detector (``unet_grow.build_mask_model``) marks line or
    spot damage on a uint8 RGB image, its tiles blended with the restoration's window."""
    from artrestore.dl.arch import model_inputs
    from artrestore.dl.tiling import tiled_restore

    def predict(tiles, context):
        mask = np.asarray(mask_model(model_inputs(config, tiles, context), training=False)[1])
        return np.repeat(mask, 3, axis=-1)

    blended = tiled_restore(image.astype(np.float32) / 255, predict, global_context=config.global_context)
    return blended[..., 0] >= threshold
