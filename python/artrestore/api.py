"""The web API (FastAPI): image uploads in, restored PNG (or JSON) out.

Routes: ``POST /restore`` (multipart field ``image``, form field ``strategy``; ``?response=png``
returns the PNG with the info dict as JSON in the ``X-Artrestore-Info`` header, ``?response=json``
returns ``{"info": ..., "image_png_base64": ...}``), ``POST /analyze`` (features, severity,
method, parameters), ``GET /healthz``, ``GET /`` (an upload page showing before / after side by
side), ``GET /samples/{name}`` (the bundled sample images), OpenAPI docs at ``/docs``.
Uploads above ``ARTRESTORE_MAX_UPLOAD_MB`` (default 20) get 413, other content types 415,
undecodable or oversized images 422; restoration runs in a worker thread, off the event loop.
Run: ``artrestore web`` or ``uvicorn artrestore.api:app``. Configuration by environment:
``ARTRESTORE_USE_DL`` (1/0), ``ARTRESTORE_DL_BACKEND`` (local or grpc://host:port).
"""
from __future__ import annotations

import base64
import functools
import json
import os
import re

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from artrestore import __version__
from artrestore._resources import SAMPLES
from artrestore.errors import DeepLearningUnavailable
from artrestore.imageio import decode_image, encode_image
from artrestore.strategies import STRATEGIES

MAX_UPLOAD_BYTES = int(float(os.environ.get("ARTRESTORE_MAX_UPLOAD_MB", "20")) * 1024 * 1024)
ACCEPTED_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/bmp", "image/tiff", "image/webp",
                  "application/octet-stream"}

app = FastAPI(title="artrestore", version=__version__,
              description="Hybrid restoration of damaged artworks and old photographs.")


@functools.lru_cache(maxsize=1)
def restorer():
    from artrestore.restorer import HybridRestorer

    return HybridRestorer(use_dl=os.environ.get("ARTRESTORE_USE_DL", "1") != "0",
                          dl_backend=os.environ.get("ARTRESTORE_DL_BACKEND", "local"))


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
        return await run_in_threadpool(decode_image, data, name=name)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


@app.post("/restore", summary="Restore an uploaded image")
async def restore(image: UploadFile = File(...), strategy: str = Form("auto"),
                  response: str = Query("png", pattern="^(png|json)$")):
    if strategy not in STRATEGIES:
        raise HTTPException(422, f"strategy must be one of {sorted(STRATEGIES)}")
    rgb = await _read_upload(image)
    try:
        restored, info = await run_in_threadpool(restorer().restore, rgb, strategy)
    except DeepLearningUnavailable as error:
        raise HTTPException(503, f"deep learning unavailable: {error}") from None
    png = await run_in_threadpool(encode_image, restored, ".png")
    if response == "json":
        return {"info": info, "image_png_base64": base64.b64encode(png).decode()}
    return Response(png, media_type="image/png",
                    headers={"X-Artrestore-Info": json.dumps(info, ensure_ascii=True, separators=(",", ":"))})


@app.post("/analyze", summary="The 14 damage features and the route the restorer would take")
async def analyze(image: UploadFile = File(...)):
    rgb = await _read_upload(image)
    return await run_in_threadpool(restorer().analyze, rgb)


@app.get("/healthz", summary="Liveness and configuration")
def healthz():
    r = restorer()
    return {"status": "ok", "version": __version__, "use_dl": r.use_dl, "dl_backend": r.dl_backend,
            "unet_loaded": r._dl is not None}


@app.get("/samples/{name}", include_in_schema=False)
def sample(name: str):
    # Only names that exist in the bundled folder: no path can leave it.
    files = {p.name: p for p in (SAMPLES / "damaged").glob("*.jpg")}
    if name not in files:
        raise HTTPException(404, "no such sample")
    return FileResponse(files[name], media_type="image/jpeg")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>artrestore</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
 .pair { display: flex; gap: 16px; margin-top: 16px; }
 figure { margin: 0; flex: 1; background: #fff; padding: 8px; border: 1px solid #ddd; }
 img { width: 100%; height: auto; display: block; min-height: 40px; }
 #info { margin-top: 12px; font-family: monospace; }
</style></head>
<body>
<h1>artrestore</h1>
<form id="form">
 <input type="file" id="file" name="image" accept="image/*">
 <select id="strategy"><option>auto</option><option>classical</option><option>ml_guided</option><option>dl</option></select>
 <button type="submit">Restore</button>
</form>
<div class="pair">
 <figure><figcaption>before</figcaption><img id="before" alt="before"></figure>
 <figure><figcaption>after</figcaption><img id="after" alt="after"></figure>
</div>
<div id="info">Choose an image.</div>
<script>
async function run(blob, name) {
  document.getElementById("before").src = URL.createObjectURL(blob);
  document.getElementById("info").textContent = "restoring...";
  const body = new FormData();
  body.append("image", blob, name);
  body.append("strategy", document.getElementById("strategy").value);
  const r = await fetch("/restore?response=json", {method: "POST", body});
  const j = await r.json();
  if (!r.ok) { document.getElementById("info").textContent = "error: " + j.detail; return; }
  document.getElementById("after").src = "data:image/png;base64," + j.image_png_base64;
  const i = j.info;
  document.getElementById("info").textContent =
    `method: ${i.method} | severity: ${i.severity} | ${i.timings_ms.total.toFixed(1)} ms` +
    (i.fallback ? ` | fallback: ${i.fallback.reason}` : "");
}
document.getElementById("form").addEventListener("submit", e => {
  e.preventDefault();
  const f = document.getElementById("file").files[0];
  if (f) run(f, f.name);
});
const sample = new URLSearchParams(location.search).get("sample");
if (sample) fetch("/samples/" + encodeURIComponent(sample)).then(r => r.blob()).then(b => run(b, sample));
</script>
</body></html>
"""


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def page():
    return PAGE
