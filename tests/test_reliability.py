"""Hostile files, faults and load: every bad input gets a clear, typed answer, nothing is lost."""
import errno
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from artrestore import HybridRestorer
from artrestore.imageio import read_image, write_image


def _png_bomb(width=200_000, height=200_000) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, astronaut):
    """Hostile inputs, made here: name -> (path, expected outcome: 'ok' or an error fragment)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("hostile")
    photo = astronaut[::4, ::4].copy()
    ok, jpg = cv2.imencode(".jpg", photo)
    cases = {}

    def add(name, data, expect):
        path = root / name
        if isinstance(data, np.ndarray):
            write_image(path, data)
        elif isinstance(data, bytes):
            path.write_bytes(data)
        else:
            data(path)
        cases[name] = (path, expect)

    add("good.png", photo, "ok")
    add("truncated.png", (write_image(root / "tmp.png", photo).read_bytes())[:500], "not a readable image")
    add("corrupt.jpg", jpg.tobytes()[:200] + b"\x00" * 500, "not a readable image")
    add("zero.png", b"", "empty")
    add("text.jpg", b"just some text, honestly", "not a readable image")
    add("sixteen.png", lambda p: cv2.imwrite(str(p), photo.astype(np.uint16) * 257), "ok")
    add("palette.png", lambda p: Image.fromarray(photo).convert("P").save(p), "ok")
    add("cmyk.jpg", lambda p: Image.fromarray(photo).convert("CMYK").save(p), "ok")
    add("gray.png", lambda p: cv2.imwrite(str(p), photo[:, :, 0]), "ok")
    add("rgba.png", lambda p: cv2.imwrite(str(p), np.dstack([photo, photo[:, :, :1]])), "ok")
    add("one.png", lambda p: cv2.imwrite(str(p), photo[:1, :1]), "at least 2x2")
    add("line.png", lambda p: cv2.imwrite(str(p), np.zeros((1, 100_000, 3), np.uint8)), "at least 2x2")
    add("bomb.png", _png_bomb(), "above the limit")
    odd = os.fsencode(str(root)) + b"/caf\xe9-latin1.png"  # not valid UTF-8
    with open(odd, "wb") as fh:
        fh.write(write_image(root / "tmp2.png", photo).read_bytes())
    cases["latin1"] = (root / os.fsdecode(b"caf\xe9-latin1.png"), "ok")
    outside = root.parent / "outside.png"
    write_image(outside, photo, overwrite=True)
    os.symlink(outside, root / "escape.png")
    cases["escape.png"] = (root / "escape.png", "outside the input folder")
    (root / "tmp.png").unlink()
    (root / "tmp2.png").unlink()
    return root, cases


def _hashes(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


def test_restore_api_answers_every_hostile_file(corpus):
    root, cases = corpus
    restorer = HybridRestorer(use_dl=False)
    for name, (path, expect) in cases.items():
        if name == "escape.png":
            continue  # a symlink is only refused when it leaves a folder being batch-restored
        if expect == "ok":
            restored, info = restorer.restore(path)
            assert restored.shape == read_image(path).shape, name
        else:
            with pytest.raises((ValueError, OSError), match=expect):
                restorer.restore(path)


def test_cli_batch_goes_on_and_reports_each(corpus, tmp_path):
    root, cases = corpus
    before = _hashes(root)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "artrestore.cli", "restore", "-i", str(root), "-o", str(out),
                             "--no-dl", "--json"], capture_output=True, timeout=300)
    assert result.returncode == 1  # some inputs failed
    rows = json.loads(result.stdout)
    by_name = {os.path.basename(r["file"]): r for r in rows}
    for name, (path, expect) in cases.items():
        row = by_name[path.name]
        if expect == "ok":
            assert row["status"] == "restored", (name, row)
        else:
            assert row["status"] == "failed" and expect in row["error"], (name, row)
    assert _hashes(root) == before, "an input changed"
    assert not list(out.rglob("*.part"))
    for r in rows:
        if r["output"]:
            assert os.path.realpath(r["output"]).startswith(os.path.realpath(out)), "wrote outside the output folder"


def test_disk_full_gives_clear_error_and_leaves_nothing_half_written(corpus, tmp_path, monkeypatch):
    root, cases = corpus
    restorer = HybridRestorer(use_dl=False)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    row = restorer.restore_file(cases["good.png"][0], tmp_path / "out")
    assert row["status"] == "failed" and "No space left" in row["error"]
    assert not list((tmp_path / "out").glob("*"))  # no output, no temporary file
    monkeypatch.undo()
    assert restorer.restore_file(cases["good.png"][0], tmp_path / "out")["status"] == "restored"


def test_threads_restore_mixed_shapes_like_serial(astronaut):
    from artrestore.training.synthesis import synthesize_damage

    restorer = HybridRestorer(use_dl=False)
    images = [synthesize_damage(cv2.resize(astronaut, (w, h)), s, seed=i)[0]
              for i, ((h, w), s) in enumerate(zip([(97, 301), (512, 512), (1000, 64), (333, 777)] * 3,
                                                  ["light", "moderate", "severe"] * 4))]
    serial = [restorer.restore(im)[0] for im in images]
    results = [None] * len(images)

    def work(i):
        results[i] = restorer.restore(images[i])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for a, b in zip(serial, results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_web_api_under_load(corpus):
    pytest.importorskip("fastapi")
    import httpx

    root, cases = corpus
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ARTRESTORE_USE_DL": "0", "ARTRESTORE_MAX_UPLOAD_MB": "2"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "artrestore.api:app", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.time() < deadline and server.poll() is None
                time.sleep(0.3)

        def rss_mb():
            with open(f"/proc/{server.pid}/status") as fh:
                return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024

        uploads = [(n, p.read_bytes(), expect) for n, (p, expect) in cases.items()
                   if not p.is_symlink() and n != "latin1"]
        uploads.append(("huge.png", b"\x89PNG" + os.urandom(3 * 1024 * 1024), "too large"))
        jobs = [uploads[i % len(uploads)] for i in range(200)]
        statuses = []
        lock = threading.Lock()
        warm = rss_mb()

        def worker(k):
            with httpx.Client(timeout=120) as client:
                for name, data, expect in jobs[k::8]:
                    r = client.post(url + "/restore", files={"image": (name, data, "image/png")})
                    with lock:
                        statuses.append((name, expect, r.status_code))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(statuses) == 200
        for name, expect, status in statuses:
            if expect == "ok":
                assert status == 200, (name, status)
            else:
                assert 400 <= status < 500, (name, status)
        assert rss_mb() - warm < 400, "server memory grew without bound"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_unusable_output_folder_is_a_clear_error(corpus, tmp_path):
    root, cases = corpus
    before = _hashes(root)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("I am a file")
    for target in (blocker, blocker / "sub"):
        result = subprocess.run([sys.executable, "-m", "artrestore.cli", "restore", "-i", str(root), "-o", str(target),
                                 "--no-dl"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert "artrestore: error:" in result.stderr and "Traceback" not in result.stderr
    assert _hashes(root) == before and blocker.read_text() == "I am a file"
