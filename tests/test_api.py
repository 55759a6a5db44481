"""The web API: uploads, errors, limits, and the page in a real headless browser."""
import json

import numpy as np
import pytest

fastapi = pytest.importorskip("fastapi", reason="the web API needs the [web] extra")
from fastapi.testclient import TestClient  # noqa: E402

import artrestore.api as api  # noqa: E402
from artrestore.analysis import FEATURE_NAMES  # noqa: E402
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
    assert body["info"]["method"] in ("none", "classical", "ml_guided")  # use_dl=0: never the U-Net


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


def test_health_lists_strategies_and_decision_thresholds(client):
    from artrestore.restorer import STRATEGIES

    h = client.get("/healthz").json()
    assert "auto" in h["strategies"] and set(h["strategies"]) <= set(STRATEGIES)
    # One name per path: the alias "dl" (= deep_learning) is left out.
    assert {STRATEGIES[s] for s in h["strategies"]} == set(STRATEGIES.values())
    assert len(h["strategies"]) == len(set(STRATEGIES.values()))
    for key, value in h["decision_thresholds"].items():
        severity, feature = key.split("_", 1)
        assert severity in ("severe", "moderate") and isinstance(value, float)
        assert feature in FEATURE_NAMES  # the page marks the threshold on that feature's bar


def test_every_route_the_page_uses_is_in_the_openapi_schema(client):
    """The page calls only documented routes (issue 19: no private endpoints)."""
    import re

    schema = client.get("/openapi.json").json()
    script = "".join(client.get(f"/web/{name}").text for name in ("app.js", "compare.js", "zip.js"))
    used = set(re.findall(r"""(?:fetch\(|open\("POST", )[`"'](/[a-z]+)""", script))
    assert used == {"/healthz", "/samples", "/restore"}, used
    for route in used | {"/samples/{name}"}:
        assert route.split("?")[0] in schema["paths"], route
    ok = schema["paths"]["/restore"]["post"]["responses"]["200"]
    assert "image/png" in ok["content"] and "X-Artrestore-Info" in ok["headers"]
    assert {"413", "415", "422"} <= set(schema["paths"]["/restore"]["post"]["responses"])


def test_samples_listing_matches_the_sample_route(client):
    names = client.get("/samples").json()
    assert names == sorted(names) and "chelsea_severe.jpg" in names
    for name in names:
        r = client.get(f"/samples/{name}")
        assert r.status_code == 200 and decode_image(r.content).ndim == 3


def test_page_is_static_package_data_with_a_local_only_policy(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "http" not in policy  # nothing from another host
    assert (api.WEB_DIR / "index.html").read_text() == r.text
    assert '<script type="module" src="/web/app.js">' in r.text and 'href="/web/app.css"' in r.text
    for asset, kind in (("app.js", "javascript"), ("compare.js", "javascript"), ("zip.js", "javascript"),
                        ("app.css", "css")):
        a = client.get(f"/web/{asset}")
        assert a.status_code == 200 and kind in a.headers["content-type"], asset
        assert a.headers["cache-control"] == "no-cache"  # revalidated: never a stale script after an upgrade
    assert "http://" not in r.text and "https://" not in r.text
    for path in ("/web/../api.py", "/web/%2e%2e/api.py", "/web/nope.js"):
        assert client.get(path).status_code == 404, path


def test_restore_gives_back_the_uploads_alpha_and_grayness(client, astronaut):
    from artrestore.imageio import decode_image_file

    small = astronaut[::2, ::2].copy()
    alpha = np.tile(np.arange(small.shape[1], dtype=np.uint8), (small.shape[0], 1))
    for pixels, check in ((np.dstack([small, alpha]), lambda f: np.array_equal(f.alpha, alpha)),
                          (small[..., 1].copy(), lambda f: f.gray and f.alpha is None)):
        r = client.post("/restore", files={"image": ("a.png", encode_image(pixels, ".png"), "image/png")},
                        data={"strategy": "classical"})
        assert r.status_code == 200 and check(decode_image_file(r.content))


def test_the_deployment_can_ask_for_scratch_removal(monkeypatch, png):
    monkeypatch.setenv("ARTRESTORE_USE_DL", "0")
    monkeypatch.setenv("ARTRESTORE_SCRATCHES", "1.5")
    api.restorer.cache_clear()
    try:
        with TestClient(api.app) as c:
            r = c.post("/restore", files={"image": ("a.png", png, "image/png")}, data={"strategy": "none"},
                       params={"response": "json"})
        assert r.status_code == 200 and r.json()["info"]["scratches"]["sensitivity"] == 1.5
        monkeypatch.setenv("ARTRESTORE_SCRATCHES", "lots")
        api.restorer.cache_clear()
        with pytest.raises(ValueError, match="scratches must be a number"):
            api.restorer()
    finally:
        api.restorer.cache_clear()


def test_the_deployment_sets_how_auto_weighs_time(monkeypatch):
    monkeypatch.setenv("ARTRESTORE_USE_DL", "0")
    monkeypatch.setenv("ARTRESTORE_PREFER", "speed")
    monkeypatch.setenv("ARTRESTORE_TIME_BUDGET_S", "0.25")
    api.restorer.cache_clear()
    try:
        restorer = api.restorer()
        assert (restorer.prefer, restorer.time_budget_s) == ("speed", 0.25)
        for name, value, message in (("ARTRESTORE_TIME_BUDGET_S", "soon", "ARTRESTORE_TIME_BUDGET_S"),
                                     ("ARTRESTORE_TIME_BUDGET_S", "0", "time_budget_s"),
                                     ("ARTRESTORE_PREFER", "fastest", "prefer")):
            monkeypatch.setenv(name, value)
            api.restorer.cache_clear()
            with pytest.raises(ValueError, match=message):
                api.restorer()
            monkeypatch.delenv(name)
        api.restorer.cache_clear()
        assert (api.restorer().prefer, api.restorer().time_budget_s) == ("balanced", None)
    finally:
        api.restorer.cache_clear()
