"""``artrestore serve``: the local TF-Serving stand-in (gRPC PredictionService)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the local TF-Serving stand-in (gRPC PredictionService)")
    p.add_argument("--model-dir", required=True, help="model base path with <name>/<version>/saved_model.pb")
    p.add_argument("--port", type=int, default=8500)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--batch-timeout-ms", type=float, default=2.0)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.serving.standin import serve_forever

    serve_forever(args.model_dir, port=args.port, host=args.host, max_batch=args.max_batch,
                  batch_timeout_ms=args.batch_timeout_ms, on_ready=lambda line: print(line, flush=True))
    return 0
