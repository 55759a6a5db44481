"""``artrestore web``: the FastAPI app under uvicorn."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("web", help="run the FastAPI web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore._optional import require

    require("uvicorn").run("artrestore.api:app", host=args.host, port=args.port, workers=1)
    return 0
