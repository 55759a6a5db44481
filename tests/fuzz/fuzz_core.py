"""atheris harness over the compiled core's entry points (through the Python layer and raw).

Random shapes (0-70 px, 0-5 channels), dtypes, strides, values (NaN/inf included) and
parameters. The only acceptable failures are TypeError and ValueError; anything else, or a
crash, is a bug. Run: python tests/fuzz/fuzz_core.py -max_total_time=60 tests/fuzz/corpus
(CI runs it for a bounded time; tests/test_fuzz.py replays the corpus as a regression test).
"""
import sys

import atheris
import numpy as np

with atheris.instrument_imports():
    import artrestore
    from artrestore import _core, classical

DTYPES = [np.uint8, np.float32, np.float64, np.int32, np.uint16, np.bool_]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    h, w = fdp.ConsumeIntInRange(0, 70), fdp.ConsumeIntInRange(0, 70)
    channels = fdp.ConsumeIntInRange(0, 5)
    dtype = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
    shape = (h, w) if channels == 0 else (h, w, channels)
    raw = fdp.ConsumeBytes(int(np.prod(shape)) * np.dtype(dtype).itemsize)
    values = np.frombuffer(raw.ljust(int(np.prod(shape)) * np.dtype(dtype).itemsize, b"\0"), dtype=dtype)
    image = values.reshape(shape).copy()
    if fdp.ConsumeBool() and h > 1:
        image = image[::2]  # a strided view
    if fdp.ConsumeBool() and image.ndim == 3:
        image = image[:, ::-1]
    sigma = fdp.ConsumeFloat()
    strength = fdp.ConsumeFloat()
    threshold = fdp.ConsumeFloat()
    action = fdp.ConsumeIntInRange(0, 6)
    try:
        if action == 0:
            artrestore.analyze(image)
        elif action == 1:
            classical.unsharp_mask(image, sigma, strength, threshold)
        elif action == 2:
            classical.color_correct_sharpen(image, fdp.ConsumeBool(), sigma, strength, threshold,
                                            clip_percent=fdp.ConsumeFloat())
        elif action == 3:
            classical.color_correct(image)
        elif action == 4:
            _core.analyze(image)  # the raw binding: no conversions in front of it
        elif action == 5:
            _core.color_transform_sharpen(image, [sigma] * 3, [strength] * 3, abs(sigma) % 5 + 0.1, 1.0, 0.0)
        else:  # the raw line filter: any luma, any lengths and thresholds (NaN included)
            _core.line_flags(image, fdp.ConsumeIntInRange(-3, 50), fdp.ConsumeIntInRange(-3, 20),
                             fdp.ConsumeIntInRange(-1, 40), sigma, threshold)
    except (TypeError, ValueError):
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
