"""The web API (FastAPI): image uploads in, restored PNG (or JSON) out.

Routes: ``POST /restore`` (multipart field ``image``, form field ``strategy``; ``?response=png``
returns the PNG with the info dict as JSON in the ``X-Artrestore-Info`` header, ``?response=json``
returns ``{"info": ..., "image_png_base64": ...}``), ``POST /analyze`` (features, severity,
method, parameters), ``GET /healthz`` (also the strategies and the decision thresholds), ``GET /``
(the restoration page: static files in ``artrestore/web/``, served under ``/web/``; docs/web.md),
``GET /samples`` and ``GET /samples/{name}`` (the bundled sample images), OpenAPI docs at ``/docs``.
Uploads above ``ARTRESTORE_MAX_UPLOAD_MB`` (default 20) get 413, other content types 415,
undecodable or oversized images 422; restoration runs in a worker thread, off the event loop.
Run: ``artrestore web`` or ``uvicorn artrestore.api:app``. Configuration by environment:
``ARTRESTORE_USE_DL`` (1/0), ``ARTRESTORE_DL_BACKEND`` (local or grpc://host:port), ``ARTRESTORE_SCRATCHES``
(the opt-in removal of long straight scratches before any path at this sensitivity; 0, the default: off),
``ARTRESTORE_DECISION`` (learned or rule), ``ARTRESTORE_PREFER`` (quality, balanced or speed) and
``ARTRESTORE_TIME_BUDGET_S`` (seconds; unset: none), how ``auto`` weighs time.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import pathlib
import re

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from artrestore import __version__
from artrestore._resources import SAMPLES
from artrestore.errors import DeepLearningUnavailable
from artrestore.imageio import decode_image_file, encode_image, output_pixels
from artrestore.strategies import DEFAULT_PREFERENCE, STRATEGIES

MAX_UPLOAD_BYTES = int(float(os.environ.get("ARTRESTORE_MAX_UPLOAD_MB", "20")) * 1024 * 1024)
ACCEPTED_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/bmp", "image/tiff", "image/webp",
                  "application/octet-stream"}

app = FastAPI(title="artrestore", version=__version__,
              description="Hybrid restoration of damaged artworks and old photographs.")


def _env_seconds(name: str) -> float | None:
    text = os.environ.get(name, "")
    try:
        return float(text) if text else None
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None


@functools.lru_cache(maxsize=1)
def restorer():
    from artrestore.restorer import HybridRestorer

    return HybridRestorer(use_dl=os.environ.get("ARTRESTORE_USE_DL", "1") != "0",
                          dl_backend=os.environ.get("ARTRESTORE_DL_BACKEND", "local"),
                          decision=os.environ.get("ARTRESTORE_DECISION", "learned"),  # or "rule" (issue 16)
                          scratches=os.environ.get("ARTRESTORE_SCRATCHES", "0"),
                          prefer=os.environ.get("ARTRESTORE_PREFER", DEFAULT_PREFERENCE),
                          time_budget_s=_env_seconds("ARTRESTORE_TIME_BUDGET_S"))


@app.middleware("http")
async def limit_body(request: Request, call_next):
    # Refuse oversized bodies from the declared length, before reading them.
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        return JSONResponse({"detail": f"upload larger than {MAX_UPLOAD_BYTES} bytes"}, status_code=413)
    return await call_next(request)


async def _read_upload(image: UploadFile):
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise HTTPException(415, f"unsupported content type {content_type!r}; send PNG, JPEG, BMP, TIFF or WebP")
    data = await image.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"upload larger than {MAX_UPLOAD_BYTES} bytes")
    name = re.sub(r"[^\w.\-]", "_", image.filename or "upload")[:100]
    try:
        return await run_in_threadpool(decode_image_file, data, name=name)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


# --- web page (issue 19): what the page relies on is documented here, in the OpenAPI schema ------
INFO_HEADER = "X-Artrestore-Info"
_ERROR = {"content": {"application/json": {"example": {"detail": "a.png: not a readable image (corrupt, "
                                                                 "truncated or unsupported format)"}}}}
RESTORE_RESPONSES = {
    200: {"description": f"``response=png`` (default): the restored image as PNG, the same size as the "
                         f"input, with the info dict (strategy, method, severity, damage_analysis, params, "
                         f"timings_ms per stage, fallback when the U-Net was not used) as compact JSON in "
                         f"the ``{INFO_HEADER}`` header. ``response=json``: "
                         f"``{{\"info\": ..., \"image_png_base64\": ...}}``.",
          "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                      "application/json": {"schema": {"type": "object", "properties": {
                          "info": {"type": "object"}, "image_png_base64": {"type": "string"}}}}},
          "headers": {INFO_HEADER: {"description": "the info dict as JSON (ASCII)", "schema": {"type": "string"}}}},
    413: {"description": "upload larger than ARTRESTORE_MAX_UPLOAD_MB; ``detail`` says the limit", **_ERROR},
    415: {"description": "content type not an image; ``detail`` names it", **_ERROR},
    422: {"description": "not a decodable image, too many pixels, or an unknown strategy; ``detail`` says "
                         "which (a string, or FastAPI's list of field errors)", **_ERROR},
    503: {"description": "the U-Net path was asked for, is unavailable, and the restorer is set to fail "
                         "rather than fall back", **_ERROR},
}
# --- end web page (issue 19) ---------------------------------------------------------------------


@app.post("/restore", summary="Restore an uploaded image", responses=RESTORE_RESPONSES,
          response_class=Response)
async def restore(image: UploadFile = File(..., description="the image file (PNG, JPEG, BMP, TIFF or WebP)"),
                  strategy: str = Form("auto", description="one of ``GET /healthz``'s ``strategies``; "
                                                           "``auto`` lets the router choose"),
                  response: str = Query("png", pattern="^(png|json)$",
                                        description="``png``: the image, info in a header; ``json``: both in JSON")):
    if strategy not in STRATEGIES:
        raise HTTPException(422, f"strategy must be one of {sorted(STRATEGIES)}")
    source = await _read_upload(image)
    try:
        restored, info = await run_in_threadpool(restorer().restore, source.rgb, strategy)
    except DeepLearningUnavailable as error:
        raise HTTPException(503, f"deep learning unavailable: {error}") from None
    # The upload's alpha and grayscale go back into the PNG, as the command line's files do.
    png = await run_in_threadpool(encode_image, output_pixels(restored, source, ".png"), ".png")
    if response == "json":
        return JSONResponse({"info": info, "image_png_base64": base64.b64encode(png).decode()})
    return Response(png, media_type="image/png",
                    headers={INFO_HEADER: json.dumps(info, ensure_ascii=True, separators=(",", ":"))})


@app.post("/analyze", summary="The 14 damage features and the route the restorer would take")
async def analyze(image: UploadFile = File(...)):
    source = await _read_upload(image)
    return await run_in_threadpool(restorer().analyze, source.rgb)


@app.get("/healthz", summary="Liveness and configuration")
def healthz():
    """``strategies``: the values ``POST /restore`` accepts (aliases left out); ``decision_thresholds``:
    the rule ``auto`` applies, each key ``<severity>_<feature>`` (severe / moderate when the feature
    passes it; ``high_freq_energy`` counts when below)."""
    r = restorer()
    return {"status": "ok", "version": __version__, "use_dl": r.use_dl, "dl_backend": r.dl_backend,
            "unet_loaded": r._dl is not None,
            "strategies": [name for name, method in STRATEGIES.items() if method in (None, name)],
            "decision_thresholds": dataclasses.asdict(r.engine.thresholds)}


def _sample_files() -> dict:
    return {p.name: p for p in sorted((SAMPLES / "damaged").glob("*.jpg"))}


@app.get("/samples", summary="Names of the bundled damaged sample images")
def samples() -> list[str]:
    return list(_sample_files())


@app.get("/samples/{name}", summary="One bundled sample image (JPEG)",
         responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such sample"}})
def sample(name: str):
    # Only names that exist in the bundled folder: no path can leave it.
    files = _sample_files()
    if name not in files:
        raise HTTPException(404, "no such sample")
    return FileResponse(files[name], media_type="image/jpeg")


# --- web page (issue 19) -------------------------------------------------------------------------
WEB_DIR = pathlib.Path(__file__).resolve().parent / "web"  # package data: index.html, *.js, app.css
# The page loads nothing from elsewhere (the machine may be offline); the policy makes sure of it.
PAGE_CSP = ("default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
            "connect-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class _PageFiles(StaticFiles):
    """The page's scripts and styles, revalidated on every load (ETag: a 304 when unchanged), so an
    upgraded server never runs with yesterday's script from the browser's cache."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


app.mount("/web", _PageFiles(directory=WEB_DIR), name="web")


@app.get("/", include_in_schema=False)
def page():
    return FileResponse(WEB_DIR / "index.html", media_type="text/html",
                        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})
# --- end web page (issue 19) ---------------------------------------------------------------------
