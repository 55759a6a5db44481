"""The shared argument check for strengths, sensitivities and tolerances: a finite number >= 0 comes
back as a float; anything else is a ValueError that names the argument."""
import numpy as np
import pytest

from artrestore._validate import non_negative


@pytest.mark.parametrize("value", [0, 0.0, 1, 2.5, np.float32(0.25), "1.5"])
def test_a_finite_non_negative_number_comes_back_as_a_float(value):
    out = non_negative(value, "strength")
    assert isinstance(out, float) and out == float(value)


@pytest.mark.parametrize("value, message", [(-1, "a finite number >= 0"), (float("nan"), "a finite number >= 0"),
                                            (float("inf"), "a finite number >= 0"), ("lots", "a number >= 0"),
                                            (None, "a number >= 0"), ([1, 2], "a number >= 0")])
def test_anything_else_is_named(value, message):
    with pytest.raises(ValueError, match=f"sensitivity must be {message}"):
        non_negative(value, "sensitivity")
