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
