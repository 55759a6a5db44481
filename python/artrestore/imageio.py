"""Reading and writing image files safely.

``read_image(path)`` returns RGB uint8 H x W x 3: grayscale is replicated, alpha dropped, 16-bit
scaled to 8-bit, palette expanded. ``load_image(path)`` (``decode_image_file(data)`` for bytes)
also keeps what the file had beside its colours (``ImageFile``: its alpha channel, whether it was
grayscale, its 16-bit values), and ``output_pixels(restored, source, suffix)`` gives them back to
a restored image for writing: a grayscale file gives a one-channel output, an alpha channel is
kept where the format stores one (PNG, TIFF, WebP), and a 16-bit file gives a 16-bit output where
the format stores one (PNG, TIFF): its own values plus the restoration's change x 257, so a pixel
the restoration left alone keeps every bit it had. It refuses, with a typed error naming the file and the
problem: missing paths (``FileNotFoundError``), empty, undecodable or non-image files and images
above ``max_pixels`` (``ValueError``), the last from the header alone, before any decoding, so a
decompression bomb costs nothing. ``write_image`` encodes by suffix and writes atomically
(temporary file + rename): a reader never sees a half-written file, and an existing file is
kept unless ``overwrite=True``.
"""
from __future__ import annotations

import os
import pathlib
import struct
import tempfile
from dataclasses import dataclass

import cv2
import numpy as np

from artrestore.monochrome import is_monochrome

# 100 megapixels: a 10000 x 10000 scan decodes to 300 MB of RGB; larger is refused unless raised.
DEFAULT_MAX_PIXELS = int(os.environ.get("ARTRESTORE_MAX_PIXELS", 100_000_000))
_UMASK = os.umask(0)
os.umask(_UMASK)
# Image files artrestore reads from folders and writes (lower case, with the dot).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
WRITABLE_SUFFIXES = IMAGE_SUFFIXES
ALPHA_SUFFIXES = (".png", ".tif", ".tiff", ".webp")  # formats whose files keep an alpha channel
DEEP_SUFFIXES = (".png", ".tif", ".tiff")  # formats whose files keep 16 bits per channel


@dataclass(frozen=True)
class ImageFile:
    """A decoded image file: ``rgb`` (H x W x 3 uint8, what the restorer works on), ``alpha``
    (H x W uint8, 16-bit scaled like the colours; None when the file had none) and ``gray`` (the
    file had one channel); ``deep``: a 16-bit file's values (uint16, laid out as ``output_pixels``
    lays out the 8-bit output: H x W gray, RGB or RGBA), None for an 8-bit file."""
    rgb: np.ndarray
    alpha: np.ndarray | None = None
    gray: bool = False
    deep: np.ndarray | None = None


def _declared_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, BMP or GIF header, or None when not recognised."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head.startswith((b"GIF87a", b"GIF89a")) and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", head[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", head[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


def read_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image file to RGB uint8 H x W x 3 (see the module docstring for what is refused)."""
    return load_image(path, max_pixels=max_pixels).rgb


def load_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFile:
    """Decode an image file to an ``ImageFile`` (refuses what ``read_image`` refuses)."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    data = path.read_bytes()
    if not data:
        raise ValueError(f"{path}: empty file")
    size = _declared_size(data[:65536])
    if size is not None:
        width, height = size
        if width * height > max_pixels:
            raise ValueError(f"{path}: declares {width}x{height} = {width * height} pixels, above the limit of "
                             f"{max_pixels} (raise max_pixels or ARTRESTORE_MAX_PIXELS to allow it)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{path}: not a readable image (corrupt, truncated or unsupported format)")
    return _split(image, path, max_pixels)


def decode_image(data: bytes, *, name: str = "upload", max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Like ``read_image`` for bytes already in memory (web uploads)."""
    return decode_image_file(data, name=name, max_pixels=max_pixels).rgb


def decode_image_file(data: bytes, *, name: str = "upload", max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFile:
    """Like ``load_image`` for bytes already in memory."""
    if not data:
        raise ValueError(f"{name}: empty file")
    size = _declared_size(data[:65536])
    if size is not None and size[0] * size[1] > max_pixels:
        raise ValueError(f"{name}: declares {size[0]}x{size[1]} pixels, above the limit of {max_pixels}")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    return _split(image, name, max_pixels)


def _split(image: np.ndarray, name, max_pixels: int) -> ImageFile:
    rgb = _to_rgb8(image, name, max_pixels)
    alpha = None
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[:, :, 3]
        alpha = np.ascontiguousarray(np.rint(alpha / 257.0).astype(np.uint8) if alpha.dtype == np.uint16 else alpha)
    deep = None
    if image.dtype == np.uint16:  # OpenCV's BGR(A) -> RGB(A)
        deep = np.ascontiguousarray(image if image.ndim == 2 else image[:, :, [2, 1, 0, 3][:image.shape[2]]])
    return ImageFile(rgb=rgb, alpha=alpha, gray=image.ndim == 2, deep=deep)


def output_pixels(restored: np.ndarray, source: ImageFile, suffix: str) -> np.ndarray:
    """What to write for ``restored`` (RGB uint8 of ``source``'s size) in a ``suffix`` file: one
    channel when the source file had one and ``restored`` is gray (the restorer keeps monochrome
    images monochrome), RGBA with the source's alpha where the format stores it, else RGB; in 16
    bits (``deep`` + change x 257) when the source was 16-bit and the format stores that."""
    out = restored
    if source.gray and is_monochrome(restored):
        out = restored[..., 0]
    elif source.alpha is not None and suffix.lower() in ALPHA_SUFFIXES and source.alpha.shape == restored.shape[:2]:
        out = np.dstack([restored, source.alpha])
    if source.deep is not None and suffix.lower() in DEEP_SUFFIXES and source.deep.shape == out.shape:
        change = restored.astype(np.int32) - source.rgb
        if out.ndim == 2:
            change = change[..., 0]
        elif out.shape[2] == 4:  # the alpha channel is written back unchanged
            change = np.dstack([change, np.zeros(out.shape[:2], np.int32)])
        return np.clip(source.deep.astype(np.int32) + 257 * change, 0, 65535).astype(np.uint16)
    return np.ascontiguousarray(out)


def _to_rgb8(image: np.ndarray, name, max_pixels: int) -> np.ndarray:
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ValueError(f"{name}: {image.shape[1]}x{image.shape[0]} pixels is above the limit of {max_pixels}")
    if image.dtype == np.uint16:
        image = np.rint(image / 257.0).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"{name}: {image.dtype} pixels are not supported (8- or 16-bit images only)")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    elif image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    else:
        raise ValueError(f"{name}: {image.shape[2]} channels are not supported")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"{name}: image is {image.shape[0]}x{image.shape[1]} pixels; at least 2x2 is needed")
    return np.ascontiguousarray(image)


def encode_image(image: np.ndarray, suffix: str = ".png", *, jpeg_quality: int = 95) -> bytes:
    """Encode uint8 RGB (H x W x 3), gray (H x W) or, for ``ALPHA_SUFFIXES``, RGBA (H x W x 4) to
    bytes in the format named by ``suffix``; uint16 for ``DEEP_SUFFIXES``."""
    if suffix.lower() not in WRITABLE_SUFFIXES:
        raise ValueError(f"cannot write {suffix!r} images; use one of {sorted(WRITABLE_SUFFIXES)}")
    rgba = image.ndim == 3 and image.shape[2] == 4 and suffix.lower() in ALPHA_SUFFIXES
    deep = image.dtype == np.uint16 and suffix.lower() in DEEP_SUFFIXES
    if (image.dtype != np.uint8 and not deep) or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3) or rgba):
        raise ValueError(f"expected RGB uint8 H x W x 3 (gray H x W; RGBA H x W x 4 for {', '.join(ALPHA_SUFFIXES)}; "
                         f"uint16 for {', '.join(DEEP_SUFFIXES)}), got {image.dtype} {image.shape}")
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if suffix.lower() in (".jpg", ".jpeg") else []
    if image.ndim == 3:  # OpenCV encodes BGR(A)
        image = image[:, :, [2, 1, 0, 3][:image.shape[2]]]
    ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(image), params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {suffix} image")
    return encoded.tobytes()


def write_image(path, image: np.ndarray, *, overwrite: bool = False, jpeg_quality: int = 95) -> pathlib.Path:
    """Atomically write an image ``encode_image`` takes to ``path`` (format from its suffix); folders are created."""
    path = pathlib.Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)")
    return write_file_atomic(path, encode_image(image, path.suffix or ".png", jpeg_quality=jpeg_quality))


def partial_name(name: str) -> str:
    """The prefix of the temporary files ``write_file_atomic`` makes for ``name`` (they end ``.part``):
    whoever cleans up after a killed writer removes exactly these and nothing else."""
    return f".{name}."


def write_file_atomic(path, data: bytes) -> pathlib.Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it over
    ``path``: a reader sees the old file or the whole new one, never part of it."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=partial_name(path.name), suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp creates 0600; give outputs the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
