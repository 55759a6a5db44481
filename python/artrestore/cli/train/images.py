"""``artrestore train images``: photographs and paintings from Debian packages (training only),
with package, file and licence per image (``training.collect_images``)."""
from __future__ import annotations


def register(steps) -> None:
    from artrestore.training.collect_images import register as register_images

    register_images(steps)
