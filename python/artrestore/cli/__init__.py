"""The ``artrestore`` command line: one module per command (``cli/<command>.py``) and per
``train`` step (``cli/train/<step>.py``), each with ``register(subparsers)`` adding its parser and
handler. Add a command by writing such a module and naming it in ``app.COMMANDS`` (or
``train.STEPS``). Exit status: 0 when everything asked for succeeded, 1 when some inputs failed
(each reported), 2 for usage errors, bad input and missing optional dependencies (one line with
the install hint). Heavy modules are imported inside handlers, so ``artrestore --help`` and
classical restores never import TensorFlow.
"""
from artrestore.cli.app import build_parser, main

__all__ = ["main", "build_parser"]
