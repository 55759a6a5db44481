"""Damage generation speed at 512 x 512, per severity: the broad model beside the legacy synthesizer and the check family.

Run: pytest benchmarks/test_damage_speed.py --benchmark-json=out/damage.json
then: python benchmarks/report.py out/damage.json
Each call draws a new seed, so a median covers many combinations of kinds (one core: conftest sets
OpenCV to one thread). The broad model is meant for on-the-fly training data: target < 100 ms.
"""
import itertools

import pytest

from artrestore.check_family import check_damage
from artrestore.training.broad_damage import broad_damage
from artrestore.training.synthesis import SEVERITIES, synthesize_damage


@pytest.mark.parametrize("severity", SEVERITIES)
def test_broad_damage_artrestore(benchmark, photo_at, severity):
    benchmark.group = f"damage 512x512 {severity}"
    image, seeds = photo_at(512), itertools.count()
    benchmark(lambda: broad_damage(image, severity, next(seeds)))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_legacy_synthesize_damage(benchmark, photo_at, severity):
    benchmark.group = f"damage 512x512 {severity}"
    image, seeds = photo_at(512), itertools.count()
    benchmark(lambda: synthesize_damage(image, severity, next(seeds)))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_check_damage(benchmark, photo_at, severity):
    benchmark.group = f"damage 512x512 {severity}"
    image, seeds = photo_at(512), itertools.count()
    benchmark(lambda: check_damage(image, severity, next(seeds)))
