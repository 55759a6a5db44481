"""Reading and writing files: conversions, clear errors, atomic writes, no overwrites."""
import os
import struct
import zlib

import cv2
import numpy as np
import pytest

from artrestore.imageio import decode_image, read_image, write_image


def png_with_declared_size(width, height) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's signature)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")


def test_round_trip_png_is_lossless(tmp_path, astronaut):
    path = write_image(tmp_path / "a.png", astronaut)
    np.testing.assert_array_equal(read_image(path), astronaut)


def test_conversions(tmp_path, astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    assert read_image(tmp_path / "g.png").shape == astronaut.shape
    cv2.imwrite(str(tmp_path / "rgba.png"), np.dstack([astronaut[:, :, ::-1], np.full(gray.shape, 9, np.uint8)]))
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), astronaut)
    cv2.imwrite(str(tmp_path / "16.png"), astronaut[:, :, ::-1].astype(np.uint16) * 257)
    np.testing.assert_array_equal(read_image(tmp_path / "16.png"), astronaut)


@pytest.mark.parametrize(
    "content, error, words",
    [(b"", ValueError, "empty"), (b"hello, I am text", ValueError, "not a readable image"),
     (None, ValueError, "not a readable image")],
)
def test_bad_files(tmp_path, astronaut, content, error, words):
    path = tmp_path / "bad.jpg"
    if content is None:  # truncated JPEG
        ok, enc = cv2.imencode(".jpg", astronaut)
        content = enc.tobytes()[:300]
    path.write_bytes(content)
    with pytest.raises(error, match=words):
        read_image(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="not a regular file"):
        read_image(tmp_path)


def test_decompression_bomb_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_declared_size(100_000, 100_000))
    with pytest.raises(ValueError, match="above the limit"):
        read_image(path)
    with pytest.raises(ValueError, match="above the limit"):
        decode_image(path.read_bytes())


def test_write_is_atomic_and_never_overwrites_by_default(tmp_path, astronaut):
    path = write_image(tmp_path / "sub" / "x.png", astronaut)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_image(path, astronaut[::2])
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="cannot write"):
        write_image(tmp_path / "x.gif", astronaut)
    assert not [p for p in os.listdir(tmp_path / "sub") if p.endswith(".part")]


def test_load_image_keeps_alpha_and_grayness(tmp_path, astronaut):
    from artrestore.imageio import load_image

    alpha = np.tile(np.arange(astronaut.shape[1], dtype=np.uint16) * 100, (astronaut.shape[0], 1))
    cv2.imwrite(str(tmp_path / "rgba16.png"), np.dstack([astronaut[:, :, ::-1].astype(np.uint16) * 257, alpha]))
    loaded = load_image(tmp_path / "rgba16.png")
    np.testing.assert_array_equal(loaded.rgb, astronaut)
    np.testing.assert_array_equal(loaded.alpha, np.rint(alpha / 257.0).astype(np.uint8))  # 16 -> 8 bit like the colours
    assert not loaded.gray
    cv2.imwrite(str(tmp_path / "g.png"), astronaut[..., 0])
    gray = load_image(tmp_path / "g.png")
    assert gray.gray and gray.alpha is None and gray.rgb.shape == astronaut.shape


def test_output_pixels_give_back_alpha_and_one_channel_where_the_format_keeps_them(tmp_path, astronaut):
    from artrestore.imageio import ImageFile, load_image, output_pixels

    alpha = np.full(astronaut.shape[:2], 77, np.uint8)
    source = ImageFile(rgb=astronaut, alpha=alpha)
    for suffix in (".png", ".tif", ".webp"):
        out = output_pixels(astronaut, source, suffix)
        assert out.shape == (*astronaut.shape[:2], 4)
        written = load_image(write_image(tmp_path / f"a{suffix}", out))
        np.testing.assert_array_equal(written.alpha, alpha)
        if suffix != ".webp":  # lossy by default
            np.testing.assert_array_equal(written.rgb, astronaut)
    assert output_pixels(astronaut, source, ".jpg").shape == astronaut.shape  # JPEG stores no alpha
    gray_rgb = np.repeat(astronaut[..., :1], 3, axis=2)
    one = output_pixels(gray_rgb, ImageFile(rgb=gray_rgb, gray=True), ".png")
    assert one.shape == astronaut.shape[:2]
    assert load_image(write_image(tmp_path / "g.png", one)).gray
    # A gray source whose restoration is not gray (never from the restorer) is written as it is.
    assert output_pixels(astronaut, ImageFile(rgb=gray_rgb, gray=True), ".png").shape == astronaut.shape
    with pytest.raises(ValueError, match="RGBA"):
        write_image(tmp_path / "a.jpg", np.dstack([astronaut, alpha]))


def test_a_16_bit_file_is_written_back_in_16_bits_with_the_restorations_change(tmp_path, astronaut):
    from artrestore.imageio import load_image, output_pixels

    rng = np.random.default_rng(1)
    deep = astronaut.astype(np.uint16) * 257 + rng.integers(-100, 101, astronaut.shape).clip(0).astype(np.uint16)
    alpha = np.full(astronaut.shape[:2], 40000, np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), np.dstack([deep, alpha])[:, :, [2, 1, 0, 3]])
    source = load_image(tmp_path / "deep.png")
    assert source.deep.dtype == np.uint16 and source.deep.shape == (*astronaut.shape[:2], 4)
    # Untouched: every bit back, alpha included.
    np.testing.assert_array_equal(output_pixels(source.rgb, source, ".png"), np.dstack([deep, alpha]))
    changed = source.rgb.copy()
    changed[5, 7] = [0, 255, 100]
    out = output_pixels(changed, source, ".tif")
    expected = np.clip(deep[5, 7].astype(int) + 257 * (changed[5, 7].astype(int) - source.rgb[5, 7]), 0, 65535)
    np.testing.assert_array_equal(out[5, 7, :3], expected)
    np.testing.assert_array_equal(out[6, 7, :3], deep[6, 7])
    written = cv2.imread(str(write_image(tmp_path / "back.png", out)), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16 and np.array_equal(written[:, :, [2, 1, 0, 3]], out)
    assert output_pixels(changed, source, ".jpg").dtype == np.uint8  # JPEG has 8 bits


def test_restore_file_with_none_gives_a_16_bit_grayscale_scan_back_exactly(tmp_path, astronaut):
    from artrestore import HybridRestorer

    scan = (astronaut[..., 1].astype(np.uint16) * 257 + 99).clip(0, 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "scan.png"), scan)
    row = HybridRestorer(use_dl=False).restore_file(tmp_path / "scan.png", tmp_path / "out", strategy="none")
    back = cv2.imread(row["output"], cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, scan)
