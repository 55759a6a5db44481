"""Replay the fuzz corpus and a fixed batch of random inputs through the atheris harness: the core
must answer hostile arrays with TypeError/ValueError only (never a crash or another error)."""
import pathlib

import numpy as np
import pytest

pytest.importorskip("atheris", reason="the fuzz harness needs atheris (test extra)")
import sys  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent / "fuzz"))
from fuzz_core import one_input  # noqa: E402

CORPUS = pathlib.Path(__file__).parent / "fuzz" / "corpus"


def test_corpus_replays_cleanly():
    for path in sorted(CORPUS.glob("*")):
        if path.is_file() and not path.name.startswith("."):
            one_input(path.read_bytes())


def test_random_inputs():
    rng = np.random.default_rng(2024)
    for _ in range(3000):
        one_input(rng.integers(0, 256, int(rng.integers(0, 4000)), dtype=np.uint8).tobytes())
