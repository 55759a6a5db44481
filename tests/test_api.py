"""The web API: uploads, errors, limits, and the page in a real headless browser."""
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

fastapi = pytest.importorskip("fastapi", reason="the web API needs the [web] extra")
from fastapi.testclient import TestClient  # noqa: E402

import artrestore.api as api  # noqa: E402
from artrestore.imageio import decode_image, encode_image  # noqa: E402


@pytest.fixture(scope="module")
def client(monkeypatch_module):
    monkeypatch_module.setenv("ARTRESTORE_USE_DL", "0")  # keep TensorFlow out of these tests
    api.restorer.cache_clear()
    with TestClient(api.app) as c:
        yield c
    api.restorer.cache_clear()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def png(astronaut):
    return encode_image(astronaut[::2, ::2].copy(), ".png")


def test_restore_png_with_info_header(client, png):
    r = client.post("/restore", files={"image": ("a.png", png, "image/png")}, data={"strategy": "ml_guided"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    info = json.loads(r.headers["x-artrestore-info"])
    assert info["method"] == "ml_guided" and len(info["damage_analysis"]) == 14
    assert decode_image(r.content).shape == (256, 256, 3)


def test_restore_json_mode(client, png):
    import base64

    r = client.post("/restore?response=json", files={"image": ("a.png", png, "image/png")})
    assert r.status_code == 200
    body = r.json()
    assert decode_image(base64.b64decode(body["image_png_base64"])).shape == (256, 256, 3)
    assert body["info"]["method"] in ("classical", "ml_guided")  # use_dl=0 falls back


def test_analyze_and_health(client, png):
    r = client.post("/analyze", files={"image": ("a.png", png, "image/png")})
    assert r.status_code == 200 and len(r.json()["features"]) == 14
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["use_dl"] is False
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "files, data, status",
    [
        ({"image": ("a.txt", b"hello", "text/plain")}, {}, 415),
        ({"image": ("a.png", b"hello", "image/png")}, {}, 422),
        ({"image": ("a.png", b"", "image/png")}, {}, 422),
        (None, {}, 422),
    ],
)
def test_bad_uploads_get_4xx(client, files, data, status):
    r = client.post("/restore", files=files, data=data)
    assert r.status_code == status, r.text
    assert "detail" in r.json()


def test_bad_strategy(client, png):
    r = client.post("/restore", files={"image": ("a.png", png, "image/png")}, data={"strategy": "magic"})
    assert r.status_code == 422 and "strategy" in r.text


def test_oversized_upload_is_413(client, monkeypatch):
    monkeypatch.setattr(api, "MAX_UPLOAD_BYTES", 1000)
    r = client.post("/restore", files={"image": ("a.png", b"\x89PNG" + b"0" * 200_000, "image/png")})
    assert r.status_code == 413


def test_samples_cannot_escape_their_folder(client):
    assert client.get("/samples/coffee_light.jpg").status_code == 200
    for name in ("..%2F..%2Fpyproject.toml", "%2Fetc%2Fpasswd", "nope.jpg"):
        assert client.get(f"/samples/{name}").status_code == 404


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_page_in_headless_chromium_shows_before_and_after(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium package is not installed")
    port = _free_port()
    env = {"ARTRESTORE_USE_DL": "0", **__import__("os").environ}
    env["ARTRESTORE_USE_DL"] = "0"
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "artrestore.api:app", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import urllib.request

        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, "web server did not start"
                time.sleep(0.3)
        shot = tmp_path / "page.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,800", "--virtual-time-budget=15000", f"--screenshot={shot}",
                        f"http://127.0.0.1:{port}/?sample=chelsea_severe.jpg"],
                       check=True, capture_output=True, timeout=120)
        image = cv2.imread(str(shot))
        assert image is not None and image.shape[1] == 1200
        # Both figures hold a photograph: lots of distinct colours in each half below the form.
        left, right = image[150:, :600], image[150:, 600:]
        for half in (left, right):
            assert len(np.unique(half.reshape(-1, 3), axis=0)) > 2000
        pathlib.Path("out").mkdir(exist_ok=True)
        shutil.copy(shot, "out/web_page.png")
    finally:
        server.terminate()
        server.wait(timeout=10)
